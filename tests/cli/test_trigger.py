"""`flint trigger`: each scenario makes real things happen on the stack (an order created with
the merchant's token, a payment captured by the sandbox processor and published), and the
order record shows it."""

from __future__ import annotations

import re

import pytest

from tests.cli.runner import assert_one_line_error

pytestmark = pytest.mark.integration


def test_order_paid_creates_an_order_and_pays_it(flint):
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    result = flint("trigger", "order-paid")
    assert result.exit_code == 0, result.stderr
    created = re.search(r"Created order (ord_\w+) \(#(\d+)\) for 183\.40 EUR\.", result.stdout)
    assert created, result.stdout
    order_id = created.group(1)
    assert re.search(r"Captured payment pay_\w+ \(sbx_ch_\w+\) and published payment\.captured\.", result.stdout)
    assert f"Order {order_id} is paid" in result.stdout
    order = flint("orders", "get", order_id, "--as", "merchant", "--json").json()
    assert order["payment_status"] == "paid"
    assert order["amounts"]["captured"] == {"amount": 18340, "currency": "EUR"}
    assert [p["status"] for p in order["payments"]] == ["captured"]


def test_order_paid_as_json(flint):
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    result = flint("trigger", "order-paid", "--json")
    assert result.exit_code == 0, result.stderr
    made = result.json()
    assert made["scenario"] == "order-paid"
    assert made["order"]["payment_status"] == "paid"
    assert made["payment"]["order_id"] == made["order"]["id"]
    assert made["payment"]["processor_reference"].startswith("sbx_ch_")


def test_trigger_errors_are_one_line(flint, bare_flint):
    assert_one_line_error(flint("trigger", "order-payed"), "no scenario 'order-payed'", "order-paid", exit_code=2)
    assert_one_line_error(flint("trigger"), "Missing argument", exit_code=2)
    assert_one_line_error(flint("trigger", "order-paid"), "has no merchant", "flint merchants create")
    assert_one_line_error(flint("trigger", "order-paid", "--wait", "0"), "--wait", exit_code=2)
    assert_one_line_error(bare_flint("trigger", "order-paid"), "has no merchant")


def test_trigger_without_the_sandbox_settings(flint):
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    result = flint("trigger", "order-paid", DATABASE_URL="", KAFKA_BOOTSTRAP_SERVERS="")
    assert_one_line_error(result, "the sandbox processor needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS")


def test_trigger_when_the_stack_is_down(flint):
    assert flint("merchants", "create", "Acme Outdoor").exit_code == 0
    result = flint("trigger", "order-paid", FLINT_INSTALLS_URL="http://127.0.0.1:19398")
    assert_one_line_error(result, "cannot reach Flint")
