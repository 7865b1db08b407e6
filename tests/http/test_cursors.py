"""List cursors are opaque and signed: only what a list handed out reads back."""

from __future__ import annotations

import pytest

from flint_chassis.http.lists import Cursors
from flint_chassis.problems import Problem
from flint_chassis.service_secret import ServiceSecret, b64url, b64url_decode

SECRET = ServiceSecret("s" * 40, service="orders")


def test_a_cursor_reads_back_the_position_it_was_made_from():
    cursors = Cursors(SECRET)
    cursor = cursors.encode("orders", "mer_1", [1732000000000000, "ord_X"])
    assert cursors.decode("orders", "mer_1", cursor) == [1732000000000000, "ord_X"]


@pytest.mark.parametrize("change", ["edited", "other list", "other caller", "other service", "no signature"])
def test_an_edited_or_foreign_cursor_is_a_422_invalid_cursor(change):
    cursors = Cursors(SECRET)
    cursor = cursors.encode("orders", "mer_1", [5, "ord_X"])
    payload, signature = cursor.split(".")
    list_name, caller, reader = "orders", "mer_1", cursors
    if change == "edited":
        cursor = b64url(b64url_decode(payload).replace(b"5", b"6")) + "." + signature
    elif change == "other list":
        list_name = "installs"
    elif change == "other caller":
        caller = "mer_2"
    elif change == "other service":
        reader = Cursors(ServiceSecret("s" * 40, service="refunds"))
    else:
        cursor = payload
    with pytest.raises(Problem) as refused:
        reader.decode(list_name, caller, cursor)
    assert refused.value.code == "invalid_cursor" and refused.value.status == 422
    assert refused.value.errors[0]["field"] == "starting_after"
