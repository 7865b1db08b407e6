"""Installs housekeeping (purging expired codes, tokens and keys; key rotation) goes on after
any failure, as every background loop must."""

from __future__ import annotations

import asyncio
import logging

import pytest

from flint_installs import context as context_module
from flint_installs.config import InstallsSettings
from flint_installs.context import ServiceContext
from tests.support.polling import eventually


async def test_an_unexpected_error_is_logged_and_the_next_round_still_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given housekeeping every 10 ms whose purge fails with a bug, then works
    rounds: list[str] = []

    async def purge(pool) -> None:
        rounds.append("purge")
        if len(rounds) == 1:
            raise KeyError("a bug, not an outage")

    async def purge_history(pool, kept_since) -> None:
        rounds.append("history")

    monkeypatch.setattr(context_module.handlers, "purge_expired", purge)
    monkeypatch.setattr(context_module.handlers, "purge_delivery_history", purge_history)
    service = ServiceContext(InstallsSettings(housekeeping_interval=0.01))
    monkeypatch.setattr(ServiceContext, "pool", property(lambda self: object()))

    class Keys:
        async def signing_key(self) -> None:
            rounds.append("rotate")

    service.keys = Keys()  # type: ignore[assignment]
    caplog.set_level(logging.ERROR, logger="flint.installs")

    # when it runs
    task = asyncio.create_task(service._keep_house())
    try:
        # then the failure is logged with its traceback, and later rounds purge and rotate
        await eventually(lambda: rounds.count("rotate") >= 2, timeout=5, message="two more rounds")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [failure] = [r for r in caplog.records if "housekeeping failed unexpectedly" in r.getMessage()]
    assert failure.exc_info and failure.exc_info[0] is KeyError
