"""Models of the ``data`` each event and command type carries, and how to check an envelope.

Consumers: ``data = parse_data(envelope)``. Producers: ``build_envelope(REFUND_CREATED,
RefundData(...), source="flint.refunds", merchant_id=...)``; it refuses what a consumer
would refuse, before anything is published.

Every registered type has a model: commands, order events (``OrderEventData``, the whole
order record inside), payments, refunds, invoices, installs, webhook endpoints and merchants.
"""

from __future__ import annotations

from typing import Any

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events.actor import Actor
from flint_contracts.events.base import ContractModel, EventData
from flint_contracts.events.commands import AddNote, CancelOrder, CreateOrder, Customer, Discount, NewLineItem
from flint_contracts.events.installs import InstallData
from flint_contracts.events.invoices import InvoiceData
from flint_contracts.events.merchants import MerchantData
from flint_contracts.events.orders import OrderEventData
from flint_contracts.events.payments import PaymentCaptured, PaymentFailed
from flint_contracts.events.refund_context import RefundContext
from flint_contracts.events.refunds import RefundData, RefundLine, RefundPayment
from flint_contracts.events.webhooks import WebhookEndpointDisabled
from flint_contracts.literals import (
    ActorType,
    InstallStatus,
    InvoiceStatus,
    PaymentMethod,
    RefundReason,
    RefundStatus,
)
from flint_contracts.timeline import ORDER_EVENT_TYPES

DATA_MODELS: dict[str, type[EventData]] = {
    types.ORDER_CREATE: CreateOrder,
    types.ORDER_CANCEL: CancelOrder,
    types.ORDER_ADD_NOTE: AddNote,
    **{name: OrderEventData for name in ORDER_EVENT_TYPES},
    types.PAYMENT_CAPTURED: PaymentCaptured,
    types.PAYMENT_FAILED: PaymentFailed,
    types.REFUND_CREATED: RefundData,
    types.REFUND_SUCCEEDED: RefundData,
    types.REFUND_FAILED: RefundData,
    **{name: InvoiceData for name in types.REGISTRY if name.startswith("invoice.")},
    types.INSTALL_CREATED: InstallData,
    types.INSTALL_SCOPES_UPDATED: InstallData,
    types.INSTALL_UNINSTALLED: InstallData,
    types.WEBHOOK_ENDPOINT_DISABLED: WebhookEndpointDisabled,
    types.MERCHANT_CREATED: MerchantData,
}


class NoDataModelError(LookupError):
    """A registered type whose data has no model in this package yet."""


def data_model(type_: str) -> type[EventData]:
    """The model of ``type_``'s data. Raises ``UnknownEventTypeError`` for an unregistered
    type and :class:`NoDataModelError` for one without a model."""
    types.get(type_)
    try:
        return DATA_MODELS[type_]
    except KeyError:
        raise NoDataModelError(f"{type_!r} has no data model in flint_contracts.events") from None


def parse_data(envelope: EventEnvelope) -> EventData:
    """Validate ``envelope.data`` against the model of ``envelope.type``.

    Also checks the data agrees with the envelope (merchant, subject, type); any
    disagreement raises ``pydantic.ValidationError`` naming the field and the reason.
    """
    return data_model(envelope.type).model_validate(envelope.data, context={"envelope": envelope})


def build_envelope(type_: str, data: EventData, *, source: str, **fields: Any) -> EventEnvelope:
    """An envelope of ``type_`` carrying ``data``, checked as :func:`parse_data` would.

    ``subject`` and ``merchant_id`` default to the data's own order/install id and merchant.
    """
    model = data_model(type_)
    if not isinstance(data, model):
        raise TypeError(f"{type_} carries {model.__name__}, not {type(data).__name__}")
    if data.subject_field is not None:
        fields.setdefault("subject", getattr(data, data.subject_field))
    if getattr(data, "merchant_id", None) is not None:
        fields.setdefault("merchant_id", data.merchant_id)
    envelope = EventEnvelope(type=type_, source=source, data=data.model_dump(mode="json"), **fields)
    parse_data(envelope)
    return envelope


__all__ = [
    "DATA_MODELS",
    "Actor",
    "ActorType",
    "AddNote",
    "CancelOrder",
    "ContractModel",
    "CreateOrder",
    "Customer",
    "Discount",
    "EventData",
    "InstallData",
    "InstallStatus",
    "InvoiceData",
    "InvoiceStatus",
    "MerchantData",
    "NewLineItem",
    "NoDataModelError",
    "OrderEventData",
    "PaymentCaptured",
    "PaymentFailed",
    "PaymentMethod",
    "RefundContext",
    "RefundData",
    "RefundLine",
    "RefundPayment",
    "RefundReason",
    "RefundStatus",
    "WebhookEndpointDisabled",
    "build_envelope",
    "data_model",
    "parse_data",
]
