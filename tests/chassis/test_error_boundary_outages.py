"""The error boundary answers 503 with Retry-After for an outage however asyncpg reports it,
and 500 for everything else (the fault suite found a connection lost mid-transaction
surfacing as InterfaceError, answered 500)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from flint_chassis.http.boundary import ErrorBoundary


def failing(raise_it):  # noqa: ANN001, ANN201 - a bare ASGI app that raises what it is given
    async def app(scope, receive, send) -> None:  # noqa: ANN001
        raise_it()

    return ErrorBoundary(app, retry_after=3)


def lost_mid_transaction() -> None:
    try:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    except asyncpg.exceptions.ConnectionDoesNotExistError:
        raise asyncpg.exceptions.InterfaceError(
            "cannot call Transaction.__aexit__(): the underlying connection is closed") from None


def lost_mid_transaction_implicitly() -> None:
    try:
        raise ConnectionResetError(104, "Connection reset by peer")
    except ConnectionResetError:
        raise asyncpg.exceptions.InterfaceError("the underlying connection is closed")  # noqa: B904 - as asyncpg does


def bug_while_handling_an_os_error() -> None:
    try:
        raise FileNotFoundError("template")
    except FileNotFoundError:
        raise ValueError("a bug")  # noqa: B904 - the point: not an outage


def interface_misuse() -> None:
    raise asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress")


@pytest.mark.parametrize(("raise_it", "status"), [
    (lost_mid_transaction, 503), (lost_mid_transaction_implicitly, 503),
    (bug_while_handling_an_os_error, 500), (interface_misuse, 500),
])
async def test_an_outage_is_a_503_and_a_bug_a_500(raise_it, status: int):
    transport = httpx.ASGITransport(app=failing(raise_it))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/v1/things")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == ("service_unavailable" if status == 503 else "internal_error")
    assert (response.headers.get("retry-after") == "3") == (status == 503)
