"""What the HTTP API reads and writes, as pydantic models (they also make the OpenAPI
document). Request models forbid unknown fields: a misspelt ``memmo`` must be an error, not an
invoice without its memo."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from flint_contracts.fields import InvoiceId, MerchantId, OrderId, PaymentId, example_id
from flint_contracts.limits import (
    MAX_EMAIL_LENGTH,
    MAX_MEMO_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REMINDER_DAYS_AFTER_DUE,
    MAX_REMINDER_DAYS_BEFORE_DUE,
    MAX_REMINDERS,
    MAX_SKU_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
)
from flint_contracts.money import Money
from flint_invoicing.domain import DEFAULT_REMINDER_POLICY, Invoice


def _a_day(value: Any) -> Any:
    # pydantic alone also reads 1733875200 as a day; a due date is only ever written as one.
    if not isinstance(value, str):
        raise ValueError("must be a day, written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_a_day), Field(json_schema_extra={"format": "date", "maxLength": 10})]
ReminderDay = Annotated[StrictInt, Field(ge=-MAX_REMINDER_DAYS_BEFORE_DUE, le=MAX_REMINDER_DAYS_AFTER_DUE)]


class CreateInvoice(BaseModel):
    """A new invoice for part or all of what an order still owes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "order_id": example_id("ord"), "due_date": "2026-12-11", "reminder_policy": [-3, 0, 3, 7],
            "memo": "Thank you for your order.",
        }]},
    )

    order_id: OrderId = Field(description="The order to collect for.")
    amount: Money | None = Field(
        default=None, description="What to ask for, in the order's currency. Default: all the order still owes that "
                                  "its other open (or uncollectible) invoices do not ask for already.",
    )
    due_date: Day = Field(description="The day payment is due (UTC), today at the earliest and at most 365 days "
                                      "ahead. Today means due on receipt.", examples=["2026-12-11"])
    reminder_policy: list[ReminderDay] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_POLICY), max_length=MAX_REMINDERS,
        description=f"Days relative to the due date when a reminder goes out (09:00 UTC), from "
                    f"-{MAX_REMINDER_DAYS_BEFORE_DUE} to {MAX_REMINDER_DAYS_AFTER_DUE}, each once, at most "
                    f"{MAX_REMINDERS}. `[]` sends no reminders.", examples=[[-3, 0, 3, 7]],
    )
    memo: str | None = Field(default=None, min_length=1, max_length=MAX_MEMO_LENGTH,
                             description="A note to the buyer, printed on the invoice, the page and every email.")


# --- answers -----------------------------------------------------------------------------------------


class CustomerOut(BaseModel):
    email: str = Field(max_length=MAX_EMAIL_LENGTH, examples=["ada@example.com"])
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH, examples=["Ada Lovelace"])


class LineOut(BaseModel):
    title: str = Field(max_length=MAX_TITLE_LENGTH, examples=["Trail tent"])
    sku: str | None = Field(default=None, max_length=MAX_SKU_LENGTH, examples=["TENT-2"])
    quantity: int = Field(examples=[1])
    unit_price: Money
    tax: Money
    total: Money = Field(description="`unit_price × quantity + tax`.")


class TotalsOut(BaseModel):
    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money


InvoiceStatusOut = Literal["open", "paid", "void", "uncollectible"]


class InvoiceOut(BaseModel):
    """An invoice. `hosted_url` is the newest pay link, while links work (not once voided or
    expired); each email and reminder carries a link of its own, all valid together."""

    object: Literal["invoice"] = "invoice"
    id: InvoiceId
    merchant_id: MerchantId
    order_id: OrderId
    order_number: int = Field(description="The order's number (#1001).", examples=[1001])
    number: int = Field(description="Per merchant, gap-free from 1; printed as `INV-0001`.", examples=[42])
    display_number: str = Field(examples=["INV-0042"])
    status: InvoiceStatusOut = Field(description="`open`, then `paid`, `void` or `uncollectible` (written off; "
                                                 "may still be paid or voided).")
    overdue: bool = Field(description="Open and past its due date.")
    currency: str = Field(examples=["EUR"])
    amount_due: Money = Field(description="What the invoice asks for.")
    amount_paid: Money
    amount_remaining: Money
    due_date: date
    reminder_policy: list[int]
    memo: str | None
    customer: CustomerOut
    lines: list[LineOut]
    order_totals: TotalsOut
    hosted_url: str | None = Field(max_length=MAX_URL_LENGTH, description="Where the buyer pays.",
                                   examples=["http://127.0.0.1:8104/pay/3kq9wZ0x…"])
    payment_id: PaymentId | None = Field(description="The payment that paid it.")
    reminders_sent: int
    next_follow_up_at: AwareDatetime | None = Field(
        description="When follow-up (the invoice email, a reminder, the overdue flag) next looks at it; null when "
                    "nothing is planned.")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    sent_at: AwareDatetime | None
    overdue_at: AwareDatetime | None
    paid_at: AwareDatetime | None
    voided_at: AwareDatetime | None
    marked_uncollectible_at: AwareDatetime | None
    version: int = Field(description="Rises by one with every change.")


class InvoiceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[InvoiceOut]
    has_more: bool
    next_cursor: str | None = Field(max_length=512)


def invoice_json(invoice: Invoice, *, hosted_url: str | None, next_follow_up_at: datetime | None) -> dict[str, Any]:
    """The API's representation of an invoice (the shape of ``InvoiceOut``)."""
    doc = invoice.to_dict()
    return {
        "object": "invoice", "id": invoice.id, "merchant_id": invoice.merchant_id, "order_id": invoice.order_id,
        "order_number": invoice.order_number, "number": invoice.number, "display_number": invoice.display_number,
        "status": invoice.status, "overdue": invoice.overdue, "currency": invoice.currency,
        "amount_due": doc["amount_due"], "amount_paid": doc["amount_paid"],
        "amount_remaining": invoice.amount_remaining.model_dump(), "due_date": doc["due_date"],
        "reminder_policy": doc["reminder_policy"], "memo": invoice.memo, "customer": doc["customer"],
        "lines": [{**line, "total": l.total.model_dump()} for line, l in zip(doc["lines"], invoice.lines)],
        "order_totals": doc["order_totals"], "hosted_url": hosted_url, "payment_id": invoice.payment_id,
        "reminders_sent": invoice.reminders_sent,
        "next_follow_up_at": _time(next_follow_up_at),
        "created_at": doc["created_at"], "updated_at": doc["updated_at"], "sent_at": doc["sent_at"],
        "overdue_at": doc["overdue_at"], "paid_at": doc["paid_at"], "voided_at": doc["voided_at"],
        "marked_uncollectible_at": doc["marked_uncollectible_at"], "version": invoice.version,
    }  # fmt: skip


def _time(at: datetime | None) -> str | None:
    """As the invoice's own times are written: ISO 8601 in UTC with a ``Z``."""
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")
