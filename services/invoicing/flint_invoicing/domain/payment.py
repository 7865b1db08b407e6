"""Which payment an attempt to pay an invoice is: its id, derived from the invoice and the
attempt's number, never drawn at random.

The payment id is also the processor's idempotency key. A request that dies after the card was
charged but before the invoice was stored (a crash, a lost database, a lost answer) leaves the
attempt's number where it was, so the next try of the buyer computes the same id, the
processor answers with the charge it already made, and nothing is charged twice. Only an
attempt whose outcome is known and stored (a declined card) moves the number on.
"""

from __future__ import annotations

import hashlib

from ulid import ULID

from flint_invoicing.domain.invoice import Invoice


def payment_id_for(invoice: Invoice, attempt: int) -> str:
    """``pay_<ULID>`` of the invoice's ``attempt``-th payment attempt (1, 2, …): the time part is
    the invoice's creation, the rest a hash of the invoice id and the attempt, so ids stay
    well-formed, sortable and unique, and the same attempt always gets the same id."""
    if attempt < 1:
        raise ValueError("payment attempts are numbered from 1")
    milliseconds = int(invoice.created_at.timestamp() * 1000)
    digest = hashlib.sha256(f"{invoice.id}:payment-attempt:{attempt}".encode()).digest()
    return f"pay_{ULID.from_bytes(milliseconds.to_bytes(6, 'big') + digest[:10])}"
