"""An app's Kafka credential: ``/v1/apps/{app_id}/kafka-credential``.

Who calls: the app itself, with its OAuth client id and secret (HTTP Basic, as at the token
endpoint). The credential is the app's, for every merchant that installs it (its topic holds
them all), so no install token (one merchant's) fits, and the platform admin has no business
seeing a plugin's password. The password is shown once, in the answer that made it; Flint
keeps nothing of it (the broker holds a salted SCRAM hash). Losing it means rotating.

The credential alone reads nothing: the broker lets the app read its topic while it has at
least one active install (``flint_installs.kafka.sync``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from flint_chassis.http import IdempotencyKey, json_response
from flint_chassis.kafka_access import (
    AppCredential,
    CredentialExists,
    KafkaAccessError,
    NoCredential,
    SCRAM_MECHANISM,
    app_grants,
)
from flint_chassis.problems import NOT_FOUND, SERVICE_UNAVAILABLE, Problem, problem_type
from flint_contracts.fields import example_id
from flint_contracts.ids import id_pattern, is_id
from flint_contracts.text import text_problem
from flint_contracts.topics import app_topic
from flint_installs import handlers
from flint_installs.api import Context, Edge
from flint_installs.domain import App
from flint_installs.kafka import repository

router = APIRouter(tags=["kafka"])

INVALID_CLIENT = problem_type(
    "invalid_client", 401, "Unauthorized", "The call needs the app's client id and secret (HTTP Basic).")
KAFKA_CREDENTIAL_EXISTS = problem_type(
    "kafka_credential_exists", 409, "Kafka credential exists",
    "The app has a Kafka credential already; rotate it for a new password.")
NO_KAFKA_CREDENTIAL = problem_type(
    "no_kafka_credential", 409, "No Kafka credential", "The app has no Kafka credential yet; create one first.")

_CONFLICT = {409: {"description": "A credential exists already (create), or none does (rotate)."}}
AppIdPath = Annotated[str, Path(pattern=id_pattern("app"), max_length=30, examples=[example_id("app")])]


class _ClientBasic(HTTPBasic):
    """HTTP Basic that lets the route answer a malformed header in Flint's words."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)
        except HTTPException:
            return None


_basic = _ClientBasic(auto_error=False, scheme_name="clientCredentials",
                      description="The app's OAuth client_id and client_secret.")


async def calling_app(app_id: AppIdPath, ctx: Context,
                      credentials: HTTPBasicCredentials | None = Depends(_basic)) -> App:
    """The app whose client id and secret came with the request; another app's id is a 404."""
    unauthorized = Problem(INVALID_CLIENT, "authenticate with the app's client id and secret (HTTP Basic)",
                           headers={"WWW-Authenticate": 'Basic realm="flint", charset="UTF-8"'})
    if credentials is None or not is_id(credentials.username, "app") or text_problem(credentials.password):
        raise unauthorized
    app = await handlers.authenticate_app(ctx.pool, credentials.username, credentials.password)
    if app is None:
        raise unauthorized
    if app.id != app_id:
        raise Problem(NOT_FOUND, f"no app {app_id} for this client")
    return app


CallingApp = Annotated[App, Depends(calling_app)]


class KafkaAccessOut(BaseModel):
    object: Literal["kafka_access"] = "kafka_access"
    username: str = Field(description="The SASL user: the app id.", examples=[example_id("app")])
    bootstrap_servers: str = Field(description="The broker's plugin listener.", examples=["127.0.0.1:19094"])
    security_protocol: Literal["SASL_PLAINTEXT"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512"] = SCRAM_MECHANISM
    topic: str = Field(description="The app's topic.", examples=[f"flint.app.{example_id('app')}.v1"])
    group_prefix: str = Field(description="Consumer groups must start with this (then `.` and a name).")
    has_credential: bool = Field(description="Whether a password was made (and not deleted).")
    can_read: bool = Field(description="Whether the broker lets the app read its topic now: while it is installed.")


class KafkaCredentialOut(BaseModel):
    object: Literal["kafka_credential"] = "kafka_credential"
    username: str = Field(examples=[example_id("app")])
    password: str = Field(description="Shown only in this response. Flint keeps nothing of it.")
    bootstrap_servers: str = Field(examples=["127.0.0.1:19094"])
    security_protocol: Literal["SASL_PLAINTEXT"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512"] = SCRAM_MECHANISM
    topic: str
    group_prefix: str

    @classmethod
    def of(cls, credential: AppCredential) -> KafkaCredentialOut:
        return cls(username=credential.username, password=credential.password,
                   bootstrap_servers=credential.bootstrap_servers, topic=credential.topic,
                   group_prefix=credential.group_prefix)


def _unavailable(error: KafkaAccessError) -> Problem:
    return Problem(SERVICE_UNAVAILABLE, f"Kafka: {error}", headers={"Retry-After": "5"})


@router.get("/v1/apps/{app_id}/kafka-credential", response_model=KafkaAccessOut,
            summary="What the app may do on Kafka now (its client id and secret); never the password")
async def get_kafka_access(app: CallingApp, ctx: Context) -> KafkaAccessOut:
    try:
        access = await ctx.kafka_access().access_of(app.id)
    except KafkaAccessError as error:
        raise _unavailable(error) from None
    return KafkaAccessOut(username=app.id, bootstrap_servers=ctx.settings.kafka_plugin_bootstrap,
                          topic=app_topic(app.id), group_prefix=app.id, has_credential=access.has_credential,
                          can_read=set(app_grants(app.id)) <= set(access.grants))


@router.post("/v1/apps/{app_id}/kafka-credential", status_code=201, response_model=KafkaCredentialOut,
             responses=_CONFLICT, summary="Make the app's Kafka credential (its client id and secret); shown once")
async def create_kafka_credential(app: CallingApp, request: Request, ctx: Context, edge: Edge,
                                  idempotency_key: IdempotencyKey = None) -> Response:
    async def action(conn: asyncpg.Connection) -> Response:
        await repository.lock_credential(conn, app.id)
        try:
            credential = await ctx.kafka_access().create_credential(app.id)
        except CredentialExists as error:
            raise Problem(KAFKA_CREDENTIAL_EXISTS, str(error)) from None
        except KafkaAccessError as error:
            raise _unavailable(error) from None
        return json_response(KafkaCredentialOut.of(credential), 201)

    return await edge.idempotency.run(request, caller=f"app:{app.id}", key=idempotency_key, action=action, sealed=True)


@router.post("/v1/apps/{app_id}/kafka-credential/rotate", response_model=KafkaCredentialOut, responses=_CONFLICT,
             summary="A new Kafka password for the app (its client id and secret); the old one stops at once")
async def rotate_kafka_credential(app: CallingApp, request: Request, ctx: Context, edge: Edge,
                                  idempotency_key: IdempotencyKey = None) -> Response:
    """New logins with the old password fail at once; a connection already logged in with it
    is closed by the broker when its login expires (docs/kafka.md)."""
    async def action(conn: asyncpg.Connection) -> Response:
        await repository.lock_credential(conn, app.id)
        try:
            credential = await ctx.kafka_access().rotate_credential(app.id)
        except NoCredential as error:
            raise Problem(NO_KAFKA_CREDENTIAL, str(error)) from None
        except KafkaAccessError as error:
            raise _unavailable(error) from None
        return json_response(KafkaCredentialOut.of(credential))

    return await edge.idempotency.run(request, caller=f"app:{app.id}", key=idempotency_key, action=action, sealed=True)
