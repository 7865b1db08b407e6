"""A profile: what the CLI has learned about one stack and one app, kept in a JSON file.

``<profile home>/<name>.json`` (:mod:`flint_cli.locations`; ``--profile``/``$FLINT_PROFILE``
picks the name, ``default`` unless told) holds the installs URL it was made against, the test
merchant (id and secret key), the app (client id and secret, redirect URI, scopes), the
install's tokens, the app's Kafka credential and the ``flint listen`` signing secret. They
are secrets: the folder is made ``0700`` and the file ``0600``, written whole to a temporary
file and renamed, so a crash never leaves half a profile (and a rotated refresh token is
never lost: Flint rotates it on every use).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict, ValidationError

from flint_cli.failures import CliError
from flint_sdk import TokenSet

DEFAULT = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StoredMerchant(_Stored):
    id: str
    name: str
    secret_key: str


class StoredApp(_Stored):
    id: str
    name: str
    client_secret: str
    redirect_uri: str
    scopes: list[str]


class StoredInstall(_Stored):
    id: str
    merchant_id: str
    scopes: list[str]


class StoredTokens(_Stored):
    access_token: str
    expires_at: float | None = None
    refresh_token: str
    scope: str | None = None

    @classmethod
    def of(cls, tokens: TokenSet) -> StoredTokens:
        if not tokens.refresh_token:
            raise CliError("Flint answered the install without a refresh token")
        return cls(access_token=tokens.access_token, expires_at=tokens.expires_at,
                   refresh_token=tokens.refresh_token, scope=tokens.scope)

    def token_set(self) -> TokenSet:
        return TokenSet(self.access_token, self.expires_at, self.refresh_token, self.scope)


class StoredKafka(_Stored):
    bootstrap: str | None = None
    password: str | None = None


class Profile(_Stored):
    installs_url: str | None = None
    merchant: StoredMerchant | None = None
    app: StoredApp | None = None
    install: StoredInstall | None = None
    tokens: StoredTokens | None = None
    kafka: StoredKafka = StoredKafka()
    webhook_secret: str | None = None
    updated_at: float | None = None


class ProfileStore:
    """Loads and saves one named profile."""

    def __init__(self, home: Path, name: str = DEFAULT) -> None:
        if not _NAME.match(name):
            raise CliError(f"a profile name is 1 to 64 of A-Z a-z 0-9 _ -, not {name!r}")
        self.name, self.path = name, home / f"{name}.json"
        self._lock: IO[str] | None = None

    def lock(self) -> None:
        """Waits for, then holds until the process ends, an exclusive lock on this profile."""
        if self._lock is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = open(self.path.with_suffix(".lock"), "a")  # noqa: SIM115 - held until exit
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> Profile:
        """The profile; an empty one when the file does not exist yet."""
        if not self.path.exists():
            return Profile()
        try:
            return Profile.model_validate(json.loads(self.path.read_text()))
        except (OSError, ValueError, ValidationError) as error:
            reason = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
            raise CliError(f"profile {self.path} cannot be read ({reason}); fix or delete it") from None

    def save(self, profile: Profile) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        profile.updated_at = time.time()
        data = profile.model_dump_json(indent=2, exclude_none=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(data + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
