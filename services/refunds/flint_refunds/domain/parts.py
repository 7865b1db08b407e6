"""A refund's parts, one per payment it goes back to, and how their outcomes decide it.

Parts run on the processor one after another, oldest capture first, each with its own
idempotency key. The first part that does not succeed stops the run: parts after it are
never started, so at most one part is ever in doubt. What the outcomes mean for the refund
(docs/refunds.md, "A part fails after another moved money"):

- every part succeeded: the refund succeeded, as asked;
- the first part failed: nothing moved, the refund failed and holds nothing any more;
- a later part failed after earlier ones moved money: the refund succeeded **for what
  moved**. Its amount becomes the sum of the parts that succeeded (``amount_requested``
  keeps what was asked), and its lines and shipping are given back: the items count as not
  refunded, and the money that did go back counts against the order like a plain amount.
  So what the order shows as refunded is exactly what the processor moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from flint_contracts.literals import RefundStatus

NOT_ATTEMPTED = "not_attempted"
"""The failure reason of a part never run because an earlier part failed."""

Answer = Literal["succeeded", "failed"]
"""What the processor said about a part, once it said something for good."""


@dataclass(frozen=True, slots=True)
class Part:
    """The part of a refund that goes back to one payment (amount in minor units)."""

    payment_id: str
    amount: int
    status: RefundStatus = "pending"
    processor_reference: str | None = None
    failure_reason: str | None = None

    def to_dict(self, currency: str) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "amount": {"amount": self.amount, "currency": currency},
                "status": self.status, "processor_reference": self.processor_reference,
                "failure_reason": self.failure_reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        return cls(payment_id=data["payment_id"], amount=data["amount"]["amount"], status=data["status"],
                   processor_reference=data.get("processor_reference"), failure_reason=data.get("failure_reason"))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the processor answered for one part: a refund reference, or a permanent refusal."""

    status: Answer
    processor_reference: str | None = None
    failure_reason: str | None = None

    @classmethod
    def succeeded(cls, processor_reference: str) -> Outcome:
        return cls("succeeded", processor_reference=processor_reference)

    @classmethod
    def failed(cls, reason: str) -> Outcome:
        return cls("failed", failure_reason=reason)


def part_key(refund_id: str, payment_id: str) -> str:
    """The idempotency key of one part on the processor: the same on every run of the refund,
    so a run resumed after a crash gets the first run's answer instead of a second refund."""
    return f"{refund_id}:{payment_id}"


def settle_parts(parts: Sequence[Part], outcomes: Sequence[Outcome]) -> tuple[Part, ...]:
    """The parts with their outcomes. ``outcomes`` are those of the parts in order, up to and
    including the first failure (or all of them); the parts after a failure were not run."""
    _check_complete(parts, outcomes)
    settled = []
    for index, part in enumerate(parts):
        outcome = outcomes[index] if index < len(outcomes) else Outcome.failed(NOT_ATTEMPTED)
        settled.append(Part(part.payment_id, part.amount, outcome.status, outcome.processor_reference,
                            outcome.failure_reason))
    return tuple(settled)


def _check_complete(parts: Sequence[Part], outcomes: Sequence[Outcome]) -> None:
    if not outcomes or len(outcomes) > len(parts):
        raise ValueError(f"{len(outcomes)} outcomes for {len(parts)} parts")
    if any(outcome.status != "succeeded" for outcome in outcomes[:-1]):
        raise ValueError("a run stops at the first part that does not succeed")
    if len(outcomes) < len(parts) and outcomes[-1].status != "failed":
        raise ValueError("only a failure leaves later parts not run")
