"""What invoice events carry besides money and status: the number, the memo, who acted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flint_contracts.events.actor import Actor
from flint_contracts.ids import new_id
from flint_contracts.limits import MAX_INVOICE_NUMBER, MAX_MEMO_LENGTH
from tests.contracts import contract_samples as make


def test_an_invoice_event_carries_its_number_memo_and_actor():
    actor = Actor(type="merchant", id=new_id("mer"))
    data = make.invoice(number=42, memo="Thank you!", actor=actor)
    again = type(data).model_validate_json(data.model_dump_json())
    assert (again.number, again.memo, again.actor) == (42, "Thank you!", actor)


def test_older_invoice_events_without_them_still_read():
    data = make.invoice()
    assert (data.number, data.memo, data.actor) == (None, None, None)


@pytest.mark.parametrize(
    "field, value",
    [
        ("number", 0),
        ("number", MAX_INVOICE_NUMBER + 1),
        ("number", "42"),
        ("memo", ""),
        ("memo", "x" * (MAX_MEMO_LENGTH + 1)),
        ("memo", "nul\x00"),
        ("actor", {"type": "merchant"}),
    ],
)
def test_malformed_numbers_memos_and_actors_are_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        make.invoice(**{field: value})
    assert field in str(refused.value)
