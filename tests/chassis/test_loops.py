"""Background loops go on after any failure, say which failure, and tell readiness when they are
stuck."""

from __future__ import annotations

import asyncio
import logging

import pytest

from flint_chassis.loops import Loop, running, stalled
from tests.support.polling import eventually


async def test_an_outage_is_a_warning_a_bug_is_an_error_with_its_traceback_and_rounds_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a round that fails first as an outage, then as a bug, then works
    outcomes: list[BaseException | None] = [ConnectionResetError("database gone"), KeyError("bug"), None]
    done: list[int] = []

    async def round_() -> bool:
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        done.append(1)
        return False

    loop = Loop("test-loop", round_, 0.01, expected=(OSError,))
    caplog.set_level(logging.INFO, logger="flint.loops")

    # when it runs until a round has worked
    async with running(loop):
        await eventually(lambda: len(done) >= 2, timeout=10, message="rounds after the failures")

    # then the outage was a warning without a traceback, the bug an error with one
    failures = [r for r in caplog.records if "test-loop round failed" in r.getMessage()]
    assert [(r.levelno, r.exc_info is not None and r.exc_info[0] is not None) for r in failures] == [
        (logging.WARNING, False), (logging.ERROR, True)]
    assert "ConnectionResetError: database gone" in failures[0].getMessage()
    assert loop.failing is None and stalled([loop], after=60) == []


async def test_a_failing_or_silent_loop_is_named_as_stalled() -> None:
    # given a loop whose rounds keep failing, and one whose round never ends
    async def broken() -> bool:
        raise RuntimeError("nope")

    async def stuck() -> bool:
        await asyncio.Event().wait()
        return True

    failing, silent = Loop("failing", broken, 0.01), Loop("silent", stuck, 0.01)

    # when they run a little
    async with running(failing, silent):
        await eventually(lambda: failing.rounds >= 1, timeout=10, message="a failed round")
        await asyncio.sleep(0.05)
        reasons = stalled([failing, silent], after=0.04)

    # then readiness is told of both, with the failure's reason
    assert "failing: RuntimeError: nope" in reasons
    assert any(reason.startswith("silent: no round for") for reason in reasons)
