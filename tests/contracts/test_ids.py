"""Ids: prefixed, time-sortable strings (``ord_01JD...``)."""

from __future__ import annotations

import os
import time

import pytest

from flint_contracts import ids
from flint_contracts.ids import PREFIXES, id_time_ms, is_id, new_id


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_an_id_carries_its_prefix(prefix: str) -> None:
    value = new_id(prefix)
    assert value.startswith(f"{prefix}_")
    assert is_id(value, prefix)
    other = "ord" if prefix != "ord" else "pay"
    assert not is_id(value, other)


@pytest.mark.parametrize("prefix", ["xyz", "ORD", "order", ""])
def test_unknown_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="unknown id prefix"):
        new_id(prefix)


@pytest.mark.parametrize(
    "value",
    [
        "ord_123",
        "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1",  # 25 characters
        "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1SS",  # 27 characters
        "ord_01JD3Z6Q0G8V6M4X2K9T7B5N1U",  # U is not Crockford base32
        "ord_01jd3z6q0g8v6m4x2k9t7b5n1s",  # lower case
        "ord_81JD3Z6Q0G8V6M4X2K9T7B5N1S",  # more than 128 bits
        "ord-01JD3Z6Q0G8V6M4X2K9T7B5N1S",
        " ord_01JD3Z6Q0G8V6M4X2K9T7B5N1S",
        None,
        42,
    ],
)
def test_malformed_ids_are_not_ids(value: object) -> None:
    assert not is_id(value, "ord")


def test_ids_made_in_sequence_sort_in_creation_order() -> None:
    made = [new_id("evt") for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_made_within_one_millisecond_still_sort_in_creation_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a clock that does not move
    monkeypatch.setattr(ids, "_generator", ids._new_generator())
    frozen_ns = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: frozen_ns)
    # when many ids are made
    made = [new_id("ord") for _ in range(1000)]
    # then they share one timestamp, are distinct, and sort as made
    assert {id_time_ms(value) for value in made} == {frozen_ns // 1_000_000}
    assert len(set(made)) == len(made)
    assert made == sorted(made)


def test_an_id_tells_when_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id("pay")
    after = time.time_ns() // 1_000_000
    assert before <= id_time_ms(value) <= after


def test_id_time_refuses_what_is_not_an_id() -> None:
    with pytest.raises(ValueError, match="not a Flint id"):
        id_time_ms("order-42")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_never_repeats_its_parents_next_id(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a parent that made an id, and a clock stuck on that millisecond
    monkeypatch.setattr(ids, "_generator", ids._new_generator())
    frozen_ns = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: frozen_ns)
    new_id("ord")
    # when the parent and a forked child each make the next id
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write_end, new_id("ord").encode())
        os._exit(0)
    os.close(write_end)
    parent_id = new_id("ord")
    os.waitpid(child, 0)
    child_id = os.read(read_end, 100).decode()
    os.close(read_end)
    # then they differ
    assert is_id(child_id, "ord")
    assert child_id != parent_id


def test_ids_still_sort_when_the_wall_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an id made now
    monkeypatch.setattr(ids, "_generator", ids._new_generator())
    now_ns = time.time_ns()
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns)
    first = new_id("evt")
    # when the clock steps back a second (NTP) and more ids are made
    monkeypatch.setattr(ids.time, "time_ns", lambda: now_ns - 1_000_000_000)
    later = [new_id("evt") for _ in range(3)]
    # then they still sort after the first
    assert [first, *later] == sorted([first, *later])


def test_an_id_is_a_standard_ulid_of_its_time_and_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    from ulid import ULID

    # given a fixed clock and fixed random bytes
    monkeypatch.setattr(ids, "_generator", ids._new_generator())
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_732_000_000_123_456_789)
    monkeypatch.setattr(ids.os, "urandom", lambda n: bytes(range(1, n + 1)))
    # when two ids are made in that millisecond
    first, second = new_id("ord"), new_id("ord")
    # then any ULID library reads them as that time and those bits, the second one more
    expected = ULID.from_int(1_732_000_000_123 << 80 | int.from_bytes(bytes(range(1, 11)), "big"))
    assert first == f"ord_{expected}"
    assert second == f"ord_{ULID.from_int(int(expected) + 1)}"
    assert ULID.from_str(first[4:]).milliseconds == 1_732_000_000_123
