"""Issue 7 on the real broker: hostile or broken messages produced straight onto a topic.
Each is dead-lettered with its reason and code, the valid message behind it on the same
partition is applied within a second, the committed offset moves past both, and nothing
else changes."""

from __future__ import annotations

import json
import logging

import pytest

from flint_contracts.topics import dead_letter_topic
from tests.chassis import ledger
from tests.chassis.consuming import committed, produce, read, start_ledger, start_relay
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def deposits(pool, kafka_bootstrap, new_topics):
    """A ledger consumer and relay on a fresh topic."""
    await pool.execute(ledger.SCHEMA)
    [topic] = await new_topics("deposits")
    relay = await start_relay(pool, kafka_bootstrap, poll_interval=0.1)
    try:
        running = await start_ledger(kafka_bootstrap, pool, topic)
        try:
            yield topic, running
        finally:
            await running.stop()
    finally:
        await relay.stop()


def tampered(**changes) -> bytes:
    """A valid deposit's JSON with some fields replaced (as a buggy producer would send)."""
    body = json.loads(ledger.deposit(ledger.account(), 100).to_bytes())
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(body).encode()


HOSTILE = {
    "nul_in_event_id": ((None, tampered(id="evt_\u0000nul"), []), "invalid_envelope", "id:"),
    "event_id_of_3_kb": ((None, tampered(id="evt_" + "x" * 3000), []), "invalid_envelope", "id:"),
    "nul_in_a_header": ((None, b"not json", [("x-probe", b"a\x00b")]), "malformed", "malformed event"),
    "nul_in_the_key": ((b"k\x00ey", b"not json", []), "malformed", "malformed event"),
    "not_utf8": ((b"\xff", b"\xff\xfe\x00", [("x-bin", b"\xff\x00")]), "malformed", "malformed event"),
    "lone_surrogate": ((None, tampered(data__processor="\ud800"), []), "malformed", "malformed event"),
    "nul_in_data": ((None, tampered(data__processor="a\u0000b"), []), "invalid_event", "NUL"),
    "unregistered_type": ((None, tampered(type="payment.doubled"), []), "unknown_type", "payment.doubled"),
    "data_off_contract": ((None, tampered(data__amount={"amount": -5, "currency": "EUR"}), []), "invalid_event",
                          "invalid payment.captured data: amount"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
async def test_a_hostile_message_is_dead_lettered_and_the_next_one_applied_within_a_second(
    case, deposits, pool, kafka_bootstrap
):
    (key, value, headers), code, reason_part = HOSTILE[case]
    topic, running = deposits
    # given a hostile message and, behind it on the same partition, a valid deposit
    account = ledger.account()
    valid = ledger.deposit(account, 500)
    offsets = await produce(kafka_bootstrap, topic, (key, value, headers), (account.encode(), valid.to_bytes(), []))
    # then the valid deposit is applied within a second
    await eventually(lambda: _is(ledger.balance(pool, account), (500, 1)), timeout=1.0, message="the valid deposit")
    # and the hostile one is on the dead-letter topic byte for byte, with its reason and code
    [dead] = await read(kafka_bootstrap, dead_letter_topic(topic, "ledger"), expected=1)
    why = {k: v.decode() for k, v in dead.headers if k.startswith("flint-dlq-")}
    assert (dead.key, dead.value) == (key, value)
    assert [(k, v) for k, v in dead.headers if not k.startswith("flint-dlq-")] == headers
    assert why["flint-dlq-code"] == code and reason_part in why["flint-dlq-reason"], why
    assert (why["flint-dlq-source-topic"], why["flint-dlq-source-offset"]) == (topic, str(offsets[0]))
    # and the group's committed offset is past both
    await eventually(lambda: _is(committed(running, topic), offsets[-1] + 1), timeout=5, message="the commit")
    # and nothing else changed: one deposit applied, one dead letter written, nothing parked
    assert await pool.fetchval("SELECT count(*) FROM ledger") == 1
    assert await pool.fetchval("SELECT count(*) FROM flint_outbox") == 1
    assert await pool.fetchval("SELECT count(*) FROM flint_parked") == 0


@pytest.mark.parametrize(("steer", "amount", "code", "reason"), [
    ("ledger_blocked", 100, "account_blocked", "account is blocked"),
    ("ledger_broken", 100, "handler_error", "RuntimeError: handler bug: cannot process this deposit"),
    (None, 3_000_000_000, "invalid_event", "the database refused its data"),
], ids=["permanent_error", "handler_bug", "database_data_error"])
async def test_a_handler_that_can_never_succeed_is_dead_lettered_at_once(
    steer, amount, code, reason, deposits, pool, kafka_bootstrap
):
    topic, running = deposits
    # given a deposit the handler refuses, fails on, or the database cannot store, then a valid one
    doomed, account = ledger.account(), ledger.account()
    if steer:
        await pool.execute(f"INSERT INTO {steer} VALUES ($1)", doomed)
    bad, good = ledger.deposit(doomed, amount), ledger.deposit(account, 700)
    offsets = await produce(kafka_bootstrap, topic, (doomed.encode(), bad.to_bytes(), [("trace", b"t-1")]),
                            (account.encode(), good.to_bytes(), []))
    # then the valid deposit is applied within a second, the other tried once and dead-lettered
    await eventually(lambda: _is(ledger.balance(pool, account), (700, 1)), timeout=1.0, message="the valid deposit")
    [dead] = await read(kafka_bootstrap, dead_letter_topic(topic, "ledger"), expected=1)
    why = {k: v.decode() for k, v in dead.headers}
    assert (why["flint-dlq-code"], why["flint-dlq-attempts"], why["trace"]) == (code, "1", "t-1")
    assert why["flint-dlq-reason"].startswith(reason)
    # and the service noted why in the dead letter's transaction; nothing of it was applied
    assert await pool.fetchval("SELECT reason FROM ledger_notes WHERE event_id = $1", bad.id) == why["flint-dlq-reason"]
    assert await ledger.balance(pool, doomed) is None
    await eventually(lambda: _is(committed(running, topic), offsets[-1] + 1), timeout=5, message="the commit")


async def test_a_redelivered_event_is_applied_once_and_logged_as_a_duplicate(deposits, pool, kafka_bootstrap, caplog):
    caplog.set_level(logging.INFO, logger="flint.consumer")
    topic, _ = deposits
    account = ledger.account()
    event = ledger.deposit(account, 250)
    await produce(kafka_bootstrap, topic, *[(account.encode(), event.to_bytes(), [])] * 2,
                  (account.encode(), ledger.deposit(account, 1).to_bytes(), []))
    await eventually(lambda: _is(ledger.balance(pool, account), (251, 2)), timeout=5, message="two deposits")
    assert any(r.levelname == "INFO" and "duplicate" in r.getMessage() and event.id in r.getMessage()
               for r in caplog.records)


async def _is(value, expected) -> bool:
    return (await value) == expected
