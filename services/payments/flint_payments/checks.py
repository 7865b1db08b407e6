"""What the sandbox refuses before it touches its ledger: calls it could not store or compare."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from flint_contracts.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from flint_contracts.money import Money
from flint_contracts.text import text_problem
from flint_payments.errors import InvalidRequest

MAX_DESCRIPTION_LENGTH = 500
MAX_METADATA_ENTRIES = 20
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


def check_positive(amount: Money) -> None:
    if amount.amount <= 0:
        raise InvalidRequest(f"The amount must be more than zero, got {amount}.")


def checked_call(key: str, metadata: Mapping[str, str] | None, description: str | None = None) -> dict[str, str]:
    """Refuse what the ledger could not store: a bad key, unsafe or oversized text."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or text_problem(key):
        raise InvalidRequest(f"The idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters of plain text.")
    if description is not None and (len(description) > MAX_DESCRIPTION_LENGTH or text_problem(description)):
        raise InvalidRequest(f"The description must be at most {MAX_DESCRIPTION_LENGTH} characters of plain text.")
    metadata = dict(metadata or {})
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise InvalidRequest(f"At most {MAX_METADATA_ENTRIES} metadata entries.")
    for name, value in metadata.items():
        if not (isinstance(name, str) and isinstance(value, str)) or text_problem(name) or text_problem(value) \
                or not 1 <= len(name) <= MAX_METADATA_KEY_LENGTH or len(value) > MAX_METADATA_VALUE_LENGTH:
            raise InvalidRequest(
                f"Metadata keys are 1 to {MAX_METADATA_KEY_LENGTH} characters and values at most "
                f"{MAX_METADATA_VALUE_LENGTH}, plain text."
            )
    return metadata


def fingerprint_of(**arguments: Any) -> str:
    """A hash of a call's arguments: a key reused with other arguments is refused, and no card
    number is stored in the clear."""
    return hashlib.sha256(json.dumps(arguments, sort_keys=True).encode()).hexdigest()
