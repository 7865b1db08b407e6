"""Text and JSON that can be stored and read back: what every interface refuses at its edge."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from flint_contracts.envelope import EventEnvelope
from flint_contracts.limits import MAX_JSON_DEPTH, MAX_JSON_INTEGER
from flint_contracts.text import SafeStr, check_json, json_problem, text_problem

_FORBIDDEN = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] + ["\ud800", "\udfff"]


@pytest.mark.parametrize("char", _FORBIDDEN)
def test_each_forbidden_character_is_refused_with_a_reason(char: str) -> None:
    assert text_problem(f"Tent{char}X") is not None


def test_the_reason_names_the_problem() -> None:
    assert text_problem("a\x00b") == "must not contain a NUL character"
    assert "surrogate" in text_problem("Tent\ud800")
    assert text_problem("bell\x07") == "must not contain the control character U+0007"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_ordinary_text_passes_unchanged(text: str) -> None:
    assert text_problem(text) is None


def test_tabs_and_newlines_are_text() -> None:
    assert text_problem("line one\nline two\r\n\tindented") is None


def test_safe_str_in_a_model_names_the_field() -> None:
    class Note(BaseModel):
        body: SafeStr

    with pytest.raises(ValidationError) as caught:
        Note(body="hi\x00")
    assert caught.value.errors()[0]["loc"] == ("body",)


def test_json_problem_gives_the_path_of_the_first_bad_value() -> None:
    assert json_problem({"a": {"b": [1, "x\x00"]}}) == ("a.b.1", "must not contain a NUL character")
    assert json_problem({"a\x00": 1})[0] == "a\x00"
    assert json_problem({"n": MAX_JSON_INTEGER + 1})[0] == "n"
    assert json_problem({"n": -MAX_JSON_INTEGER}) is None
    assert json_problem({"f": float("nan")}) == ("f", "numbers must be finite")
    assert json_problem({"b": b"bytes"}) == ("b", "bytes is not a JSON value")


def test_nesting_is_bounded_without_recursion() -> None:
    deep: object = "leaf"
    for _ in range(100_000):
        deep = [deep]
    path, reason = json_problem(deep)
    assert "levels deep" in reason
    assert path.count(".") == MAX_JSON_DEPTH - 1
    ok: object = "leaf"
    for _ in range(MAX_JSON_DEPTH):
        ok = {"k": ok}
    assert json_problem(ok) is None


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_JSON_INTEGER, MAX_JSON_INTEGER) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8), children, max_size=4),
    max_leaves=30,
))
def test_json_that_passes_survives_a_round_trip(value: object) -> None:
    if json_problem(value) is None:
        assert json.loads(json.dumps(value)) == value
        assert check_json(value) is value


def test_an_envelope_refuses_what_could_not_be_stored() -> None:
    for bad in ({"id": "evt_\x00nul"}, {"id": "e" * 3000}, {"subject": "ord\ud800"},
                {"data": {"order": {"title": "x\x00"}}}, {"previous": {"n": 2**64}}):
        with pytest.raises(ValidationError):
            EventEnvelope(type="order.created", source="test", **bad)


def test_an_envelope_with_a_nul_escape_in_its_bytes_is_refused() -> None:
    raw = b'{"id": "evt_\\u0000nul", "type": "payment.captured", "source": "test"}'
    with pytest.raises(ValidationError) as caught:
        EventEnvelope.from_bytes(raw)
    assert caught.value.errors()[0]["loc"] == ("id",)
