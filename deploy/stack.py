"""Flint's local launcher: Kafka (KRaft, from Maven Central jars) and PostgreSQL (Debian's
server) without Docker, plus the Flint services, with all state under ``.flint/``.

    python deploy/stack.py up [--infra-only] [--no-demo]
                                               start what is not running, write .flint/stack.env
                                               (infra: Kafka, PostgreSQL and a mail sink), the
                                               example plugins, then the narrated demo
    python deploy/stack.py down                stop everything this launcher started
    python deploy/stack.py status              every component checked: health, versions, lag, outbox, dead letters
    python deploy/stack.py logs [NAME]         tail the logs
    python deploy/stack.py reset               down, then delete all local data
    python deploy/stack.py worker NAME [--clock-offset S]
                                               one more worker of a service, in the foreground,
                                               reading a clock S seconds ahead (demos, triggers)

Kafka listens twice for clients: the services' internal PLAINTEXT listener, and a plugin
listener (SASL/SCRAM-SHA-512, broker ACLs; docs/kafka.md) whose address `up` and `status`
print. When KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL or FLINT_SMTP_HOST are set, those servers
are used and no local one is started. The mail sink keeps every message as an .eml file under
.flint/mail/ instead of delivering it. Only the standard library is used, so it runs before
the venv exists.
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / os.environ.get("FLINT_STATE_DIR", ".flint")  # relative to the checkout, or absolute
STACK_ENV = STATE / "stack.env"
KAFKA_DIR = ROOT / "deploy" / "kafka"
KAFKA_LIBS = KAFKA_DIR / "target" / "libs"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

KAFKA_PORT = int(os.environ.get("FLINT_KAFKA_PORT", "19092"))
KAFKA_CONTROLLER_PORT = int(os.environ.get("FLINT_KAFKA_CONTROLLER_PORT", "19093"))
# The listener plugins use: SASL/SCRAM-SHA-512, each app limited by ACLs to its own topic.
KAFKA_PLUGIN_PORT = int(os.environ.get("FLINT_KAFKA_PLUGIN_PORT", "19094"))
KAFKA_PLUGIN_SECURITY = "SASL_PLAINTEXT, SCRAM-SHA-512"
# How long a plugin's login lasts before it must log in again: the longest a connection made
# with a rotated or deleted password stays open.
KAFKA_PLUGIN_REAUTH_MS = int(os.environ.get("FLINT_KAFKA_PLUGIN_REAUTH_MS", "300000"))
PG_PORT = int(os.environ.get("FLINT_PG_PORT", "55432"))
SMTP_PORT = int(os.environ.get("FLINT_SMTP_PORT", "8025"))
MAIL_DIR = STATE / "mail"
SERVICE_DATABASES = ("flint_installs", "flint_orders", "flint_refunds", "flint_invoicing")
# Processes per service (`make up REPLICAS=2`): 1 runs each service as one `--role all`
# process; N runs its API as N uvicorn workers on its port and N `--role worker` processes
# (their health routes on the port + 10, + 20 ...), sharing consumer groups and the outbox.
REPLICAS = int(os.environ.get("FLINT_REPLICAS", "1"))


def _cluster_id() -> str:
    """A random KRaft cluster id. One starting with '-' (1 in 64 base64url ids) is read by the
    storage tool as an option and the format fails; Kafka's own ids never start with one."""
    while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return cluster_id


class StackError(RuntimeError):
    """A failure the user can act on; printed as one line."""


@dataclass
class Service:
    """A Flint service process started by the launcher."""

    name: str
    module: str
    port: int
    # Secrets only this service gets, generated once into .flint/secrets/ unless set in the
    # environment; every service has its own FLINT_<NAME>_SECRET (the chassis needs one).
    secrets: tuple[str, ...] = ()
    # Settings of this service in the local stack, unless the environment sets them.
    defaults: dict[str, str] = field(default_factory=dict)
    env_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.env_name = f"FLINT_{self.name.upper()}_URL"
        self.port = int(os.environ.get(f"FLINT_{self.name.upper()}_PORT") or self.port)  # a stack of its own
        own = f"FLINT_{self.name.upper()}_SECRET"
        if own not in self.secrets:
            self.secrets = (own, *self.secrets)


# Services join this list in their own issues; each runs `python -m <module>`.
SERVICES: list[Service] = [
    # Local plugin development: webhooks may go to http:// receivers on this machine (docs/webhooks.md).
    Service("installs", "flint_installs", 8101, defaults={"FLINT_WEBHOOKS_ALLOW_LOOPBACK": "true"}),
    Service("orders", "flint_orders", 8102),
    Service("refunds", "flint_refunds", 8103),
    Service("invoicing", "flint_invoicing", 8104),
]


