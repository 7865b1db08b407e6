"""The sandbox ledger's SQL and row mapping: charges, refunds and idempotency keys."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import asyncpg
from ulid import ULID

from flint_contracts.money import Money
from flint_payments.errors import PaymentError
from flint_payments.processor import CardSummary, Charge, ChargeRefund

PROCESSOR_NAME = "sandbox"
_REFERENCE = re.compile(r"^sbx_(ch|re)_[0-9A-HJKMNP-TV-Z]{26}$")

_CLAIM_KEY = """
INSERT INTO sandbox_idempotency_keys (key, operation, fingerprint) VALUES ($1, $2, $3)
ON CONFLICT (key) DO NOTHING
RETURNING key
"""
_STORED_OUTCOME = """
SELECT operation, fingerprint, charge_reference, refund_reference, error_code, error_message, error_detail
FROM sandbox_idempotency_keys WHERE key = $1
"""
_RECORD_OUTCOME = """
UPDATE sandbox_idempotency_keys
SET charge_reference = $2, refund_reference = $3, error_code = $4, error_message = $5, error_detail = $6::jsonb
WHERE key = $1
"""
_INSERT_CHARGE = """
INSERT INTO sandbox_charges (reference, amount, currency, card, description, metadata)
VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb)
"""
_CHARGE = "SELECT * FROM sandbox_charges WHERE reference = $1"
# The per-charge row lock: refunds of one charge run one after another, so the check of what
# is left and the update that takes it can never interleave.
_LOCK_CHARGE = "SELECT * FROM sandbox_charges WHERE reference = $1 FOR UPDATE"
_REFUNDS_OF = "SELECT * FROM sandbox_refunds WHERE charge_reference = $1 ORDER BY created_at, reference"
_REFUND = "SELECT * FROM sandbox_refunds WHERE reference = $1"
_INSERT_REFUND = """
INSERT INTO sandbox_refunds (reference, charge_reference, amount, currency, metadata)
VALUES ($1, $2, $3, $4, $5::jsonb)
"""
_TAKE_REFUNDED = "UPDATE sandbox_charges SET amount_refunded = amount_refunded + $2 WHERE reference = $1"


def new_reference(kind: str) -> str:
    """``sbx_ch_<ulid>`` for a charge, ``sbx_re_<ulid>`` for a refund."""
    return f"sbx_{kind}_{ULID()}"


def is_reference(value: str, kind: str) -> bool:
    match = _REFERENCE.match(value)
    return bool(match) and match.group(1) == kind


async def claim_key(conn: asyncpg.Connection, key: str, operation: str, fingerprint: str) -> bool:
    """True when this call is the first with ``key``. A concurrent first call holds the row
    until it commits or rolls back; this waits for it."""
    return await conn.fetchval(_CLAIM_KEY, key, operation, fingerprint) is not None


async def stored_outcome(conn: asyncpg.Connection, key: str) -> asyncpg.Record:
    return await conn.fetchrow(_STORED_OUTCOME, key)


async def record_charge(conn: asyncpg.Connection, key: str, reference: str) -> None:
    await conn.execute(_RECORD_OUTCOME, key, reference, None, None, None, None)


async def record_refund(conn: asyncpg.Connection, key: str, reference: str) -> None:
    await conn.execute(_RECORD_OUTCOME, key, None, reference, None, None, None)


async def record_error(conn: asyncpg.Connection, key: str, error: PaymentError) -> None:
    await conn.execute(_RECORD_OUTCOME, key, None, None, error.code, error.message, json.dumps(error.detail()))


async def insert_charge(
    conn: asyncpg.Connection, reference: str, amount: Money, card: CardSummary,
    description: str | None, metadata: Mapping[str, str],
) -> None:
    await conn.execute(
        _INSERT_CHARGE, reference, amount.amount, amount.currency, card.model_dump_json(), description,
        json.dumps(dict(metadata)),
    )


async def lock_charge(conn: asyncpg.Connection, reference: str) -> asyncpg.Record | None:
    return await conn.fetchrow(_LOCK_CHARGE, reference)


async def insert_refund(
    conn: asyncpg.Connection, reference: str, charge_reference: str, amount: Money, metadata: Mapping[str, str]
) -> None:
    await conn.execute(_INSERT_REFUND, reference, charge_reference, amount.amount, amount.currency,
                       json.dumps(dict(metadata)))
    await conn.execute(_TAKE_REFUNDED, charge_reference, amount.amount)


async def load_charge(conn: asyncpg.Connection, reference: str) -> Charge | None:
    row = await conn.fetchrow(_CHARGE, reference)
    if row is None:
        return None
    refunds = [_refund(r) for r in await conn.fetch(_REFUNDS_OF, reference)]
    return charge_of(row, refunds)


async def load_refund(conn: asyncpg.Connection, reference: str) -> ChargeRefund:
    return _refund(await conn.fetchrow(_REFUND, reference))


def charge_of(row: Mapping[str, Any], refunds: list[ChargeRefund]) -> Charge:
    currency = row["currency"]
    return Charge(
        reference=row["reference"],
        processor=PROCESSOR_NAME,
        amount=Money(amount=row["amount"], currency=currency),
        amount_refunded=Money(amount=row["amount_refunded"], currency=currency),
        card=CardSummary.model_validate_json(row["card"]),
        description=row["description"],
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
        refunds=refunds,
    )


def _refund(row: Mapping[str, Any]) -> ChargeRefund:
    return ChargeRefund(
        reference=row["reference"],
        charge_reference=row["charge_reference"],
        amount=Money(amount=row["amount"], currency=row["currency"]),
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
    )
