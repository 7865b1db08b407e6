"""A refund: what an accepted quote returns, per line, on shipping and per payment, and how it ended.

Pure and synchronous. ``Refund.open`` takes a quote the refund rules accepted; ``settle``
takes the processor's answers for its parts (``parts.settle_parts`` says what they mean);
``to_dict`` is the refund as the API answers it (and as it is stored); ``event_data`` is what
its events carry; ``as_past_refund`` is the refund as the rules read it back among an order's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flint_contracts.events import Actor, RefundContext, RefundData, RefundLine, RefundPayment
from flint_contracts.literals import RefundReason, RefundStatus
from flint_contracts.money import Money
from flint_contracts.refund_rules import PastRefund, PaymentShare, RefundQuote
from flint_refunds.domain.parts import Outcome, Part, settle_parts


@dataclass(eq=False)
class Refund:
    """One refund of one order. Amounts are minor units in ``currency``."""

    id: str
    merchant_id: str
    order_id: str
    currency: str
    status: RefundStatus
    amount: int
    lines: tuple[RefundLine, ...]
    shipping: int
    parts: tuple[Part, ...]
    reason: RefundReason
    actor: Actor
    created_at: datetime
    updated_at: datetime
    note: str | None = None
    payment_id: str | None = None  # the payment the caller asked for, if any
    amount_requested: int | None = None  # set when it returned less than asked
    failure_reason: str | None = None

    @classmethod
    def open(
        cls, *, refund_id: str, merchant_id: str, order_id: str, quote: RefundQuote, payment_id: str | None,
        reason: RefundReason, note: str | None, actor: Actor, at: datetime,
    ) -> Refund:
        """A pending refund of exactly what ``quote`` (accepted by the rules) returns."""
        taken = quote.as_refund(refund_id)  # refuses a quote with refusals
        return cls(
            id=refund_id, merchant_id=merchant_id, order_id=order_id, currency=quote.currency, status="pending",
            amount=taken.amount.amount, lines=tuple(taken.lines), shipping=taken.shipping_amount,
            parts=tuple(Part(share.payment_id, share.amount.amount) for share in taken.payments),
            reason=reason, actor=actor, created_at=at, updated_at=at, note=note, payment_id=payment_id,
        )

    # --- settling --------------------------------------------------------------------------

    def settle(self, outcomes: Sequence[Outcome], at: datetime) -> None:
        """The processor's answers for the parts run (in order, up to the first failure)."""
        if self.status != "pending":
            raise ValueError(f"refund {self.id} is {self.status} already")
        parts = settle_parts(self.parts, outcomes)
        moved = sum(part.amount for part in parts if part.status == "succeeded")
        self.parts, self.updated_at = parts, at
        if moved == 0:
            self.status = "failed"
            self.failure_reason = next(part.failure_reason for part in parts if part.status == "failed")
        elif moved == self.amount:
            self.status = "succeeded"
        else:  # docs/refunds.md: it succeeds for what moved, and gives its items back
            self.status, self.amount_requested, self.amount = "succeeded", self.amount, moved
            self.lines, self.shipping = (), 0

    @property
    def processor_reference(self) -> str | None:
        """The first succeeded part's reference (each part carries its own)."""
        return next((part.processor_reference for part in self.parts if part.status == "succeeded"), None)

    @property
    def holds_room(self) -> bool:
        return self.status != "failed"

    # --- as the rules read it -----------------------------------------------------------------

    def as_past_refund(self) -> PastRefund:
        """Pending: every part holds its money; settled: only what succeeded moved.

        Remembered with what it was built from: every decision on an order reads all its
        refunds, and building each one's validated ``PastRefund`` again was most of the CPU a
        refund cost on an order with many (bench/refunds.py). A change to any field it reads
        builds it anew."""
        memo = self.__dict__.get("_past")
        if memo is not None and memo[0] == self._rules_view():
            return memo[1]
        past = self._build_past_refund()
        self.__dict__["_past"] = (self._rules_view(), past)
        return past

    def _rules_view(self) -> tuple[Any, ...]:
        """Everything ``as_past_refund`` reads."""
        return (self.id, self.status, self.currency, self.amount, self.shipping, self.parts, self.lines)

    def _build_past_refund(self) -> PastRefund:
        holding = [part for part in self.parts if self.status == "pending" or part.status == "succeeded"]
        return PastRefund(
            refund_id=self.id, status=self.status, amount=self._money(self.amount), lines=list(self.lines),
            shipping=self._money(self.shipping),
            payments=[] if self.status == "failed" else [
                PaymentShare(payment_id=part.payment_id, amount=self._money(part.amount)) for part in holding],
        )

    # --- as the API and the events show it ----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The refund as ``GET /v1/refunds/{id}`` answers it (``schemas.RefundOut``)."""
        money = self._money_json
        return {
            "object": "refund", "id": self.id, "merchant_id": self.merchant_id, "order_id": self.order_id,
            "status": self.status, "currency": self.currency, "amount": money(self.amount),
            "amount_requested": None if self.amount_requested is None else money(self.amount_requested),
            "lines": [line.model_dump(mode="json") for line in self.lines], "shipping": money(self.shipping),
            "payment_id": self.payment_id, "payments": [part.to_dict(self.currency) for part in self.parts],
            "reason": self.reason, "note": self.note, "actor": self.actor.model_dump(mode="json"),
            "processor_reference": self.processor_reference, "failure_reason": self.failure_reason,
            "created_at": _time(self.created_at), "updated_at": _time(self.updated_at),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Refund:
        amount_requested = data.get("amount_requested")
        return cls(
            id=data["id"], merchant_id=data["merchant_id"], order_id=data["order_id"], currency=data["currency"],
            status=data["status"], amount=data["amount"]["amount"],
            lines=tuple(RefundLine.model_validate(line) for line in data["lines"]),
            shipping=data["shipping"]["amount"], parts=tuple(Part.from_dict(part) for part in data["payments"]),
            reason=data["reason"], actor=Actor.model_validate(data["actor"]),
            created_at=datetime.fromisoformat(data["created_at"]), updated_at=datetime.fromisoformat(data["updated_at"]),
            note=data.get("note"), payment_id=data.get("payment_id"),
            amount_requested=None if amount_requested is None else amount_requested["amount"],
            failure_reason=data.get("failure_reason"),
        )  # fmt: skip

    def event_data(self, context: RefundContext) -> RefundData:
        """What ``refund.created`` / ``.succeeded`` / ``.failed`` carry: the whole refund, and
        the order's refund context after it, so a plugin never has to look anything up."""
        return RefundData(
            refund_id=self.id, order_id=self.order_id, status=self.status, amount=self._money(self.amount),
            lines=list(self.lines), shipping=self._money(self.shipping), payment_id=self.payment_id,
            reason=self.reason, note=self.note, actor=self.actor, created_at=self.created_at,
            processor_reference=self.processor_reference, failure_reason=self.failure_reason,
            payments=[RefundPayment.model_validate(part.to_dict(self.currency)) for part in self.parts],
            amount_requested=None if self.amount_requested is None else self._money(self.amount_requested),
            refund_context=context,
        )

    def _money(self, amount: int) -> Money:
        return Money(amount=amount, currency=self.currency)

    def _money_json(self, amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": self.currency}


def _time(at: datetime) -> str:
    """ISO 8601, UTC written as ``Z`` (as every Flint record writes times)."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
