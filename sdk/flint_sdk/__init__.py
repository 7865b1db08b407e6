"""flint_sdk: what a plugin needs to work with Flint.

- :class:`FlintClient` / :class:`AsyncFlintClient`: the HTTP APIs, typed, with token renewal,
  pagination, idempotency keys, retries and typed errors (:mod:`flint_sdk.errors`);
- :class:`InstallFlow` / :class:`AsyncInstallFlow`: the OAuth install with PKCE;
- :class:`Plugin`: the app's Kafka topic, handlers by event type;
- :func:`kafka_credential`: the app's login for its topic;
- :func:`verify`: webhook signatures; :func:`read_event`: an event's bytes as typed models.

It depends on ``flint_contracts`` and public packages only, never on Flint's services.
"""

from flint_contracts.money import Money
from flint_sdk.async_client import AsyncFlintClient
from flint_sdk.auth import AppTokens, MerchantCredentials, StaticToken, TokenSet
from flint_sdk.base import ClientOptions
from flint_sdk.client import FlintClient
from flint_sdk.dedup import DedupStore, MemoryDedupStore
from flint_sdk.dispatch import Failure, HandlerFailed, Outcome
from flint_sdk.errors import (
    ApiError,
    AuthenticationError,
    AuthError,
    ConflictError,
    FieldError,
    FlintConnectionError,
    FlintError,
    InvalidRequestError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnavailableError,
)
from flint_sdk.events import Event, read_event
from flint_sdk.kafka_credential import KafkaCredential, kafka_credential
from flint_sdk.models import (
    Install,
    Invoice,
    Order,
    Page,
    Refund,
    RefundContext,
    RefundQuote,
    Refusal,
    TimelineEntry,
)
from flint_sdk.pkce import AsyncInstallFlow, InstallDenied, InstallError, InstallFlow, PendingInstall, StateMismatch
from flint_sdk.retries import RetryPolicy
from flint_sdk.webhooks import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    InvalidSignature,
    sign,
    verify,
)


def __getattr__(name: str) -> object:
    """``Plugin`` is imported on first use: it brings FastStream and aiokafka (most of the
    SDK's import time), which a program using only the HTTP client never needs."""
    if name == "Plugin":
        from flint_sdk.plugin import Plugin

        return Plugin
    raise AttributeError(f"module 'flint_sdk' has no attribute {name!r}")


__all__ = [
    "DELIVERY_ID_HEADER", "EVENT_ID_HEADER", "EVENT_TYPE_HEADER", "SIGNATURE_HEADER",
    "ApiError", "AppTokens", "AsyncFlintClient", "AsyncInstallFlow", "AuthError", "AuthenticationError",
    "ClientOptions", "ConflictError", "DedupStore", "Event", "Failure", "FieldError", "FlintClient",
    "FlintConnectionError", "FlintError", "HandlerFailed", "Install", "InstallDenied", "InstallError", "InstallFlow",
    "InvalidRequestError", "InvalidSignature", "Invoice", "KafkaCredential", "MemoryDedupStore", "MerchantCredentials", "Money",
    "NotFoundError",
    "OAuthError", "Order", "Outcome", "Page", "PendingInstall", "PermissionDeniedError", "Plugin", "RateLimitedError",
    "Refund", "RefundContext", "RefundQuote", "Refusal", "RetryPolicy", "ServerError", "StateMismatch", "StaticToken",
    "TimelineEntry", "TokenSet", "UnavailableError", "kafka_credential", "read_event", "sign", "verify",
]
