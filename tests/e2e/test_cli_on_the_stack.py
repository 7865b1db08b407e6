"""`flint trigger`'s scenarios and the app's Kafka credential, run as a developer runs them:
`flint` as a process, inside the checkout whose stack (this folder's, see conftest) is up."""

from __future__ import annotations

import pytest

from tests.cli.browser import install_through_cli
from tests.cli.runner import Flint, assert_one_line_error
from tests.sdk.served import FlintServices

pytestmark = pytest.mark.integration


@pytest.fixture
def flint(live_stack, tmp_path) -> Flint:
    """`flint` with a profile of its own, in the checkout, reading this stack's stack.env."""
    runner = Flint(live_stack.state.parent.parent, {"FLINT_STATE_DIR": str(live_stack.state)})
    runner.env["FLINT_CLI_HOME"] = str(tmp_path / "profiles")
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "FLINT_KAFKA_PLUGIN_BOOTSTRAP", "FLINT_INSTALLS_URL",
                 "FLINT_ADMIN_KEY", "FLINT_SANDBOX_DATABASE"):
        runner.env.pop(name, None)
    assert runner("merchants", "create", "Trigger Outdoor").exit_code == 0
    return runner


def test_partial_refund(flint):
    made = flint("trigger", "partial-refund", "--json", "--wait", "45")
    assert made.exit_code == 0, made.stderr
    order, refund = made.json()["order"], made.json()["refund"]
    assert order["payment_status"] == "partially_refunded"
    assert order["amounts"]["refunded"] == {"amount": 1475, "currency": "EUR"}  # one mug: 12.50 + 2.25 tax
    assert (refund["status"], refund["reason"], refund["amount"]["amount"]) == ("succeeded", "returned_items", 1475)


def test_invoice_paid_on_the_hosted_page(flint):
    made = flint("trigger", "invoice-paid", "--json", "--wait", "45")
    assert made.exit_code == 0, made.stderr
    order, invoice = made.json()["order"], made.json()["invoice"]
    assert (order["payment_status"], order["amounts"]["balance_due"]["amount"]) == ("paid", 0)
    assert (invoice["status"], invoice["amount_paid"]["amount"]) == ("paid", 18340)
    assert invoice["payment_id"] == order["payments"][0]["id"]


def test_invoice_overdue(flint, live_stack):
    made = flint("trigger", "invoice-overdue", "--json", "--wait", "60")
    assert made.exit_code == 0, made.stderr
    order, invoice = made.json()["order"], made.json()["invoice"]
    assert (invoice["status"], invoice["overdue"]) == ("open", True)
    timeline = flint("orders", "timeline", order["id"], "--as", "merchant", "--json")
    assert timeline.exit_code == 0, timeline.stderr
    assert "invoice.overdue" in [entry["type"] for entry in timeline.json()]


def test_the_cli_asks_flint_for_the_apps_kafka_credential(flint, live_stack):
    assert flint("apps", "create", "Tail Me", "--scope", "orders:read", "--port", "20340").exit_code == 0
    result, _ = install_through_cli(flint, FlintServices(live_stack.installs_url, live_stack.env["FLINT_ORDERS_URL"]))
    assert result.exit_code == 0, result.stderr
    paid = flint("trigger", "order-paid", "--json")
    assert paid.exit_code == 0, paid.stderr
    # no password anywhere: `events tail` makes the app's credential through the installs API and keeps it
    tailed = flint("events", "tail", "--type", "order.paid", "--count", "1", "--json")
    assert tailed.exit_code == 0, tailed.stderr
    assert "kafka-credential" in tailed.stderr and paid.json()["order"]["id"] in tailed.stdout
    assert flint.profile()["kafka"]["password"]
    # Flint shows a password once: a second make is refused in one line, a rotation gives a new one
    again = flint("apps", "kafka-credential")
    assert_one_line_error(again, "has a Kafka credential already", "--rotate")
    old = flint.profile()["kafka"]["password"]
    rotated = flint("apps", "kafka-credential", "--rotate", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json()["password"] == flint.profile()["kafka"]["password"] != old
