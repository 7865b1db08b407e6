"""The order record as the orders API answers it and every ``order.*`` event carries it.

Refunds, invoicing, delivery and plugins read an order with these models; none of them
imports the orders service. The orders service writes the record (``Order.to_dict()``), and
``tests/orders/test_order_contract.py`` shows that every order its domain can produce
validates here, so the two never drift apart. (What an order can still refund is
``flint_contracts.refund_rules.RefundContext``.)

Money in a record is always in the order's ``currency``; totals and line totals add up.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, StrictBool, StrictInt, model_validator

from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel
from flint_contracts.events.commands import Customer, Discount
from flint_contracts.events.refunds import RefundPayment, check_parts
from flint_contracts.fields import (
    AppId,
    InvoiceId,
    LineItemId,
    MerchantId,
    NonNegativeMoney,
    NoteId,
    OrderId,
    PaymentId,
    PositiveMoney,
    RefundId,
    Tag,
    example_id,
)
from flint_contracts.limits import (
    MAX_DISCOUNTS,
    MAX_LINE_ITEMS,
    MAX_NOTE_LENGTH,
    MAX_NOTES_PER_ORDER,
    MAX_REASON_LENGTH,
    MAX_SKU_LENGTH,
    MAX_TAGS_PER_ORDER,
    MAX_TITLE_LENGTH,
)
from flint_contracts.literals import (
    InvoiceStatus,
    OrderStatus,
    PaymentMethod,
    PaymentOutcome,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from flint_contracts.money import CurrencyCode, Money
from flint_contracts.text import SafeStr, check_json

_TIME = "2026-11-27T12:00:00Z"
_MERCHANT = {"type": "merchant", "id": example_id("mer")}


def _eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


# --- parts of the record ------------------------------------------------------------------------------


class LineItem(ContractModel):
    """One line of the order, with the id refunds name it by."""

    id: LineItemId = Field(description="The line's id; refunds name lines by it.")
    sku: SafeStr | None = Field(max_length=MAX_SKU_LENGTH, description="The merchant's SKU.", examples=["MUG-BLUE"])
    title: SafeStr = Field(min_length=1, max_length=MAX_TITLE_LENGTH, description="What was sold.", examples=["Mug"])
    quantity: StrictInt = Field(ge=1, description="How many.", examples=[2])
    unit_price: NonNegativeMoney = Field(description="Price of one item, before tax.", examples=[_eur(1500)])
    tax: NonNegativeMoney = Field(description="Tax on the whole line.", examples=[_eur(570)])
    total: NonNegativeMoney = Field(description="`unit_price × quantity + tax`.", examples=[_eur(3570)])

    @model_validator(mode="after")
    def _total_adds_up(self) -> Self:
        if self.total != self.unit_price * self.quantity + self.tax:
            raise ValueError(f"line total {self.total} is not unit_price × quantity + tax")
        return self


class Totals(ContractModel):
    """What the order costs, fixed when it is created."""

    subtotal: NonNegativeMoney = Field(description="Σ unit_price × quantity.", examples=[_eur(3000)])
    tax: NonNegativeMoney = Field(description="Σ line tax.", examples=[_eur(570)])
    shipping: NonNegativeMoney = Field(description="Shipping charged.", examples=[_eur(490)])
    discount: NonNegativeMoney = Field(description="Σ discounts; never above the subtotal.", examples=[_eur(300)])
    total: NonNegativeMoney = Field(description="subtotal + tax + shipping − discount.", examples=[_eur(3760)])

    @model_validator(mode="after")
    def _adds_up(self) -> Self:
        if self.total != self.subtotal + self.tax + self.shipping - self.discount:
            raise ValueError(f"total {self.total} is not subtotal + tax + shipping - discount")
        return self


class Amounts(ContractModel):
    """Where the money stands, derived from payments and refunds (docs/orders.md, "Money rules")."""

    total: NonNegativeMoney = Field(description="The order's total.", examples=[_eur(3760)])
    captured: NonNegativeMoney = Field(description="Σ captured payments.", examples=[_eur(3760)])
    refunded: NonNegativeMoney = Field(description="Σ succeeded refunds.", examples=[_eur(0)])
    refund_pending: NonNegativeMoney = Field(description="Σ pending refunds.", examples=[_eur(0)])
    net_paid: Money = Field(description="captured − refunded (pending refunds still count as paid).",
                            examples=[_eur(3760)])
    balance_due: NonNegativeMoney = Field(description="What the buyer still owes.", examples=[_eur(0)])
    credit: NonNegativeMoney = Field(description="What the merchant holds beyond what is owed.", examples=[_eur(0)])

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.net_paid != self.captured - self.refunded:
            raise ValueError("net_paid is not captured - refunded")
        if self.balance_due.amount and self.credit.amount:
            raise ValueError("balance_due and credit are never both above zero")
        return self


class Payment(ContractModel):
    """One payment attempt on the order: captured, or failed (which counts for nothing)."""

    id: PaymentId = Field(description="The payment.")
    amount: PositiveMoney = Field(description="Captured or attempted.", examples=[_eur(3760)])
    method: PaymentMethod = Field(description="How the buyer paid.", examples=["card"])
    status: PaymentOutcome = Field(description="captured or failed.", examples=["captured"])
    invoice_id: InvoiceId | None = Field(default=None, description="The invoice it paid, if any.",
                                         examples=[example_id("inv")])
    at: AwareDatetime = Field(description="When it was captured or failed.", examples=[_TIME])
    failure_code: SafeStr | None = Field(default=None, description="Why it failed (machine-readable).",
                                         examples=["card_declined"])
    failure_message: SafeStr | None = Field(default=None, description="Why it failed, in words.",
                                            examples=["The card was declined."])


class RefundLine(ContractModel):
    """Part of a refund tied to one line item."""

    line_item_id: LineItemId = Field(description="The order's line item.")
    quantity: StrictInt = Field(ge=0, description="Items refunded; 0 for money only.", examples=[1])
    amount: NonNegativeMoney = Field(description="Money refunded for the line, tax included.", examples=[_eur(1785)])


class Refund(ContractModel):
    """A refund as the order knows it: its lines, amounts, reason, actor and outcome."""

    id: RefundId = Field(description="The refund.")
    status: RefundStatus = Field(description="pending, then succeeded or failed.", examples=["succeeded"])
    amount: PositiveMoney = Field(description="Total of the refund.", examples=[_eur(1785)])
    lines: list[RefundLine] = Field(description="Refunded lines; empty for an amount-only refund.",
                                    examples=[[{"line_item_id": example_id("lin"), "quantity": 1,
                                                "amount": _eur(1785)}]])
    shipping: NonNegativeMoney = Field(description="Shipping refunded.", examples=[_eur(0)])
    payment_id: PaymentId | None = Field(default=None, description="The payment the money goes back to.",
                                         examples=[example_id("pay")])
    reason: RefundReason = Field(description="Why it was refunded.", examples=["defective"])
    note: SafeStr | None = Field(default=None, max_length=MAX_NOTE_LENGTH, description="Free text from whoever asked.",
                                 examples=["Arrived broken."])
    actor: Actor = Field(description="Who asked for it.", examples=[_MERCHANT])
    created_at: AwareDatetime = Field(description="When it was asked for.", examples=[_TIME])
    updated_at: AwareDatetime = Field(description="When its status last changed.", examples=[_TIME])
    processor_reference: SafeStr | None = Field(default=None, description="The processor's id, once it succeeded.",
                                                examples=["sbx_re_0001"])
    failure_reason: SafeStr | None = Field(default=None, description="Why it failed.",
                                           examples=["charge_already_refunded"])
    payments: list[RefundPayment] = Field(
        default_factory=list, description="The refund split across the order's payments, each part with its "
                                          "outcome (empty for refunds recorded before parts existed).")
    amount_requested: PositiveMoney | None = Field(
        default=None, description="Set when the refund returned less than asked (a part failed after another "
                                  "moved money): `amount` is what moved.")

    @model_validator(mode="after")
    def _parts_agree(self) -> Self:
        if self.payments:
            check_parts(self.status, self.amount, self.payments)
        return self


class Invoice(ContractModel):
    """An invoice collecting for the order, as the order tracks it."""

    id: InvoiceId = Field(description="The invoice.")
    status: InvoiceStatus = Field(description="Where it stands.", examples=["open"])
    amount_due: NonNegativeMoney = Field(description="What it asks for.", examples=[_eur(3760)])
    overdue: StrictBool = Field(description="Past its due date and still open.", examples=[False])
    hosted_url: SafeStr | None = Field(default=None, description="Where the buyer pays.",
                                       examples=["https://pay.flint.example/pay/3kq9wZ0x"])
    sent: StrictBool = Field(description="Sent to the buyer at least once.", examples=[True])
    reminders_sent: StrictInt = Field(ge=0, description="Reminders sent so far.", examples=[0])


class Note(ContractModel):
    """A note on the order, by a merchant, an app or the buyer."""

    id: NoteId = Field(description="The note.")
    body: SafeStr = Field(min_length=1, max_length=MAX_NOTE_LENGTH, description="Its text.",
                          examples=["Called the buyer about the delivery."])
    actor: Actor = Field(description="Who wrote it.", examples=[_MERCHANT])
    at: AwareDatetime = Field(description="When.", examples=[_TIME])


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    return check_json(value)


AppMetadata = Annotated[dict[str, Any], AfterValidator(_json_object)]


EXAMPLE_PAYMENT: dict[str, Any] = {"id": example_id("pay"), "amount": _eur(3760), "method": "card",
                                   "status": "captured", "invoice_id": None, "at": _TIME, "failure_code": None,
                                   "failure_message": None}
EXAMPLE_REFUND: dict[str, Any] = {
    "id": example_id("rfd"), "status": "succeeded", "amount": _eur(1785),
    "lines": [{"line_item_id": example_id("lin"), "quantity": 1, "amount": _eur(1785)}], "shipping": _eur(0),
    "payment_id": example_id("pay"), "reason": "defective", "note": "Arrived broken.", "actor": _MERCHANT,
    "created_at": _TIME, "updated_at": _TIME, "processor_reference": "sbx_re_0001", "failure_reason": None,
    "payments": [{"payment_id": example_id("pay"), "amount": _eur(1785), "status": "succeeded",
                  "processor_reference": "sbx_re_0001", "failure_reason": None}],
    "amount_requested": None,
}
EXAMPLE_INVOICE: dict[str, Any] = {"id": example_id("inv"), "status": "open", "amount_due": _eur(3760),
                                   "overdue": False, "hosted_url": None, "sent": True, "reminders_sent": 0}
EXAMPLE_NOTE: dict[str, Any] = {"id": example_id("not"), "body": "Called the buyer about the delivery.",
                                "actor": _MERCHANT, "at": _TIME}

# --- the record ------------------------------------------------------------------------------------------

_EXAMPLE_LINE = {"id": example_id("lin"), "sku": "MUG-BLUE", "title": "Blue mug", "quantity": 2,
                 "unit_price": _eur(1500), "tax": _eur(570), "total": _eur(3570)}
EXAMPLE_ORDER: dict[str, Any] = {
    "id": example_id("ord"),
    "merchant_id": example_id("mer"),
    "number": 1001,
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "currency": "EUR",
    "line_items": [_EXAMPLE_LINE],
    "shipping": _eur(490),
    "discounts": [{"code": "WELCOME10", "amount": _eur(300)}],
    "totals": {"subtotal": _eur(3000), "tax": _eur(570), "shipping": _eur(490), "discount": _eur(300),
               "total": _eur(3760)},
    "amounts": {"total": _eur(3760), "captured": _eur(0), "refunded": _eur(0), "refund_pending": _eur(0),
                "net_paid": _eur(0), "balance_due": _eur(3760), "credit": _eur(0)},
    "status": "open",
    "payment_status": "unpaid",
    "payments": [],
    "refunds": [],
    "invoices": [],
    "notes": [],
    "tags": ["wholesale"],
    "metadata": {},
    "version": 1,
    "created_at": _TIME,
    "updated_at": _TIME,
    "canceled_at": None,
    "cancel_reason": None,
}


class OrderRecord(ContractModel):
    """One order: the durable record plugins read (``GET /v1/orders/{id}``, ``data.order`` of
    every ``order.*`` event). ``version`` rises by one with every change."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ORDER]})

    id: OrderId = Field(description="The order.")
    merchant_id: MerchantId = Field(description="The merchant who sold it.")
    number: StrictInt = Field(ge=1, description="Per-merchant, human readable, gap-free from 1001.", examples=[1001])
    customer: Customer = Field(description="The buyer.", examples=[EXAMPLE_ORDER["customer"]])
    currency: CurrencyCode = Field(description="Currency of every amount on the order.", examples=["EUR"])
    line_items: list[LineItem] = Field(min_length=1, max_length=MAX_LINE_ITEMS, description="What was sold.",
                                       examples=[[_EXAMPLE_LINE]])
    shipping: NonNegativeMoney = Field(description="Shipping charged.", examples=[_eur(490)])
    discounts: list[Discount] = Field(max_length=MAX_DISCOUNTS, description="Discounts taken off.",
                                      examples=[EXAMPLE_ORDER["discounts"]])
    totals: Totals = Field(description="What the order costs.", examples=[EXAMPLE_ORDER["totals"]])
    amounts: Amounts = Field(description="Where its money stands.", examples=[EXAMPLE_ORDER["amounts"]])
    status: OrderStatus = Field(description="open or canceled (completed is reserved for fulfilment).",
                                examples=["open"])
    payment_status: PaymentStatus = Field(description="Derived from payments and refunds.", examples=["paid"])
    payments: list[Payment] = Field(description="Every payment attempt, in the order they arrived.",
                                    examples=[[EXAMPLE_PAYMENT]])
    refunds: list[Refund] = Field(description="Every refund, in the order they were asked for.",
                                  examples=[[EXAMPLE_REFUND]])
    invoices: list[Invoice] = Field(description="Invoices collecting for the order.", examples=[[EXAMPLE_INVOICE]])
    notes: list[Note] = Field(max_length=MAX_NOTES_PER_ORDER, description="Notes, oldest first.",
                              examples=[[EXAMPLE_NOTE]])
    tags: list[Tag] = Field(max_length=MAX_TAGS_PER_ORDER, description="Lower case, single spaced, sorted, unique.",
                            examples=[["wholesale"]])
    metadata: dict[AppId, AppMetadata] = Field(
        description="Plugin data: one namespace per app, writable only by that app.",
        examples=[{example_id("app"): {"loyalty_points": 120}}],
    )
    version: StrictInt = Field(ge=1, description="Rises by one with every change.", examples=[1])
    created_at: AwareDatetime = Field(description="When the order was placed.", examples=[_TIME])
    updated_at: AwareDatetime = Field(description="When it last changed.", examples=[_TIME])
    canceled_at: AwareDatetime | None = Field(default=None, description="When it was canceled.", examples=[_TIME])
    cancel_reason: SafeStr | None = Field(default=None, max_length=MAX_REASON_LENGTH, description="Why it was canceled.",
                                          examples=["Customer changed their mind."])

    @model_validator(mode="after")
    def _one_currency(self) -> Self:
        for name, money in self._money():
            if money.currency != self.currency:
                raise ValueError(f"{name} is in {money.currency}, the order is in {self.currency}")
        if self.totals.shipping != self.shipping or self.amounts.total != self.totals.total:
            raise ValueError("totals.shipping and amounts.total must repeat shipping and totals.total")
        return self

    def _money(self) -> list[tuple[str, Money]]:
        found = [("shipping", self.shipping)]
        found += [(f"line_items.{i}.{k}", getattr(line, k)) for i, line in enumerate(self.line_items)
                  for k in ("unit_price", "tax", "total")]
        found += [(f"discounts.{i}.amount", d.amount) for i, d in enumerate(self.discounts)]
        found += [(f"totals.{k}", v) for k, v in self.totals]
        found += [(f"amounts.{k}", v) for k, v in self.amounts]
        found += [(f"payments.{i}.amount", p.amount) for i, p in enumerate(self.payments)]
        for i, refund in enumerate(self.refunds):
            found += [(f"refunds.{i}.amount", refund.amount), (f"refunds.{i}.shipping", refund.shipping)]
            found += [(f"refunds.{i}.lines.{j}.amount", line.amount) for j, line in enumerate(refund.lines)]
            found += [(f"refunds.{i}.payments.{j}.amount", part.amount) for j, part in enumerate(refund.payments)]
        found += [(f"invoices.{i}.amount_due", invoice.amount_due) for i, invoice in enumerate(self.invoices)]
        return found


__all__ = [
    "EXAMPLE_INVOICE", "EXAMPLE_NOTE", "EXAMPLE_ORDER", "EXAMPLE_PAYMENT", "EXAMPLE_REFUND", "Amounts", "Invoice",
    "LineItem", "Note", "OrderRecord", "Payment", "Refund", "RefundLine", "Totals",
]