@dataclass(frozen=True)
class PluginProcess:
    """An example plugin (examples/), run by the launcher once `deploy/demo` installed it: its
    settings (app id, secret, Kafka credential, tokens file) are in plugins/<name>.env."""

    name: str
    script: str


PLUGINS: list[PluginProcess] = [
    PluginProcess("balance-chaser", "examples/balance_chaser/plugin.py"),
    PluginProcess("refund-desk", "examples/refund_desk/plugin.py"),
]


# ---------------------------------------------------------------- processes
def _pidfile(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def _running_pid(name: str) -> int | None:
    path = _pidfile(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return pid


def _spawn(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None, user: str | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    _pidfile(name).parent.mkdir(parents=True, exist_ok=True)
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True, cwd=ROOT,
        )
    _pidfile(name).write_text(str(proc.pid))
    return proc.pid


def _stop(name: str, timeout: float = 30) -> bool:
    pid = _running_pid(name)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(pid, signal.SIGKILL)
    _pidfile(name).unlink(missing_ok=True)
    return True


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait(what: str, check, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    hint = f"; see {log}" if log else ""
    raise StackError(f"{what} did not become ready within {timeout:.0f}s{hint}")


# ---------------------------------------------------------------- kafka
def _kafka_classpath() -> str:
    jars = sorted(KAFKA_LIBS.glob("*.jar"))
    if not any(j.name.startswith("kafka_2.13-") for j in jars):
        raise StackError(f"Kafka jars are missing under {KAFKA_LIBS}: run `make setup`")
    return ":".join(str(j) for j in jars)


def _java_opts() -> list[str]:
    return [
        "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={STATE / 'kafka' / 'logs'}",
    ]


def _kafka_api_ready(port: int, host: str = "127.0.0.1") -> bool:
    """True when the broker answers an ApiVersions request (not merely accepts TCP)."""
    request_body = (18).to_bytes(2, "big") + (0).to_bytes(2, "big") + (1).to_bytes(4, "big")
    request_body += (len("flint-stack")).to_bytes(2, "big") + b"flint-stack"
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(len(request_body).to_bytes(4, "big") + request_body)
            size = int.from_bytes(sock.recv(4), "big")
            reply = b""
            while len(reply) < size:
                chunk = sock.recv(size - len(reply))
                if not chunk:
                    return False
                reply += chunk
            return reply[4:6] == b"\x00\x00"  # correlation id, then error code 0
    except OSError:
        return False


def _kafka_properties(data: Path) -> str:
    template = (KAFKA_DIR / "server.properties.in").read_text()
    return (
        template.replace("@PORT@", str(KAFKA_PORT))
        .replace("@CONTROLLER_PORT@", str(KAFKA_CONTROLLER_PORT))
        .replace("@PLUGIN_PORT@", str(KAFKA_PLUGIN_PORT))
        .replace("@PLUGIN_REAUTH_MS@", str(KAFKA_PLUGIN_REAUTH_MS))
        .replace("@DATA_DIR@", str(data))
    )


def _kafka_ready() -> bool:
    return _kafka_api_ready(KAFKA_PORT) and _kafka_api_ready(KAFKA_PLUGIN_PORT)


def kafka_up() -> None:
    """Start the broker unless it already runs with the current configuration. A broker
    started from an older configuration (before a listener was added, say) is restarted:
    its data directory stays and works with the new settings."""
    data = STATE / "kafka" / "data"
    props = STATE / "kafka" / "server.properties"
    log = STATE / "kafka" / "logs" / "stdout.log"
    server_log = STATE / "kafka" / "logs" / "server.log"
    wanted = _kafka_properties(data)
    if _running_pid("kafka"):
        if props.exists() and props.read_text() == wanted:
            _wait("Kafka", _kafka_ready, 90, server_log)
            return
        print("note: restarting Kafka: its configuration changed", file=sys.stderr)
        _stop("kafka", timeout=60)
    for port, setting in ((KAFKA_PORT, "FLINT_KAFKA_PORT"), (KAFKA_CONTROLLER_PORT, "FLINT_KAFKA_CONTROLLER_PORT"),
                          (KAFKA_PLUGIN_PORT, "FLINT_KAFKA_PLUGIN_PORT")):
        if _port_open(port):
            raise StackError(f"port {port} is taken by another process; set {setting}")
    classpath = _kafka_classpath()
    data.mkdir(parents=True, exist_ok=True)
    props.write_text(wanted)
    if not (data / "meta.properties").exists():
        cluster_id = _cluster_id()
        subprocess.run(
            ["java", *_java_opts(), "-cp", classpath, "kafka.tools.StorageTool", "format",
             "--standalone", "-t", cluster_id, "-c", str(props)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    _spawn("kafka", ["java", *_java_opts(), "-cp", classpath, "kafka.Kafka", str(props)], log)
    _wait("Kafka", _kafka_ready, 90, server_log)


# ---------------------------------------------------------------- postgres
def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    if shutil.which(tool):
        return shutil.which(tool)
    raise StackError(f"PostgreSQL server tool {tool!r} not found: run `make setup` (apt-get install postgresql)")


def _pg_user() -> str | None:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return "postgres" if os.geteuid() == 0 else None


def _pg_base() -> Path:
    """``.flint/postgres``; when the postgres user cannot reach the checkout (a clone under a
    private home directory), the data lives under /var/lib/flint and .flint/postgres links there."""
    base = STATE / "postgres"
    user = _pg_user()
    if base.exists() or not user:
        return base
    reachable = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(STATE)], check=False).returncode == 0
    if not reachable:
        import hashlib

        target = Path("/var/lib/flint") / hashlib.sha256(str(ROOT).encode()).hexdigest()[:12] / "postgres"
        target.mkdir(parents=True, exist_ok=True)
        base.symlink_to(target, target_is_directory=True)
        print(f"note: {base} -> {target} (the postgres user cannot enter {ROOT})")
    return base


def postgres_up() -> str:
    STATE.mkdir(parents=True, exist_ok=True)
    base = _pg_base().resolve()  # postgres must not go through a path it cannot enter
    data = base / "data"
    log = base / "postgres.log"
    password_file = base / "password"
    user = _pg_user()
    if not (data / "PG_VERSION").exists():
        base.mkdir(parents=True, exist_ok=True)
        (base / "run").mkdir(exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24))
        password_file.chmod(0o600)
        pwfile = base / ".initpw"
        pwfile.write_text(password_file.read_text())
        if user:
            shutil.chown(base, user)
            shutil.chown(base / "run", user)
            shutil.chown(pwfile, user)
        subprocess.run(
            [*(["runuser", "-u", user, "--"] if user else []), _pg_bin("initdb"), "-D", str(data),
             "-U", "postgres", f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
             "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        pwfile.unlink()
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# Flint local stack\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{base / 'run'}'\n"
                "max_connections = 300\n"
                "shared_buffers = 256MB\n"
            )
    password = password_file.read_text().strip()
    url = f"postgresql://postgres:{password}@127.0.0.1:{PG_PORT}/postgres"
    if _running_pid("postgres") and _port_open(PG_PORT):
        return url
    if _port_open(PG_PORT):
        raise StackError(f"port {PG_PORT} is taken by another process; set FLINT_PG_PORT")
    (data / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server; safe: port is free
    _spawn("postgres", [_pg_bin("postgres"), "-D", str(data), "-p", str(PG_PORT)], log, user=user)
    _wait("PostgreSQL", lambda: _pg_ready(base), 60, log)
    return url


def _pg_ready(base: Path) -> bool:
    result = subprocess.run(
        [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-q"], check=False
    )
    return result.returncode == 0


def _create_service_databases(server_url: str) -> None:
    """One database per service on the server; services also create theirs when missing."""
    psql = shutil.which("psql") or _pg_bin("psql")
    for name in SERVICE_DATABASES:
        exists = subprocess.run(
            [psql, server_url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=False, capture_output=True, text=True,
        )
        if exists.returncode != 0:
            raise StackError(f"cannot reach PostgreSQL at {_redact(server_url)}: {exists.stderr.strip().splitlines()[-1]}")
        if exists.stdout.strip() != "1":
            subprocess.run([psql, server_url, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)


def _stop_postgres() -> bool:
    # SIGTERM on the group is postgres' "smart" shutdown; use SIGINT (fast) on the postmaster.
    pid = _running_pid("postgres")
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)
    return _stop("postgres")


# ---------------------------------------------------------------- mail sink
def mailsink_up() -> dict[str, str]:
    """A local SMTP server (flint_invoicing.mailsink) writing each message to .flint/mail/."""
    if os.environ.get("FLINT_SMTP_HOST"):
        return {"FLINT_SMTP_HOST": os.environ["FLINT_SMTP_HOST"], "FLINT_SMTP_PORT": str(SMTP_PORT)}
    env = {"FLINT_SMTP_HOST": "127.0.0.1", "FLINT_SMTP_PORT": str(SMTP_PORT), "FLINT_MAIL_DIR": str(MAIL_DIR)}
    if _running_pid("mailsink") and _port_open(SMTP_PORT):
        return env
    if _port_open(SMTP_PORT):
        raise StackError(f"port {SMTP_PORT} is taken by another process; set FLINT_SMTP_PORT")
    if not VENV_PYTHON.exists():
        raise StackError("the mail sink needs the project's .venv: run `make setup`")
    log = STATE / "logs" / "mailsink.log"
    _spawn("mailsink", [str(VENV_PYTHON), "-m", "flint_invoicing.mailsink", "--dir", str(MAIL_DIR),
                        "--port", str(SMTP_PORT)], log)
    _wait("mail sink", lambda: _port_open(SMTP_PORT), 30, log)
    return env


# ---------------------------------------------------------------- env file
def read_stack_env() -> dict[str, str]:
    if not STACK_ENV.exists():
        return {}
    pairs = (line.split("=", 1) for line in STACK_ENV.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def _write_stack_env(values: dict[str, str]) -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by deploy/stack.py up. Source it: set -a; . .flint/stack.env; set +a"]
    lines += [f"{k}={v}" for k, v in values.items()]
    STACK_ENV.write_text("\n".join(lines) + "\n")
    STACK_ENV.chmod(0o600)


def _admin_key() -> str:
    if os.environ.get("FLINT_ADMIN_KEY"):
        return os.environ["FLINT_ADMIN_KEY"]
    path = STATE / "admin_key"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        path.write_text("flint_admin_" + secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _service_secret(name: str) -> str:
    """A secret one service needs (e.g. FLINT_INSTALLS_SECRET): from the environment, else
    generated once under .flint/secrets/ and kept, so restarts keep what it encrypted."""
    if os.environ.get(name):
        return os.environ[name]
    path = STATE / "secrets" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _service_urls() -> dict[str, str]:
    """Every service's URL, known before any starts: each service announces the others (discovery)."""
    return {s.env_name: os.environ.get(s.env_name) or f"http://127.0.0.1:{s.port}" for s in SERVICES}


# ---------------------------------------------------------------- services
def _service_env(service: Service, env: dict[str, str]) -> dict[str, str]:
    return {**_service_urls(), **{k: os.environ.get(k, v) for k, v in service.defaults.items()}, **env,
            **{name: _service_secret(name) for name in service.secrets},
            f"FLINT_{service.name.upper()}_PORT": str(service.port), **_tracing_env(service)}


def _python() -> str:
    return str(VENV_PYTHON if VENV_PYTHON.exists() else sys.executable)


def _service_processes(service: Service) -> list[tuple[str, list[str], int]]:
    """(pid name, arguments, HTTP port) of each process ``service`` runs with REPLICAS."""
    if REPLICAS <= 1:
        return [(service.name, [], service.port)]
    return [(service.name, ["--role", "api", "--workers", str(REPLICAS)], service.port)] + [
        (f"{service.name}-worker-{k}", ["--role", "worker"], service.port + 10 * k) for k in range(1, REPLICAS + 1)]


def _service_up(service: Service, env: dict[str, str]) -> str:
    url = f"http://127.0.0.1:{service.port}"
    for name, arguments, port in _service_processes(service):
        if _running_pid(name) and _port_open(port):
            continue
        log = STATE / "logs" / f"{name}.log"
        _spawn(name, [_python(), "-m", service.module, *arguments], log,
               env={**_service_env(service, env), f"FLINT_{service.name.upper()}_PORT": str(port)})
        _wait(f"service {name}", lambda port=port: _http_ok(f"http://127.0.0.1:{port}/readyz"), 60, log)
    return url


def _worker_names(service: Service) -> list[str]:
    """The pid names of the service's worker processes that a `REPLICAS` run left behind."""
    return sorted(p.stem for p in (STATE / "run").glob(f"{service.name}-worker-*.pid"))


def _tracing_env(service: Service) -> dict[str, str]:
    """Spans go to OTEL_EXPORTER_OTLP_ENDPOINT when set, else to .flint/traces/<service>.jsonl
    (FLINT_TRACE_FILE set, even empty, decides instead: empty turns tracing off)."""
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "FLINT_TRACE_FILE" in os.environ:
        return {}
    return {"FLINT_TRACE_FILE": str(STATE / "traces" / f"{service.name}.jsonl")}


def run_worker(name: str, clock_offset: float) -> None:
    """Replaces this process with one more worker of service ``name`` on the running stack,
    whose clock reads ``clock_offset`` seconds ahead (FLINT_<NAME>_CLOCK_OFFSET): follow-up that
    falls due tomorrow runs now. Stop it with SIGTERM; it changes every invoice it finds due then."""
    service = next((s for s in SERVICES if s.name == name), None)
    env = read_stack_env()
    if service is None or not env:
        raise StackError(f"no service {name!r}" if service is None else "the stack is not up: run `make up` first")
    with socket.socket() as sock:  # its health routes need a port of their own
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    upper = name.upper()
    worker_env = {**os.environ, **_service_env(service, env), f"FLINT_{upper}_ROLE": "worker",
                  f"FLINT_{upper}_PORT": str(port), f"FLINT_{upper}_CLOCK_OFFSET": str(clock_offset)}
    os.execve(_python(), [_python(), "-m", service.module], worker_env)


# ---------------------------------------------------------------- example plugins and the demo
def _plugin_env_file(plugin: PluginProcess) -> Path:
    return STATE / "plugins" / f"{plugin.name}.env"


def plugins_up(env: dict[str, str]) -> None:
    """Installs the example plugins on a demo merchant (once: `python -m deploy.demo install`),
    then starts each plugin that is not running."""
    if not all(_plugin_env_file(p).exists() for p in PLUGINS):
        _run_demo("install", env)
    for plugin in PLUGINS:
        if _running_pid(plugin.name):
            continue
        settings = dict(line.split("=", 1) for line in _plugin_env_file(plugin).read_text().splitlines() if "=" in line)
        log = STATE / "logs" / f"{plugin.name}.log"
        pid = _spawn(plugin.name, [_python(), plugin.script], log, env={**env, **settings, "PYTHONUNBUFFERED": "1"})
        _wait(f"plugin {plugin.name}", lambda: _log_says(log, "reading flint.app.") or not _alive(pid), 60, log)
        if not _alive(pid):
            raise StackError(f"plugin {plugin.name} stopped at start; see {log}")


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def _log_says(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(errors="replace")


def _run_demo(step: str, env: dict[str, str]) -> None:
    """``python -m deploy.demo <step>`` (it needs the venv: httpx and the SDK)."""
    done = subprocess.run([_python(), "-m", "deploy.demo", step], cwd=ROOT, env={**os.environ, **env}, check=False)
    if done.returncode != 0:
        raise StackError(f"the demo's {step} step failed (exit {done.returncode}); see the lines above")


def _http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# ---------------------------------------------------------------- commands
def up(infra_only: bool, demo: bool = False) -> dict[str, str]:
    env: dict[str, str] = {}
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        env["KAFKA_BOOTSTRAP_SERVERS"] = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        if os.environ.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
            env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] = os.environ["FLINT_KAFKA_PLUGIN_BOOTSTRAP"]
    else:
        kafka_up()
        env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{KAFKA_PORT}"
        env["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] = f"127.0.0.1:{KAFKA_PLUGIN_PORT}"
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or postgres_up()
    env["FLINT_ADMIN_KEY"] = _admin_key()
    _create_service_databases(env["DATABASE_URL"])
    env |= mailsink_up()
    _write_stack_env(env)
    if not infra_only:
        for service in SERVICES:
            env[service.env_name] = _service_up(service, env)
            _write_stack_env(env)
        plugins_up(env)
        if demo:
            _run_demo("run", env)
    return env


def down() -> None:
    for plugin in PLUGINS:
        if _stop(plugin.name):
            print(f"stopped plugin {plugin.name}")
    for service in reversed(SERVICES):
        for name in (*_worker_names(service), service.name):
            if _stop(name):
                print(f"stopped {name}")
    if _stop("mailsink"):
        print("stopped mail sink")
    if _stop("kafka", timeout=60):
        print("stopped kafka")
    if _stop_postgres():
        print("stopped postgres")


# ---------------------------------------------------------------- status
@dataclass
class Row:
    """One line of `status`: a component, its state, where it is and what else is known."""

    name: str
    state: str  # healthy, degraded, running (answers; nothing deeper checked), unhealthy, stopped
    where: str
    details: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # one phrase when it is not as it should be
    notes: list[str] = field(default_factory=list)  # indented lines under the row

    @property
    def ok(self) -> bool:
        return self.state in ("healthy", "degraded", "running")


def status() -> int:
    """Checks every component where it is (local, or the servers of the environment), prints
    one line each, and returns 0 only when every expected one is healthy (3 otherwise, with
    one line on stderr saying why)."""
    env = {**read_stack_env(), **{k: v for k, v in os.environ.items() if v}}
    probe = _probe(env)
    rows = [_kafka_row(env, probe), _plugin_row(env), _postgres_row(env, probe), _mail_row(env),
            *(row for service in SERVICES for row in (_service_row(service, env, probe), *_worker_rows(service))),
            *(_plugin_row_of(plugin) for plugin in PLUGINS if _plugin_env_file(plugin).exists())]
    for row in rows:
        details = " ".join(f"{key}={value}" for key, value in row.details.items())
        print(f"{row.name:<18} {row.state:<10} {row.where}{'  ' + details if details else ''}".rstrip())
        for note in row.notes:
            print(f"{'':<18} {note}")
    for label, value in _pointers(env, probe):
        print(f"{label:<18} {value}")
    problems = [row.problem for row in rows if row.problem and row.name in _expected(env)]
    if problems:
        print(f"flint status: unhealthy: {'; '.join(problems)}", file=sys.stderr)
        return 3
    return 0


def _expected(env: dict[str, str]) -> set[str]:
    """What must be healthy: the servers; services `up` started (their URL is in stack.env or
    the environment: after `up --infra-only` a stopped service is information, not a failure)."""
    expected = {"kafka", "postgres"} | {s.name for s in SERVICES if s.env_name in env}
    expected |= {p.name for p in PLUGINS if _plugin_env_file(p).exists() and SERVICES[0].env_name in env}
    expected |= {name for s in SERVICES for name in _worker_names(s)}
    expected |= {"mail"} if "FLINT_SMTP_PORT" in env or "FLINT_SMTP_HOST" in env else set()
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP"):
        expected.add("kafka-plugins")
    return expected


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    return (host or address.strip() or "127.0.0.1").strip("[]"), int(port) if port.isdigit() else default_port


def _kafka_row(env: dict[str, str], probe: dict | None) -> Row:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    where = external or f"127.0.0.1:{KAFKA_PORT}"
    answering = any(_kafka_api_ready(port, host) for host, port in (_host_port(a, KAFKA_PORT) for a in where.split(",")))
    details = {} if external else {"version": _local_kafka_version()}
    if answering:
        kafka = (probe or {}).get("kafka", {})
        if probe is not None and not kafka.get("ok"):
            return Row("kafka", "unhealthy", where, details, f"kafka at {where}: {kafka.get('error')}")
        return Row("kafka", "healthy", where, details)
    state = "unhealthy" if external or _running_pid("kafka") else "stopped"
    return Row("kafka", state, where, details, f"kafka does not answer at {where}")


def _plugin_row(env: dict[str, str]) -> Row:
    """The listener plugins connect to (with their app's credentials)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        where = os.environ.get("FLINT_KAFKA_PLUGIN_BOOTSTRAP")
        if not where:
            return Row("kafka-plugins", "unknown", "set FLINT_KAFKA_PLUGIN_BOOTSTRAP")
    else:
        where = f"127.0.0.1:{KAFKA_PLUGIN_PORT}"
    host, port = _host_port(where.split(",")[0], KAFKA_PLUGIN_PORT)
    answering = _kafka_api_ready(port, host)
    state = "healthy" if answering else "unhealthy" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or _running_pid("kafka") else "stopped"
    return Row("kafka-plugins", state, f"{where} ({KAFKA_PLUGIN_SECURITY})",
               problem=None if answering else f"the plugin listener does not answer at {where}")


def _postgres_row(env: dict[str, str], probe: dict | None) -> Row:
    url = os.environ.get("DATABASE_URL") or env.get("DATABASE_URL") or f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"
    host, port = _host_port(url.split("@")[-1].split("/")[0], PG_PORT)
    where = f"{host}:{port}"
    local = not os.environ.get("DATABASE_URL")
    pg = (probe or {}).get("postgres")
    if pg is not None:  # the venv's check: a real login and query
        if pg.get("ok"):
            return Row("postgres", "healthy", where, {"version": pg["version"].split()[0]})
        error = pg.get("error", "no answer")
    elif _pg_answers(host, port):
        return Row("postgres", "running", where)
    else:
        error = "no answer"
    state = "stopped" if local and not _running_pid("postgres") else "unhealthy"
    return Row("postgres", state, where, problem=f"postgres does not answer at {where} ({_last_words(error)})")


def _pg_answers(host: str, port: int) -> bool:
    """Without the venv: pg_isready where the client tools are, else the port."""
    try:
        tool = _pg_bin("pg_isready")
    except StackError:
        return _port_open(port, host)
    return subprocess.run([tool, "-h", host, "-p", str(port), "-q", "-t", "3"], check=False).returncode == 0


def _mail_row(env: dict[str, str]) -> Row:
    external = os.environ.get("FLINT_SMTP_HOST") if not _running_pid("mailsink") else None
    port = int(env.get("FLINT_SMTP_PORT", SMTP_PORT))
    host = external or "127.0.0.1"
    where = f"smtp://{host}:{port}" + ("" if external else f" -> {MAIL_DIR}/")
    if _port_open(port, host):
        return Row("mail", "running", where)
    state = "unhealthy" if external or _running_pid("mailsink") else "stopped"
    return Row("mail", state, where, problem=f"the mail server does not answer at {host}:{port}")


def _worker_rows(service: Service) -> list[Row]:
    """A `REPLICAS` run's worker processes of ``service``: each its own readiness."""
    rows = []
    for name in _worker_names(service):
        url = f"http://127.0.0.1:{service.port + 10 * int(name.rsplit('-', 1)[1])}"
        row = _readiness(service, url)
        row.name, row.where = name, f"{url}/readyz"
        rows.append(row)
    return rows


def _plugin_row_of(plugin: PluginProcess) -> Row:
    """An example plugin: running while its process lives (it has no health route)."""
    running = bool(_running_pid(plugin.name))
    return Row(plugin.name, "running" if running else "stopped", f"{plugin.script} (log {STATE / 'logs' / plugin.name}.log)",
               problem=None if running else f"plugin {plugin.name} is not running; see its log")


def _service_row(service: Service, env: dict[str, str], probe: dict | None) -> Row:
    url = env.get(service.env_name) or f"http://127.0.0.1:{service.port}"
    row = _readiness(service, url)
    found = _service_probe(probe, service.name)
    if found:
        row.details.update(found[0])
        row.notes.extend(found[1])
    return row


def _readiness(service: Service, url: str) -> Row:
    """The service's own word, from /readyz: healthy, degraded (Kafka down, writes wait in the
    outbox) or not ready (what fails), with its version."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=4) as response:
            body, code = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, code = error.read(), error.code
    except OSError as error:
        state = "unhealthy" if _running_pid(service.name) else "stopped"
        return Row(service.name, state, url, problem=f"{service.name} does not answer at {url} "
                                                      f"({_last_words(str(getattr(error, 'reason', error)))})")
    try:
        report = json.loads(body)
    except ValueError:
        report = {}
    details = {"version": str(report.get("version", "?"))}
    checks = report.get("checks", {})
    if code == 200 and report.get("status") == "ready":
        return Row(service.name, "healthy", url, details)
    troubles = [f"{name}: {_last_words(value)}" for name, value in checks.items() if value != "ok"]
    if code == 200:
        return Row(service.name, "degraded", url, details, notes=troubles)
    return Row(service.name, "unhealthy", url, details, f"{service.name} not ready ({'; '.join(troubles) or code})",
               notes=troubles)


def _service_probe(probe: dict | None, name: str) -> tuple[dict[str, str], list[str]] | None:
    """Lag, outbox backlog and dead letters of one service from the probe's report."""
    if probe is None:
        return None
    details: dict[str, str] = {}
    notes: list[str] = []
    kafka = (probe.get("kafka") or {}).get("services", {}).get(name)
    if kafka is not None:
        lag = {group: sum(parts.values()) for group, parts in kafka["lag"].items()}
        details["lag"] = str(sum(lag.values()))
        notes += [f"lag {group}: {total} ({_by_topic(kafka['lag'][group])})" for group, total in lag.items() if total]
    outbox = ((probe.get("postgres") or {}).get("outbox") or {}).get(name)
    if outbox and "backlog" in outbox:
        details["outbox"] = str(outbox["backlog"])
        if outbox["backlog"]:
            details["oldest_unpublished"] = f"{outbox['oldest_seconds']:g}s"
    if kafka is not None:
        details["dead_letters"] = str(sum(kafka["dead_letters"].values()))
        notes += [f"dead letters waiting in {topic}: {count}" for topic, count in kafka["dead_letters"].items()]
    return details, notes


def _by_topic(partitions: dict[str, int]) -> str:
    """``{"t[0]": 3, "t[1]": 0}`` as ``t [0]=3``: the partitions with something waiting."""
    topics: dict[str, list[str]] = {}
    for name, count in partitions.items():
        if count:
            topic, _, partition = name.rpartition("[")
            topics.setdefault(topic, []).append(f"[{partition}={count}")
    return "; ".join(f"{topic} {' '.join(parts)}" for topic, parts in topics.items())


def _probe(env: dict[str, str]) -> dict | None:
    """The venv's deeper look (flint_chassis.status): a real PostgreSQL login, consumer lag,
    outbox backlogs, dead letters. None without the venv, or when it cannot say."""
    if not VENV_PYTHON.exists():
        return None
    probe_env = {**os.environ, **env}
    probe_env.setdefault("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{KAFKA_PORT}")
    if "DATABASE_URL" not in probe_env:
        password = STATE / "postgres" / "password"
        secret = f":{password.read_text().strip()}" if password.exists() else ""
        probe_env["DATABASE_URL"] = f"postgresql://postgres{secret}@127.0.0.1:{PG_PORT}/postgres"
    argv = [str(VENV_PYTHON), "-m", "flint_chassis.status", *(f"--service={s.name}" for s in SERVICES)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=probe_env, cwd=ROOT)
        return json.loads(result.stdout) if result.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def _pointers(env: dict[str, str], probe: dict | None) -> list[tuple[str, str]]:
    """Where to look next."""
    found = [("metrics", ", ".join(f"{env.get(s.env_name) or f'http://127.0.0.1:{s.port}'}/metrics"
                                   for s in SERVICES if s.env_name in env))] if any(s.env_name in env for s in SERVICES) else []
    traces = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or (str(STATE / "traces") + "/" if (STATE / "traces").exists() else "")
    if traces:
        found.append(("traces", traces))
    if STACK_ENV.exists():
        found.append(("env file", str(STACK_ENV)))
    if probe is None:
        found.append(("note", "lag, outbox and dead letters need the project's .venv: run `make setup`"))
    return found


def _local_kafka_version() -> str:
    import re

    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", (KAFKA_DIR / "pom.xml").read_text())
    return found.group(1) if found else "?"


def _last_words(text: str) -> str:
    """The first line of an error, short enough for one status line."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else "no answer"
    return line if len(line) <= 160 else line[:157] + "..."


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url


def logs(name: str | None) -> None:
    files = {
        "kafka": STATE / "kafka" / "logs" / "server.log",
        "postgres": STATE / "postgres" / "postgres.log",
        "mail": STATE / "logs" / "mailsink.log",
        **{s.name: STATE / "logs" / f"{s.name}.log" for s in SERVICES},
        **{p.name: STATE / "logs" / f"{p.name}.log" for p in PLUGINS},
        **{name: STATE / "logs" / f"{name}.log" for s in SERVICES for name in _worker_names(s)},
    }
    chosen = [files[name]] if name else [f for f in files.values()]
    existing = [str(f) for f in chosen if f.exists()]
    if not existing:
        raise StackError("no logs yet: run `make up` first")
    os.execvp("tail", ["tail", "-n", "50", "-F", *existing])


def reset() -> None:
    down()
    linked = STATE / "postgres"
    if linked.is_symlink():
        shutil.rmtree(linked.resolve(), ignore_errors=True)
    if STATE.exists():
        shutil.rmtree(STATE)
    print(f"deleted {STATE}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up", help="start Kafka, PostgreSQL and the services")
    up_cmd.add_argument("--infra-only", action="store_true", help="only Kafka and PostgreSQL")
    up_cmd.add_argument("--json", action="store_true", help="print the environment as JSON")
    up_cmd.add_argument("--no-demo", action="store_true", help="start everything, skip the narrated demo")
    worker_cmd = sub.add_parser("worker", help="one more worker of a service, its clock moved ahead")
    worker_cmd.add_argument("name")
    worker_cmd.add_argument("--clock-offset", type=float, default=0.0, help="seconds ahead of the real time")
    sub.add_parser("down")
    sub.add_parser("status")
    logs_cmd = sub.add_parser("logs")
    logs_cmd.add_argument("name", nargs="?")
    sub.add_parser("reset")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            env = up(args.infra_only, demo=not (args.no_demo or args.json))
            if args.json:
                print(json.dumps(env))
            else:
                print(f"stack up in {time.monotonic() - started:.1f}s; environment in {STACK_ENV}")
                status()
        elif args.command == "down":
            down()
        elif args.command == "status":
            return status()
        elif args.command == "logs":
            logs(args.name)
        elif args.command == "reset":
            reset()
        elif args.command == "worker":
            run_worker(args.name, args.clock_offset)
    except StackError as error:
        print(f"flint stack: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        print(f"flint stack: {' '.join(map(str, error.cmd[:3]))} failed: {detail[-1] if detail else error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
