"""App installs (``flint.installs.events.v1``, keyed by install id)."""

from __future__ import annotations

from typing import Self

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from flint_contracts import event_types as types
from flint_contracts.event_types import SCOPES
from flint_contracts.events.base import EventData
from flint_contracts.fields import AppId, InstallId, MerchantId, example_id
from flint_contracts.literals import InstallStatus


class InstallData(EventData):
    """``install.created`` / ``install.scopes_updated`` / ``install.uninstalled``.

    Services keep a projection of these to refuse tokens of uninstalled apps at once and to
    know what each install may see.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "install_id": example_id("ins"),
                    "app_id": example_id("app"),
                    "merchant_id": example_id("mer"),
                    "scopes": ["orders:read", "refunds:write"],
                    "status": "active",
                    "occurred_at": "2026-11-27T12:00:00Z",
                }
            ]
        }
    )
    subject_field = "install_id"

    install_id: InstallId = Field(description="The install.", examples=[example_id("ins")])
    app_id: AppId = Field(description="The app installed.", examples=[example_id("app")])
    merchant_id: MerchantId = Field(description="The merchant who installed it.", examples=[example_id("mer")])
    scopes: list[str] = Field(
        description="Scopes granted, after this change.", examples=[["orders:read", "refunds:write"]]
    )
    status: InstallStatus = Field(description="Whether the app is still installed.", examples=["active"])
    occurred_at: AwareDatetime = Field(description="When it happened.", examples=["2026-11-27T12:00:00Z"])

    @model_validator(mode="after")
    def _known_scopes(self) -> Self:
        unknown = [scope for scope in self.scopes if scope not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known scopes are {sorted(SCOPES)}")
        if len(set(self.scopes)) != len(self.scopes):
            raise ValueError("each scope may be granted only once")
        return self

    def check_type(self, type_: str) -> None:
        expected = "uninstalled" if type_ == types.INSTALL_UNINSTALLED else "active"
        if self.status != expected:
            raise ValueError(f"a {type_} event must carry an {expected} install, this one is {self.status}")
