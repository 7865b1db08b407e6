"""`flint profile show|set` and where profiles live; a broken profile is one line, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.runner import Flint, assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]


def test_show_shortens_secrets_unless_revealed(bare_flint):
    assert bare_flint("profile", "set", "installs-url", "http://127.0.0.1:19394/").exit_code == 0
    assert bare_flint("profile", "set", "kafka-password", "s3cr3t-password").exit_code == 0
    shown = bare_flint("profile", "show", "--json").json()
    assert shown["installs_url"] == "http://127.0.0.1:19394"
    assert shown["kafka"]["password"] == "s3cr3t…"
    assert shown["path"] == str(bare_flint.profile_path)
    revealed = bare_flint("profile", "show", "--reveal", "--json").json()
    assert revealed["kafka"]["password"] == "s3cr3t-password"
    table = bare_flint("profile", "show")
    assert table.exit_code == 0 and "installs_url" in table.stdout and "s3cr3t-password" not in table.stdout


def test_profiles_are_separate_by_name(bare_flint):
    assert bare_flint("--profile", "staging", "profile", "set", "installs-url", "http://a.example").exit_code == 0
    assert_one_line_error(bare_flint("profile", "show"), "no profile 'default' yet")
    staging = bare_flint("profile", "show", "--json", FLINT_PROFILE="staging")
    assert staging.json()["installs_url"] == "http://a.example"
    assert_one_line_error(bare_flint("--profile", "../etc", "profile", "show"), "a profile name is")


def test_a_broken_profile_is_one_line(bare_flint):
    bare_flint.profile_path.parent.mkdir(parents=True)
    bare_flint.profile_path.write_text("{not json")
    assert_one_line_error(bare_flint("orders", "list"), "cannot be read", "fix or delete it")
    bare_flint.profile_path.write_text('{"app": {"id": 3}}')
    assert_one_line_error(bare_flint("profile", "show"), "cannot be read")


def test_the_stack_settings_come_from_the_checkouts_stack_env(tmp_path):
    """Inside a checkout, the CLI reads .flint/stack.env (here: a state folder of the test's own)
    and keeps its profiles beside it, under .flint/cli."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "stack.env").write_text("FLINT_INSTALLS_URL=http://127.0.0.1:19393\nFLINT_ADMIN_KEY=flint_admin_x\n")
    inside = Flint(ROOT, {"FLINT_STATE_DIR": str(state)})
    del inside.env["FLINT_CLI_HOME"]
    result = inside("merchants", "create", "Acme")
    assert_one_line_error(result, "cannot reach http://127.0.0.1:19393/v1/merchants")
    assert inside("profile", "set", "kafka-password", "x").exit_code == 0
    assert (state / "cli" / "default.json").is_file()


@pytest.mark.parametrize("args", [("profile", "set", "colour", "x"), ("profile", "set", "installs-url"),
                                  ("profile", "frobnicate")])
def test_profile_usage_errors(bare_flint, args):
    assert_one_line_error(bare_flint(*args), exit_code=2)
