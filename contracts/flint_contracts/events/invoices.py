"""Invoices for what is still owed on an order (``flint.invoices.events.v1``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, model_validator

from flint_contracts import event_types as types
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import EventData, same_currency
from flint_contracts.fields import InvoiceId, NonNegativeMoney, OrderId, PaymentId, example_id
from flint_contracts.limits import MAX_INVOICE_NUMBER, MAX_MEMO_LENGTH
from flint_contracts.literals import InvoiceStatus
from flint_contracts.text import SafeStr

Memo = Annotated[SafeStr, StringConstraints(min_length=1, max_length=MAX_MEMO_LENGTH)]

# The statuses an invoice may have when each event is emitted.
_STATUSES_OF_TYPE: dict[str, frozenset[str]] = {
    types.INVOICE_CREATED: frozenset({"draft", "open"}),
    types.INVOICE_SENT: frozenset({"open"}),
    types.INVOICE_REMINDER_SENT: frozenset({"open"}),
    types.INVOICE_OVERDUE: frozenset({"open"}),
    types.INVOICE_PAID: frozenset({"paid"}),
    types.INVOICE_VOIDED: frozenset({"void"}),
    types.INVOICE_MARKED_UNCOLLECTIBLE: frozenset({"uncollectible"}),
}


class InvoiceData(EventData):
    """Every ``invoice.*`` event: the invoice as it stands after the change (the envelope's
    ``time`` says when)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": example_id("inv"),
                    "order_id": example_id("ord"),
                    "number": 42,
                    "status": "open",
                    "overdue": False,
                    "amount_due": {"amount": 4200, "currency": "EUR"},
                    "amount_paid": {"amount": 0, "currency": "EUR"},
                    "due_date": "2026-12-11",
                    "hosted_url": "https://pay.flint.example/pay/3kq9wZ0x",
                    "payment_id": None,
                    "reminder_number": None,
                    "memo": "Thank you for your order.",
                    "actor": {"type": "app", "id": example_id("app")},
                }
            ]
        }
    )
    subject_field = "order_id"

    invoice_id: InvoiceId = Field(description="The invoice.", examples=[example_id("inv")])
    order_id: OrderId = Field(description="The order it collects for.", examples=[example_id("ord")])
    number: StrictInt | None = Field(
        default=None, ge=1, le=MAX_INVOICE_NUMBER,
        description="The invoice's number, unique per merchant; printed on the invoice. Every invoice the "
        "invoicing service publishes has one.", examples=[42],
    )
    status: InvoiceStatus = Field(description="Where the invoice stands.", examples=["open"])
    overdue: bool = Field(default=False, description="True once an open invoice passed its due date.", examples=[False])
    amount_due: NonNegativeMoney = Field(
        description="What the invoice asks for.", examples=[{"amount": 4200, "currency": "EUR"}]
    )
    amount_paid: NonNegativeMoney = Field(
        description="What has been paid on it so far.", examples=[{"amount": 0, "currency": "EUR"}]
    )
    due_date: date = Field(description="The day payment is due.", examples=["2026-12-11"])
    hosted_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="The hosted page where the buyer pays. Set on the events that hand out a link "
        "(invoice.created, invoice.sent, invoice.reminder_sent; each message gets a link of its own); "
        "null on the others, where the links already given stay valid.",
        examples=["https://pay.flint.example/pay/3kq9wZ0x"],
    )
    payment_id: PaymentId | None = Field(
        default=None, description="The payment that paid it; set when paid.", examples=[example_id("pay")]
    )
    reminder_number: StrictInt | None = Field(
        default=None, ge=1, description="Which reminder this is (1 for the first); on reminder_sent.", examples=[1]
    )

    memo: Memo | None = Field(
        default=None, description="The merchant's note to the buyer, as printed on the invoice.",
        examples=["Thank you for your order."],
    )
    actor: Actor | None = Field(
        default=None, description="Who made this change (the system for follow-up and payments).",
        examples=[{"type": "app", "id": example_id("app")}],
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        same_currency(self.amount_due.currency, [("amount_paid", self.amount_paid)])
        if self.status == "paid":
            if self.payment_id is None:
                raise ValueError("a paid invoice needs the payment_id that paid it")
            if self.amount_paid < self.amount_due:
                raise ValueError(
                    f"a paid invoice has amount_paid {self.amount_paid} below amount_due {self.amount_due}"
                )
        return self

    def check_type(self, type_: str) -> None:
        allowed = _STATUSES_OF_TYPE[type_]
        if self.status not in allowed:
            wanted = " or ".join(sorted(allowed))
            raise ValueError(f"a {type_} event must carry an invoice that is {wanted}, not {self.status}")
        if type_ == types.INVOICE_REMINDER_SENT and self.reminder_number is None:
            raise ValueError("an invoice.reminder_sent event needs its reminder_number")
        if type_ == types.INVOICE_OVERDUE and not self.overdue:
            raise ValueError("an invoice.overdue event must carry overdue: true")
