"""`flint apps create`, `flint merchants create` and `flint install`: the OAuth install with PKCE
through a (scripted) browser, against the real installs service; tokens kept in the profile."""

from __future__ import annotations

import socket
import stat

import pytest

from tests.cli.browser import install_through_cli, set_up_app
from tests.cli.runner import assert_one_line_error

pytestmark = pytest.mark.integration


def test_install_keeps_the_tokens_and_reads_the_install_back(flint, flint_services):
    set_up_app(flint, "orders:read", "orders:write")
    result, page = install_through_cli(flint, flint_services)
    assert result.exit_code == 0, result.stderr
    assert page.status_code == 200 and "Back to your terminal" in page.text
    profile = flint.profile()
    app_id, merchant_id = profile["app"]["id"], profile["merchant"]["id"]
    assert f"Installed {app_id} on merchant {merchant_id}: install {profile['install']['id']}" in result.stdout
    assert profile["install"]["scopes"] == ["orders:read", "orders:write"]
    assert profile["tokens"]["refresh_token"] and profile["tokens"]["access_token"]
    assert stat.S_IMODE(flint.profile_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(flint.profile_path.parent.stat().st_mode) == 0o700
    # the tokens work: the app lists its merchant's orders (none yet)
    listed = flint("orders", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert listed.json() == {"data": [], "has_more": False, "next_cursor": None}


def test_a_denied_install_keeps_no_tokens(flint, flint_services):
    set_up_app(flint)
    result, page = install_through_cli(flint, flint_services, "deny")
    assert_one_line_error(result, "not installed: the merchant did not approve", "access_denied")
    assert page.status_code == 200 and "Not installed" in page.text
    assert "tokens" not in flint.profile()


def test_apps_create_keeps_the_app_and_refuses_a_second_without_replace(flint):
    assert flint("apps", "create", "Balance Chaser", "--port", "19399").exit_code == 0
    app = flint.profile()["app"]
    assert app["redirect_uri"] == "http://127.0.0.1:19399/callback"
    assert app["scopes"] == ["orders:read", "orders:write", "refunds:read", "refunds:write", "invoices:read",
                             "invoices:write"]
    assert_one_line_error(flint("apps", "create", "Other"), f"already has app {app['id']}", "--replace")
    replaced = flint("apps", "create", "Other", "--replace", "--json")
    assert replaced.exit_code == 0 and replaced.json()["name"] == "Other"
    assert "client_secret" not in replaced.json()
    assert flint.profile()["app"]["id"] == replaced.json()["id"] != app["id"]


def test_merchants_create_prints_the_secret_key_to_log_in_with(flint):
    made = flint("merchants", "create", "Acme Outdoor", "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["secret_key"] == flint.profile()["merchant"]["secret_key"]
    assert_one_line_error(flint("merchants", "create", "Again"), "already has merchant")


def test_install_without_an_app(flint):
    assert_one_line_error(flint("install"), "has no app", "flint apps create")


def test_install_when_the_callback_port_is_taken(flint):
    port = set_up_app(flint)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        assert_one_line_error(flint("install"), f"cannot listen on 127.0.0.1:{port}")


def test_install_when_the_browser_never_comes_back(flint):
    set_up_app(flint)
    result = flint("install", "--timeout", "1")
    assert_one_line_error(result, "no answer from the browser within 1s")
    assert "/oauth/authorize?" in result.stdout  # the URL was printed first


def test_admin_commands_with_a_wrong_admin_key(flint):
    assert_one_line_error(flint("apps", "create", "X", FLINT_ADMIN_KEY="flint_admin_wrong"), "401")
    assert_one_line_error(flint("merchants", "create", "X", FLINT_ADMIN_KEY="flint_admin_wrong"), "401")


def test_admin_commands_with_bad_arguments(flint):
    assert_one_line_error(flint("apps", "create", "X", "--scope", "orders:fly"), "unknown scope orders:fly", exit_code=2)
    assert_one_line_error(flint("apps", "create", "X", "--port", "0"), "--port", exit_code=2)
    assert_one_line_error(flint("apps", "create"), "Missing argument", exit_code=2)
    assert_one_line_error(flint("merchants", "create", ""), "422")


@pytest.mark.parametrize("command", [("install",), ("apps", "create", "X"), ("merchants", "create", "X")])
def test_commands_when_no_stack_is_known(bare_flint, command):
    assert_one_line_error(bare_flint(*command), "no Flint stack known" if command == ("apps", "create", "X")
                          or command == ("merchants", "create", "X") else "has no app")


@pytest.mark.parametrize("command", [("apps", "create", "X"), ("merchants", "create", "X")])
def test_commands_when_the_stack_is_down(bare_flint, command):
    down = {"FLINT_INSTALLS_URL": "http://127.0.0.1:19398", "FLINT_ADMIN_KEY": "flint_admin_x"}
    assert_one_line_error(bare_flint(*command, **down), "cannot reach", "flint dev status")


def test_install_when_the_stack_is_down(flint):
    set_up_app(flint)
    assert_one_line_error(flint("install", FLINT_INSTALLS_URL="http://127.0.0.1:19398"), "cannot reach Flint")
