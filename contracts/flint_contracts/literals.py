"""Flint's closed vocabularies: every status, reason, method, actor type and audience.

Each is a ``Literal`` (for pydantic models and type checkers) with a frozenset of its values
beside it (for code that checks membership). Services and contract models import them from
here; none lists them again (``tests/contracts/test_vocabulary.py`` fails if one does).
"""

from __future__ import annotations

from typing import Any, Literal, get_args


def values(literal: Any) -> frozenset[str]:
    """The values a ``Literal`` allows."""
    return frozenset(get_args(literal))


# --- orders -----------------------------------------------------------------------------------
OrderStatus = Literal["open", "completed", "canceled"]
"""``completed`` is reserved for fulfilment; nothing sets it yet."""
ORDER_STATUSES = values(OrderStatus)

PaymentStatus = Literal["unpaid", "partially_paid", "paid", "partially_refunded", "refunded", "voided"]
"""The order's payment state, derived from its payments and refunds (docs/orders.md)."""
PAYMENT_STATUSES = values(PaymentStatus)

# --- payments ---------------------------------------------------------------------------------
PaymentMethod = Literal["card", "invoice", "bank_transfer", "other"]
PAYMENT_METHODS = values(PaymentMethod)

PaymentOutcome = Literal["captured", "failed"]
"""What became of one payment attempt on an order."""
PAYMENT_OUTCOMES = values(PaymentOutcome)

# --- refunds ----------------------------------------------------------------------------------
RefundStatus = Literal["pending", "succeeded", "failed"]
REFUND_STATUSES = values(RefundStatus)

RefundReason = Literal[
    "requested_by_customer", "returned_items", "defective", "duplicate", "fraudulent", "goodwill", "other",
]
"""Why money goes back: the buyer asked, items came back, they were defective, the charge was a
duplicate or fraudulent, a goodwill gesture, or something else (say what in the note)."""
REFUND_REASONS = values(RefundReason)

# --- invoices ---------------------------------------------------------------------------------
InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]
INVOICE_STATUSES = values(InvoiceStatus)

# --- installs and webhooks --------------------------------------------------------------------
InstallStatus = Literal["active", "uninstalled"]
INSTALL_STATUSES = values(InstallStatus)

# --- who acts, and for whom tokens are ------------------------------------------------------------
ActorType = Literal["merchant", "app", "system", "buyer"]
"""Who made a change: a merchant (its id), an app (its id), the system (optionally the
service, ``flint.invoicing``) or the buyer."""
ACTOR_TYPES = values(ActorType)

Audience = Literal["flint:orders", "flint:refunds", "flint:invoicing", "flint:installs"]
"""The services a token may be issued for (the JWT's ``aud``, docs/auth.md)."""
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
"""Every audience, in this order (an access token names them all in its ``aud``)."""
ORDERS_AUDIENCE: Audience = "flint:orders"
REFUNDS_AUDIENCE: Audience = "flint:refunds"
INVOICING_AUDIENCE: Audience = "flint:invoicing"
INSTALLS_AUDIENCE: Audience = "flint:installs"
