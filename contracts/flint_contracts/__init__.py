"""Flint's wire contracts. Pure pydantic, no I/O: every service and the SDK import it."""

from flint_contracts import event_types, topics
from flint_contracts.envelope import EventEnvelope
from flint_contracts.event_types import SCOPES, EventType, UnknownEventTypeError, deliverable_to
from flint_contracts.events import (
    DATA_MODELS,
    Actor,
    AddNote,
    CancelOrder,
    CreateOrder,
    EventData,
    InstallData,
    InvoiceData,
    NoDataModelError,
    OrderEventData,
    PaymentCaptured,
    PaymentFailed,
    RefundData,
    RefundLine,
    WebhookEndpointDisabled,
    build_envelope,
    parse_data,
)
from flint_contracts.fields import NonNegativeMoney, PositiveMoney
from flint_contracts.ids import id_time_ms, is_id, new_id
from flint_contracts.order import OrderRecord
from flint_contracts.money import CurrencyCode, MixedCurrencyError, Money, currency_exponent, total

__all__ = [
    "DATA_MODELS",
    "SCOPES",
    "Actor",
    "AddNote",
    "CancelOrder",
    "CreateOrder",
    "CurrencyCode",
    "EventData",
    "EventEnvelope",
    "EventType",
    "InstallData",
    "InvoiceData",
    "MixedCurrencyError",
    "Money",
    "NoDataModelError",
    "NonNegativeMoney",
    "OrderEventData",
    "OrderRecord",
    "PaymentCaptured",
    "PaymentFailed",
    "PositiveMoney",
    "RefundData",
    "RefundLine",
    "UnknownEventTypeError",
    "WebhookEndpointDisabled",
    "build_envelope",
    "currency_exponent",
    "deliverable_to",
    "event_types",
    "id_time_ms",
    "is_id",
    "new_id",
    "parse_data",
    "topics",
    "total",
]
