"""``python -m flint_installs`` as `make up` runs it, and the rule that secrets never reach a log."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flint_chassis.logs import JsonFormatter
from tests.installs.support import ADMIN_KEY, SERVICE_SECRET, Authorization, Flint, basic
from tests.support.polling import eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLINT_")}
    return {**env, "FLINT_LOG_LEVEL": "DEBUG", **values}


async def test_secrets_never_appear_in_the_logs_of_a_whole_install(flint: Flint, caplog):
    # given every log record of every logger, at DEBUG
    caplog.set_level(logging.DEBUG)
    # when a merchant and an app go through the whole flow, refresh, revoke and uninstall
    merchant = await flint.create_merchant()
    app = await flint.register_app()
    auth = Authorization(app["client_id"])
    code = await flint.approve(merchant, auth)
    tokens = (await flint.exchange(app, code, auth)).json()
    rotated = (await flint.refresh(app, tokens["refresh_token"])).json()
    await flint.exchange(app, code, auth)  # a replayed code is logged as refused
    merchant_token = await flint.merchant_token(merchant)
    await flint.token({"grant_type": "client_credentials"}, merchant["id"], "sk_wrong")
    await flint.http.post("/oauth/revoke", data={"token": rotated["refresh_token"]},
                          headers=basic(app["client_id"], app["client_secret"]))
    install = (await flint.http.get("/v1/install", headers=flint.bearer(tokens["access_token"]))).json()
    await flint.http.post(f"/v1/installs/{install['id']}/uninstall", headers=flint.bearer(merchant_token))
    # then the service logged what happened, and not one secret
    formatter = JsonFormatter("installs")
    logged = "\n".join(formatter.format(r) + r.getMessage() + repr(r.args) for r in caplog.records)
    assert "approved" in logged and "token request refused: invalid_grant" in logged
    secrets_handed_out = [merchant["secret_key"], app["client_secret"], code, auth.verifier, tokens["access_token"],
                          tokens["refresh_token"], rotated["refresh_token"], rotated["access_token"], merchant_token,
                          ADMIN_KEY, SERVICE_SECRET, flint.http.cookies.get("flint_session", path="/oauth")]
    leaked = [s[:12] + "…" for s in secrets_handed_out if s and s in logged]
    assert not leaked, f"secrets in the logs: {leaked}"


async def test_the_service_runs_as_a_process_with_json_logs_free_of_secrets(database_url, kafka_bootstrap, tmp_path):
    # given the service started as `make up` starts it, its output going to files (a pipe nobody
    # reads until the end fills up with DEBUG lines while the router works, and blocks the service)
    port = free_port()
    env = service_env(
        DATABASE_URL=database_url, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        FLINT_INSTALLS_PORT=str(port), FLINT_INSTALLS_URL=f"http://127.0.0.1:{port}",
        FLINT_ADMIN_KEY=ADMIN_KEY, FLINT_INSTALLS_SECRET=SERVICE_SECRET,
    )
    log_path = tmp_path / "stderr.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "flint_installs"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            async def ready() -> bool:
                assert process.poll() is None, log_path.read_text()
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout=30, message="the service to be ready")
            # when a merchant is created and gets a token (its key in a form body, the token in a header)
            merchant = (await http.post("/v1/merchants", json={"name": "Acme"},
                                        headers={"Authorization": f"Bearer {ADMIN_KEY}"})).json()
            token = (await http.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": merchant["id"],
                "client_secret": merchant["secret_key"]})).json()["access_token"]
            assert (await http.get("/v1/installs", headers={"Authorization": f"Bearer {token}"})).status_code == 200
            assert (await http.get("/.well-known/jwks.json")).json()["keys"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    stderr = log_path.read_text()
    # then it stopped cleanly, logged JSON lines (access log included), and no secret
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any("/oauth/token" in line["message"] for line in lines)
    assert {line["service"] for line in lines} == {"installs"}
    for secret in (merchant["secret_key"], token, ADMIN_KEY, SERVICE_SECRET):
        assert secret not in stderr


def test_a_wrong_database_url_is_one_line_and_exit_1():
    port = free_port()
    env = service_env(DATABASE_URL=f"postgresql://flint:pw@127.0.0.1:{port}/postgres",
                      FLINT_INSTALLS_SECRET=SERVICE_SECRET, FLINT_INSTALLS_PORT=str(free_port()))

    result = subprocess.run([sys.executable, "-m", "flint_installs"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("flint:")]
    # one line naming the server tried, its password masked, and why it failed
    assert errors == [f"flint: cannot connect to PostgreSQL at postgresql://flint:***@127.0.0.1:{port}/postgres: "
                      "[Errno 111] Connection refused"], result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_service_secret_is_one_line_and_exit_1():
    result = subprocess.run([sys.executable, "-m", "flint_installs"], env=service_env(), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("flint: FLINT_INSTALLS_SECRET must be set")
    assert "Traceback" not in result.stderr
