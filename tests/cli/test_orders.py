"""`flint orders get|list|timeline` as the installed app (and --as merchant), against the
real orders service: tables, --json, filters, pages, and one-line errors."""

from __future__ import annotations

import json

import pytest

from flint_sdk import FlintClient
from tests.cli.browser import install_through_cli, set_up_app
from tests.cli.runner import Flint, assert_one_line_error
from tests.sdk.platform import order_body

pytestmark = pytest.mark.integration


@pytest.fixture
def installed(flint: Flint, flint_services) -> Flint:
    set_up_app(flint, "orders:read", "orders:write")
    result, _ = install_through_cli(flint, flint_services)
    assert result.exit_code == 0, result.stderr
    return flint


@pytest.fixture
def merchant(installed: Flint, flint_services):
    stored = installed.profile()["merchant"]
    with FlintClient.for_merchant(flint_services.installs_url, stored["id"], stored["secret_key"]) as client:
        yield client


def test_get_shows_the_order_as_the_app_reads_it(installed, merchant):
    order = merchant.orders.create(order_body(customer={"email": "grace@example.com", "name": "Grace"}))
    shown = installed("orders", "get", order.id)
    assert shown.exit_code == 0, shown.stderr
    assert f"Order #{order.number}  {order.id}  (open, unpaid)" in shown.stdout
    assert "Grace <grace@example.com>" in shown.stdout
    assert "Total      28.80 EUR" in shown.stdout and "balance due 28.80 EUR" in shown.stdout
    assert "MUG-1" in shown.stdout
    as_json = installed("orders", "get", order.id, "--json")
    assert as_json.exit_code == 0
    assert as_json.json()["id"] == order.id and as_json.json()["amounts"]["total"] == {"amount": 2880,
                                                                                       "currency": "EUR"}


def test_list_pages_filters_and_all(installed, merchant):
    made = [merchant.orders.create(order_body(customer={"email": f"buyer{n}@example.com"})) for n in range(3)]
    newest_first = [order.id for order in reversed(made)]
    first = installed("orders", "list", "--limit", "2", "--json").json()
    assert [o["id"] for o in first["data"]] == newest_first[:2] and first["has_more"] is True
    second = installed("orders", "list", "--limit", "2", "--starting-after", first["next_cursor"], "--json").json()
    assert [o["id"] for o in second["data"]] == newest_first[2:] and second["has_more"] is False
    every = installed("orders", "list", "--limit", "2", "--all", "--json").json()
    assert [o["id"] for o in every["data"]] == newest_first
    only = installed("orders", "list", "--customer-email", "BUYER1@example.com", "--json").json()
    assert [o["id"] for o in only["data"]] == [made[1].id]
    none_yet = installed("orders", "list", "--payment-status", "paid", "--created-gte", "2000-01-01", "--json")
    assert none_yet.json()["data"] == []
    table = installed("orders", "list", "--limit", "2")
    assert table.exit_code == 0
    assert newest_first[0] in table.stdout and newest_first[2] not in table.stdout
    assert f"--starting-after {first['next_cursor']}" in table.stderr


def test_timeline_lists_each_change(installed, merchant):
    order = merchant.orders.create(order_body())
    merchant.orders.add_note(order.id, "Gift wrap, please")
    shown = installed("orders", "timeline", order.id, "--json")
    assert [entry["type"] for entry in shown.json()] == ["order.created", "order.note_added"]
    table = installed("orders", "timeline", order.id)
    assert table.exit_code == 0 and "order.note_added" in table.stdout and "Gift wrap" not in table.stderr


def test_merchant_reads_with_as_merchant(installed, merchant):
    order = merchant.orders.create(order_body())
    got = installed("orders", "get", order.id, "--as", "merchant", "--json")
    assert got.exit_code == 0 and got.json()["id"] == order.id


def test_an_unknown_order_is_one_line(installed):
    assert_one_line_error(installed("orders", "get", "ord_01J00000000000000000000000"), "404 not_found")
    assert_one_line_error(installed("orders", "get", "nope"), "422 validation_failed: order_id")


def test_a_refused_filter_is_one_line(installed):
    assert_one_line_error(installed("orders", "list", "--status", "lost"), "422", "status")
    assert_one_line_error(installed("orders", "list", "--limit", "101"), "--limit", exit_code=2)
    assert_one_line_error(installed("orders", "list", "--created-lt", "yesterday"), "ISO 8601", exit_code=2)
    assert_one_line_error(installed("orders", "list", "--starting-after", "forged.cursor"), "422", "invalid_cursor")


def test_revoked_tokens_say_to_install_again(installed):
    profile = installed.profile()
    profile["tokens"]["access_token"] = "expired"
    profile["tokens"]["expires_at"] = 0
    profile["tokens"]["refresh_token"] = "not-a-refresh-token"
    installed.profile_path.write_text(json.dumps(profile))
    assert_one_line_error(installed("orders", "list"), "install it again with `flint install`")


def test_commands_renewing_at_once_keep_the_install(installed):
    """Flint revokes an install whose refresh token is used twice: two commands finding the
    access token expired at the same time must not both renew with the same refresh token."""
    profile = installed.profile()
    profile["tokens"]["expires_at"] = 0
    installed.profile_path.write_text(json.dumps(profile))
    both = [installed.start("orders", "list", "--json") for _ in range(2)]
    for process in both:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert json.loads(out)["data"] == []
    assert installed("orders", "list").exit_code == 0
    assert installed.profile()["tokens"]["refresh_token"] != profile["tokens"]["refresh_token"]


def test_orders_without_an_install_or_a_stack(flint, bare_flint):
    set_up_app(flint)
    assert_one_line_error(flint("orders", "list"), "is not installed", "flint install")
    assert_one_line_error(flint("orders", "get"), "Missing argument", exit_code=2)
    assert_one_line_error(bare_flint("orders", "list"), "has no app")
    assert_one_line_error(bare_flint("orders", "list", "--as", "merchant"), "has no merchant")


def test_orders_when_the_stack_is_down(installed):
    result = installed("orders", "list", FLINT_INSTALLS_URL="http://127.0.0.1:19398")
    assert_one_line_error(result, "cannot reach Flint", "flint dev status")
