"""How an internal producer (checkout, the CLI's ``trigger``, tests) takes a payment.

It captures through the processor first, so the ``payment.captured`` it then publishes
carries a ``processor_reference`` the sandbox knows, and the refunds service can refund it:

    data = await capture_payment(sandbox, order_id=order_id, amount=Money(amount=2880, currency="EUR"))
    envelope = build_envelope(event_type_of(data), data, source="flint.checkout", merchant_id=merchant_id)

The payment id is the idempotency key: capturing the same payment id again returns the same
charge and never charges twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flint_contracts import event_types
from flint_contracts.events import PaymentCaptured, PaymentFailed
from flint_contracts.fields import example_id
from flint_contracts.ids import is_id, new_id
from flint_contracts.money import Money
from flint_payments.errors import CardDeclined, InvalidRequest
from flint_payments.processor import CardDetails, PaymentProcessor

TEST_CARD = CardDetails.of("4242 4242 4242 4242", 12, datetime.now(UTC).year + 5, "123")
"""The sandbox card that always succeeds."""


async def capture_payment(
    processor: PaymentProcessor,
    *,
    order_id: str,
    amount: Money,
    card: CardDetails = TEST_CARD,
    payment_id: str | None = None,
    invoice_id: str | None = None,
) -> PaymentCaptured | PaymentFailed:
    """Capture ``amount`` for ``order_id`` and return the event data to publish:
    ``PaymentCaptured`` (type ``payment.captured``) or, when the card is declined,
    ``PaymentFailed`` (``payment.failed``). ``event_type_of(data)`` names the type.

    A malformed id (``InvalidRequest``), an invalid card (``InvalidCard``) and retryable
    errors are raised: nothing was attempted, or the outcome is not known yet and a retry with
    the same ``payment_id`` tells.
    """
    payment_id = payment_id or new_id("pay")
    _check_ids(order_id=(order_id, "ord"), payment_id=(payment_id, "pay"), invoice_id=(invoice_id, "inv"))
    metadata = {"order_id": order_id, "payment_id": payment_id, **({"invoice_id": invoice_id} if invoice_id else {})}
    common = {"payment_id": payment_id, "order_id": order_id, "amount": amount, "method": "card",
              "processor": processor.name, "invoice_id": invoice_id}
    try:
        charge = await processor.capture(amount=amount, card=card, idempotency_key=payment_id,
                                         description=f"Order {order_id}", metadata=metadata)
    except CardDeclined as declined:
        return PaymentFailed(**common, failure_code=declined.code, failure_message=declined.message,
                             failed_at=datetime.now(UTC))
    return PaymentCaptured(**common, processor_reference=charge.reference, captured_at=charge.created_at)


def _check_ids(**ids: tuple[str | None, str]) -> None:
    """Refuse a malformed id before any money moves, not when the event is built after it."""
    for name, (value, prefix) in ids.items():
        if value is not None and not is_id(value, prefix):
            raise InvalidRequest(f"{name} must be an id like {example_id(prefix)}, got {value[:100]!r}")


def event_type_of(data: PaymentCaptured | PaymentFailed) -> str:
    """``payment.captured`` or ``payment.failed``: the type to publish ``data`` as."""
    return event_types.PAYMENT_CAPTURED if isinstance(data, PaymentCaptured) else event_types.PAYMENT_FAILED
