"""`flint dev up|down|status` run deploy/stack.py in a state folder of the test's own, with the
shared stack's Kafka and PostgreSQL given as external servers (so nothing is started, and the
stack of `make up` is never touched)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.runner import Flint, assert_one_line_error

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout_flint(tmp_path, stack) -> Flint:
    """`flint` in the checkout, its stack state under the test's folder, servers external."""
    env = {"FLINT_ROOT": str(ROOT), "FLINT_STATE_DIR": str(tmp_path / "state"),
           "KAFKA_BOOTSTRAP_SERVERS": stack["KAFKA_BOOTSTRAP_SERVERS"], "DATABASE_URL": stack["DATABASE_URL"],
           # the test stack's mail sink: `status` checks external servers where they are
           "FLINT_SMTP_HOST": stack.get("FLINT_SMTP_HOST") or os.environ.get("FLINT_SMTP_HOST") or "127.0.0.1",
           "FLINT_SMTP_PORT": stack.get("FLINT_SMTP_PORT") or os.environ.get("FLINT_SMTP_PORT") or "8025"}
    if stack.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
        env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] = stack["FLINT_KAFKA_PLUGIN_BOOTSTRAP"]
    return Flint(tmp_path, env)


def test_up_status_down_with_external_servers(checkout_flint, tmp_path):
    up = checkout_flint("dev", "up", "--infra-only")
    assert up.exit_code == 0, up.stderr
    assert "✓ Starting Kafka, PostgreSQL and the mail sink" in up.stderr
    assert (tmp_path / "state" / "stack.env").is_file()
    status = checkout_flint("dev", "status")
    assert status.exit_code == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[0].split()[:2] == ["kafka", "healthy"]  # checked where it is
    as_json = checkout_flint("dev", "status", "--json").json()
    assert as_json["healthy"] is True and as_json["exit_code"] == 0
    assert as_json["kafka_plugin_bootstrap"] == checkout_flint.env.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP")
    # the same table (its live numbers, lag on a shared broker, may move between two runs)
    def components(lines: list[str]) -> list[list[str]]:
        return [line.split()[:2] for line in lines if line and not line[0].isspace()]

    assert components(as_json["table"]) == components(status.stdout.splitlines())
    down = checkout_flint("dev", "down")
    assert down.exit_code == 0, down.stderr


def test_status_exits_with_the_stacks_code_when_a_service_is_down(checkout_flint, tmp_path):
    # stack.env says `up` started the installs service, but nothing of this state folder runs
    state = tmp_path / "state"
    state.mkdir()
    (state / "stack.env").write_text("FLINT_INSTALLS_URL=http://127.0.0.1:19396\n")
    status = checkout_flint("dev", "status")
    assert status.exit_code == 3
    assert [line.split()[:2] for line in status.stdout.splitlines() if line.startswith("installs")] == [
        ["installs", "stopped"]]
    as_json = checkout_flint("dev", "status", "--json")
    assert as_json.exit_code == 3
    assert as_json.json()["healthy"] is False
    assert as_json.json()["services"] == {"installs": {"url": "http://127.0.0.1:19396", "ready": False}}


def test_up_that_fails_is_one_line(checkout_flint):
    result = checkout_flint("dev", "up", DATABASE_URL="postgresql://postgres:x@127.0.0.1:19395/postgres")
    assert_one_line_error(result, "the stack did not start", "cannot reach PostgreSQL")


@pytest.mark.parametrize("command", [("dev", "up"), ("dev", "down"), ("dev", "status")])
def test_dev_outside_a_checkout_is_one_line(bare_flint, command):
    assert_one_line_error(bare_flint(*command), "runs inside a Flint checkout")


def test_dev_with_a_wrong_root_or_argument(checkout_flint, tmp_path):
    assert_one_line_error(checkout_flint("dev", "status", FLINT_ROOT=str(tmp_path)), "is not a Flint checkout")
    assert_one_line_error(checkout_flint("dev", "up", "--all"), "No such option", exit_code=2)
    assert_one_line_error(checkout_flint("dev", "restart"), "No such command", exit_code=2)
