"""flint_installs: merchants, partner apps, OAuth 2.0 installs with PKCE, and the only token
issuer of Flint. See docs/installs.md."""
