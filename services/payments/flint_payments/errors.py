"""What a payment processor call can fail with.

Two families, so a caller knows what to do without reading codes:

- :class:`PermanentPaymentError`: the same call will fail the same way. A card error's
  ``message`` is written for the buyer and safe to show on a pay page.
- :class:`RetryablePaymentError`: try again later with the **same idempotency key**. Whether
  money moved is then answered by the retry: it returns the first result if it did.

Every error has a stable ``code``; a processor replays a permanent error for a reused key.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flint_contracts.money import Money


class PaymentError(Exception):
    """A processor call that did not produce its result."""

    code: ClassVar[str] = "payment_error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> dict[str, Any]:
        """What besides code and message a replay needs to raise this error again."""
        return {}


class PermanentPaymentError(PaymentError):
    """Trying again changes nothing."""


class RetryablePaymentError(PaymentError):
    """May succeed later; retry with the same idempotency key."""

    retryable = True


# --- the buyer's card ----------------------------------------------------------------------------


class CardError(PermanentPaymentError):
    """A problem with the buyer's card. ``message`` is safe to show the buyer."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CardDeclined(CardError):
    """The card issuer said no."""

    code = "card_declined"


class InsufficientFunds(CardDeclined):
    """Declined because the account lacks the money."""

    code = "insufficient_funds"


class InvalidCard(CardError):
    """What the buyer typed is not a usable card: number, expiry or security code."""

    def __init__(self, code: str, message: str, *, field: str) -> None:
        super().__init__(message, field=field)
        self.code = code  # incorrect_number, invalid_expiry_month, invalid_expiry_year, expired_card, invalid_cvc


# --- the charge and the call -----------------------------------------------------------------------


class UnknownCharge(PermanentPaymentError):
    """No charge of this processor has that reference."""

    code = "unknown_charge"


class RefundExceedsCharge(PermanentPaymentError):
    """The refund asks for more than the charge has left to refund."""

    code = "refund_exceeds_charge"

    def __init__(self, message: str, *, refundable: Money) -> None:
        super().__init__(message)
        self.refundable = refundable

    def detail(self) -> dict[str, Any]:
        return {"refundable": self.refundable.model_dump()}


class CurrencyMismatch(PermanentPaymentError):
    """A refund in another currency than its charge."""

    code = "currency_mismatch"


class IdempotencyKeyReused(PermanentPaymentError):
    """The key was first used for another operation or other arguments."""

    code = "idempotency_key_reused"


class InvalidRequest(PermanentPaymentError):
    """The call itself is malformed (an empty idempotency key, unsafe text in metadata)."""

    code = "invalid_request"


# --- the processor ---------------------------------------------------------------------------------


class ProcessorUnavailable(RetryablePaymentError):
    """The processor could not be reached or its answer was lost."""

    code = "processor_unavailable"


class ProcessingError(RetryablePaymentError):
    """The processor failed while handling the call."""

    code = "processing_error"


REPLAYABLE: dict[str, type[PermanentPaymentError]] = {
    error.code: error
    for error in (CardDeclined, InsufficientFunds, UnknownCharge, RefundExceedsCharge, CurrencyMismatch)
}
"""Permanent outcomes a processor stores with the idempotency key and raises again on replay."""


def replayed(code: str, message: str, detail: dict[str, Any]) -> PermanentPaymentError:
    """The stored permanent error ``code`` as the exception the first call raised."""
    error = REPLAYABLE[code]
    if error is RefundExceedsCharge:
        return RefundExceedsCharge(message, refundable=Money.model_validate(detail["refundable"]))
    return error(message)
