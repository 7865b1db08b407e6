"""Contract-valid events of the types the router delivers, as their producing services would
publish them (refunds and invoicing, for the tests where those services do not run)."""

from __future__ import annotations

from datetime import UTC, datetime

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import build_envelope
from flint_contracts.ids import new_id
from tests.contracts import contract_samples as make

_REFUND_FIELDS = {
    types.REFUND_CREATED: {"status": "pending"},
    types.REFUND_SUCCEEDED: {"status": "succeeded", "processor_reference": "sbx_re_1"},
    types.REFUND_FAILED: {"status": "failed", "failure_reason": "card_expired"},
}
_INVOICE_FIELDS = {
    types.INVOICE_CREATED: {"status": "open"},
    types.INVOICE_SENT: {"status": "open"},
    types.INVOICE_REMINDER_SENT: {"status": "open", "reminder_number": 1},
    types.INVOICE_OVERDUE: {"status": "open", "overdue": True},
    types.INVOICE_VOIDED: {"status": "void"},
}


def now() -> datetime:
    return datetime.now(UTC)


def order_event(type_: str = types.ORDER_CREATED, *, merchant_id: str, order_id: str | None = None,
                version: int = 1, time: datetime | None = None) -> EventEnvelope:
    record = make.order(merchant_id=merchant_id, id=order_id or new_id("ord"), version=version)
    data = make.order_event(type_, order=record)
    return build_envelope(type_, data, source="flint.orders", time=time or now(), sequence=version, version=version)


def refund_event(type_: str = types.REFUND_CREATED, *, merchant_id: str, order_id: str | None = None,
                 refund_id: str | None = None, time: datetime | None = None) -> EventEnvelope:
    data = make.refund(order_id=order_id or new_id("ord"), refund_id=refund_id or new_id("rfd"),
                       **_REFUND_FIELDS[type_])
    return build_envelope(type_, data, source="flint.refunds", merchant_id=merchant_id, time=time or now())


def invoice_event(type_: str = types.INVOICE_CREATED, *, merchant_id: str, order_id: str | None = None,
                  invoice_id: str | None = None, time: datetime | None = None) -> EventEnvelope:
    data = make.invoice(order_id=order_id or new_id("ord"), invoice_id=invoice_id or new_id("inv"), number=1,
                        **_INVOICE_FIELDS[type_])
    return build_envelope(type_, data, source="flint.invoicing", merchant_id=merchant_id, time=time or now())
