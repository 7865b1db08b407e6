"""Webhook endpoints of an install (``flint.installs.events.v1``, keyed by install id)."""

from __future__ import annotations

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt

from flint_contracts.events.base import EventData
from flint_contracts.fields import AppId, DeliveryId, InstallId, MerchantId, WebhookEndpointId, example_id
from flint_contracts.limits import MAX_REASON_LENGTH
from flint_contracts.text import SafeStr

_TIME = "2026-11-30T12:00:00Z"


class WebhookEndpointDisabled(EventData):
    """``webhook_endpoint.disabled``: deliveries to an endpoint kept failing, so Flint stopped
    sending to it. Events still reach the app's topic and its event feed (``GET /v1/events``,
    where to catch up); what was pending goes out, in order, once the endpoint is re-enabled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "webhook_endpoint_id": example_id("whe"),
                    "install_id": example_id("ins"),
                    "app_id": example_id("app"),
                    "merchant_id": example_id("mer"),
                    "url": "https://plugin.example/flint/webhooks",
                    "reason": "every delivery failed for 3 days (last: HTTP 503)",
                    "failing_since": "2026-11-27T12:00:00Z",
                    "failed_attempts": 48,
                    "last_delivery_id": example_id("dlv"),
                    "disabled_at": _TIME,
                }
            ]
        }
    )
    subject_field = "install_id"

    webhook_endpoint_id: WebhookEndpointId = Field(description="The endpoint disabled.")
    install_id: InstallId = Field(description="The install it belongs to.")
    app_id: AppId = Field(description="The app.")
    merchant_id: MerchantId = Field(description="The merchant who installed the app.")
    url: SafeStr = Field(pattern=r"^https?://\S+$", description="Where deliveries were sent.",
                         examples=["https://plugin.example/flint/webhooks"])
    reason: SafeStr = Field(min_length=1, max_length=MAX_REASON_LENGTH, description="Why, in words.",
                            examples=["every delivery failed for 3 days (last: HTTP 503)"])
    failing_since: AwareDatetime = Field(description="The first failure of the unbroken run.", examples=[_TIME])
    failed_attempts: StrictInt = Field(ge=1, description="Attempts that failed in that run.", examples=[48])
    last_delivery_id: DeliveryId | None = Field(default=None, description="The last delivery that failed.",
                                                examples=[example_id("dlv")])
    disabled_at: AwareDatetime = Field(description="When it was disabled.", examples=[_TIME])


__all__ = ["WebhookEndpointDisabled"]
