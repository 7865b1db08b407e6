"""The ``PaymentProcessor`` interface: capture a card payment, refund a charge, look one up.

Every call that moves money carries an **idempotency key**. The first call with a key
decides the outcome; every later call with that key returns the same result (or raises the
same permanent error) and never moves money again, even when the calls race. A key used
again for another operation or other arguments raises ``IdempotencyKeyReused``. Errors are
typed (``flint_payments.errors``): permanent ones are final, retryable ones are retried with
the same key. Money is ``flint_contracts.money.Money``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from flint_contracts.money import Money


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CardDetails(_Value):
    """A card as the buyer typed it. The number and security code never appear in reprs or logs."""

    number: SecretStr = Field(description="The card number; spaces and dashes are ignored.")
    exp_month: int = Field(description="Expiry month, 1-12.", examples=[12])
    exp_year: int = Field(description="Expiry year, four digits (two are read as 20xx).", examples=[2030])
    cvc: SecretStr = Field(description="The security code: 3 digits, 4 for American Express.")

    @classmethod
    def of(cls, number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        return cls(number=SecretStr(number), exp_month=exp_month, exp_year=exp_year, cvc=SecretStr(cvc))


class CardSummary(_Value):
    """What may be kept and shown of a card."""

    brand: str = Field(examples=["visa"])
    last4: str = Field(examples=["4242"])
    exp_month: int = Field(examples=[12])
    exp_year: int = Field(examples=[2030])


class ChargeRefund(_Value):
    """Money given back from a charge."""

    reference: str = Field(description="The processor's id of the refund.", examples=["sbx_re_01JD3Z6Q0G8V6M4X2K9T7B5N1S"])
    charge_reference: str = Field(description="The charge refunded.")
    amount: Money = Field(description="What was refunded.")
    status: Literal["succeeded"] = "succeeded"
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime


class Charge(_Value):
    """A captured card payment and what has been refunded from it."""

    reference: str = Field(description="The processor's id of the charge.", examples=["sbx_ch_01JD3Z6Q0G8V6M4X2K9T7B5N1S"])
    processor: str = Field(description="The processor that holds it.", examples=["sandbox"])
    amount: Money = Field(description="What was captured.")
    amount_refunded: Money = Field(description="What refunds have given back so far.")
    status: Literal["succeeded"] = "succeeded"
    card: CardSummary
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: AwareDatetime
    refunds: list[ChargeRefund] = Field(default_factory=list, description="Oldest first.")

    @property
    def refundable(self) -> Money:
        """What can still be refunded."""
        return self.amount - self.amount_refunded


@runtime_checkable
class PaymentProcessor(Protocol):
    """A payment processor. ``flint_payments.SandboxProcessor`` is the one Flint ships."""

    name: str
    """Recorded as ``processor`` on payment events (``"sandbox"``)."""

    async def capture(
        self,
        *,
        amount: Money,
        card: CardDetails,
        idempotency_key: str,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Charge:
        """Take ``amount`` from ``card``. Raises ``CardError`` (declined, insufficient funds,
        invalid card) or ``RetryablePaymentError``."""
        ...

    async def refund(
        self,
        *,
        charge_reference: str,
        idempotency_key: str,
        amount: Money | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ChargeRefund:
        """Give ``amount`` (default: all that is left) back from a charge. Raises
        ``UnknownCharge``, ``RefundExceedsCharge``, ``CurrencyMismatch`` or ``RetryablePaymentError``."""
        ...

    async def get_charge(self, charge_reference: str) -> Charge:
        """The charge with its refunds. Raises ``UnknownCharge``; reading needs no key."""
        ...

