"""Payments: the ``PaymentProcessor`` interface and the sandbox processor (docs/payments.md).

    async with await SandboxProcessor.open() as sandbox:
        charge = await sandbox.capture(amount=Money(amount=1250, currency="EUR"),
                                       card=CardDetails.of("4242 4242 4242 4242", 12, 2030, "123"),
                                       idempotency_key="pay_...")
        await sandbox.refund(charge_reference=charge.reference, amount=..., idempotency_key="rfd_...")

Internal producers announce a payment with :func:`capture_payment`, which captures through
the processor and returns the ``payment.captured`` (or ``payment.failed``) data to publish.
"""

from flint_payments.capture import TEST_CARD, capture_payment, event_type_of
from flint_payments.config import SandboxSettings
from flint_payments.errors import (
    CardDeclined,
    CardError,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidCard,
    InvalidRequest,
    PaymentError,
    PermanentPaymentError,
    ProcessingError,
    ProcessorUnavailable,
    RefundExceedsCharge,
    RetryablePaymentError,
    UnknownCharge,
)
from flint_payments.processor import CardDetails, CardSummary, Charge, ChargeRefund, PaymentProcessor
from flint_payments.sandbox import SandboxProcessor

__all__ = [
    "TEST_CARD",
    "CardDeclined",
    "CardDetails",
    "CardError",
    "CardSummary",
    "Charge",
    "ChargeRefund",
    "CurrencyMismatch",
    "IdempotencyKeyReused",
    "InsufficientFunds",
    "InvalidCard",
    "InvalidRequest",
    "PaymentError",
    "PaymentProcessor",
    "PermanentPaymentError",
    "ProcessingError",
    "ProcessorUnavailable",
    "RefundExceedsCharge",
    "RetryablePaymentError",
    "SandboxProcessor",
    "SandboxSettings",
    "UnknownCharge",
    "capture_payment",
    "event_type_of",
]
