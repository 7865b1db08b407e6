"""Text Flint stores without having accepted it (a receiver's answer) is made storable, not refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flint_contracts.text import replace_unsafe_text, text_problem


@given(st.text())
def test_after_replacement_any_text_is_storable_and_keeps_its_length(value: str) -> None:
    replaced = replace_unsafe_text(value)
    assert text_problem(replaced) is None
    assert len(replaced) == len(value)
    if text_problem(value) is None:
        assert replaced == value


def test_only_the_unsafe_characters_change() -> None:
    assert replace_unsafe_text("ok\x00\tline\n\x07\ud800end") == "ok\ufffd\tline\n\ufffd\ufffdend"
