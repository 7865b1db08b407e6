"""One run of the CLI: the profile it reads and writes, and where each setting comes from.

A setting is taken from the first place that has it: the command's option, the environment
(``FLINT_INSTALLS_URL``, ``FLINT_ADMIN_KEY``, ``FLINT_KAFKA_PLUGIN_BOOTSTRAP``,
``FLINT_KAFKA_PASSWORD`` ...), the profile, then the stack's ``stack.env``.
"""

from __future__ import annotations

import os
from functools import cached_property

from flint_cli import locations
from flint_cli.failures import CliError
from flint_cli.profile import Profile, ProfileStore, StoredApp, StoredMerchant, StoredTokens
from flint_sdk import ClientOptions, FlintClient, RetryPolicy, TokenSet

# A person waits at the terminal: retry once, quickly, then say what is wrong.
CLIENT_OPTIONS = ClientOptions(timeout=10.0, retry=RetryPolicy(max_attempts=2, backoff=0.2, max_backoff=1.0))


class Session:
    def __init__(self, profile_name: str) -> None:
        self.store = ProfileStore(locations.profile_home(), profile_name)
        self.profile: Profile = self.store.load()

    def save(self) -> None:
        self.store.save(self.profile)

    @cached_property
    def stack_env(self) -> dict[str, str]:
        return locations.read_stack_env()

    def setting(self, name: str, option: str | None = None, stored: str | None = None) -> str | None:
        """``option``, else ``$name``, else the profile's value, else ``stack.env``'s."""
        return option or os.environ.get(name) or stored or self.stack_env.get(name) or None

    # --- the stack ----------------------------------------------------------------------------------

    def installs_url(self) -> str:
        url = self.setting("FLINT_INSTALLS_URL", stored=self.profile.installs_url)
        if not url:
            raise CliError("no Flint stack known: start one with `flint dev up` (in a checkout), "
                           "or set FLINT_INSTALLS_URL")
        return url.rstrip("/")

    def admin_key(self) -> str:
        key = self.setting("FLINT_ADMIN_KEY")
        if not key:
            raise CliError("no admin key: run inside the checkout whose stack is up (`flint dev up` writes "
                           ".flint/stack.env), or set FLINT_ADMIN_KEY")
        return key

    def remember_stack(self) -> None:
        """Keep the installs URL in the profile, so it works from any folder later."""
        self.profile.installs_url = self.installs_url()

    # --- what the profile must hold -----------------------------------------------------------------

    def app(self) -> StoredApp:
        if self.profile.app is None:
            raise CliError(f"profile {self.store.name!r} has no app: run `flint apps create NAME` first")
        return self.profile.app

    def merchant(self) -> StoredMerchant:
        if self.profile.merchant is None:
            raise CliError(f"profile {self.store.name!r} has no merchant: run `flint merchants create NAME` first")
        return self.profile.merchant

    def tokens(self) -> TokenSet:
        app = self.app()
        if self.profile.tokens is None:
            raise CliError(f"app {app.id} is not installed in profile {self.store.name!r}: run `flint install`")
        return self.profile.tokens.token_set()

    # --- clients ------------------------------------------------------------------------------------

    def app_client(self) -> FlintClient:
        """The installed app's client; every rotated refresh token is saved to the profile at once.

        Flint treats a refresh token used twice as stolen and revokes the install, so two
        ``flint`` commands renewing at once would break it: the first to get here holds the
        profile's lock until it exits, and every one reads the tokens again once it has it.
        """
        self.store.lock()
        self.profile = self.store.load()
        app, tokens = self.app(), self.tokens()

        def keep(new: TokenSet) -> None:
            self.profile.tokens = StoredTokens.of(new)
            self.save()

        return FlintClient.for_app(self.installs_url(), app.id, app.client_secret, tokens=tokens, on_tokens=keep,
                                   options=CLIENT_OPTIONS)

    def merchant_client(self) -> FlintClient:
        merchant = self.merchant()
        return FlintClient.for_merchant(self.installs_url(), merchant.id, merchant.secret_key, options=CLIENT_OPTIONS)

    def client_as(self, who: str) -> FlintClient:
        return self.merchant_client() if who == "merchant" else self.app_client()
