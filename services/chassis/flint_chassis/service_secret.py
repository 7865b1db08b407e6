"""The service's own secret (``FLINT_<SERVICE>_SECRET``) and the keys derived from it.

``ServiceSecret`` derives independent keys with HKDF: one encrypts data at rest
(AES-256-GCM: stored idempotent responses that hold secrets, installs' signing keys), one
signs what the service hands out and reads back (HMAC-SHA256: list cursors, installs'
cookies and CSRF tokens). Every replica of a service needs the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_LENGTH = 32


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Raises ValueError (binascii.Error) for text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_env_name(service: str) -> str:
    return f"FLINT_{service.upper()}_SECRET"


def require_secret(value: str | None, *, service: str) -> ServiceSecret:
    """The service's ``ServiceSecret``, or a one-line ``StartupError`` naming the setting."""
    from flint_chassis.errors import StartupError

    if not value or len(value) < MIN_SECRET_LENGTH:
        raise StartupError(f"{secret_env_name(service)} must be set to at least {MIN_SECRET_LENGTH} random "
                           "characters (`make up` generates one into .flint/secrets/)")
    return ServiceSecret(value, service=service)


class ServiceSecret:
    """Keys derived from one service's secret, each for one purpose."""

    def __init__(self, secret: str, *, service: str) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{secret_env_name(service)} must be at least {MIN_SECRET_LENGTH} characters")
        # The labels name the service, so two services given the same secret still derive
        # different keys (and installs keeps reading what it encrypted before the move here).
        self._aead = AESGCM(self._derive(secret, f"flint-{service} at-rest encryption".encode()))
        self._mac_key = self._derive(secret, f"flint-{service} browser signatures".encode())

    @staticmethod
    def _derive(secret: str, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """``nonce || ciphertext``; ``context`` is bound to it and must match on decryption."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, sealed: bytes, *, context: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)

    @property
    def signing_key(self) -> bytes:
        """The key for signatures made with a library (installs' cookies, with itsdangerous)."""
        return self._mac_key

    def sign(self, purpose: str, message: str) -> str:
        mac = hmac.new(self._mac_key, f"{purpose}\n{message}".encode(), hashlib.sha256).digest()
        return b64url(mac)

    def verify(self, purpose: str, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, message), signature)
