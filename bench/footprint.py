"""Memory figures: resident memory of a service's processes, and the Kafka broker's heap.

- ``group_rss_mb(pgid)``: the resident set (VmRSS) of every process of a process group, in
  MB: a service started with ``start_new_session`` is its own group, uvicorn workers included.
- ``broker_heap_mb(port)``: the Java heap the broker listening on ``port`` uses (jstat -gc:
  survivor, eden and old generation in use), and its resident memory; found through /proc
  (the process owning the listening socket), so no JMX port is needed.
- ``idle_services(env)``: every service started idle (``--role all``) on fresh databases, its
  resident memory once ready and settled.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb(pid: str) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 1e6
    except (OSError, IndexError):
        return 0.0


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in the group, MB (a sum: shared pages count twice)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += _rss_mb(stat.parent.name)
    return total


def _listening_inode(port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return parts[9]
    return None


def pid_listening_on(port: int) -> int | None:
    """The process that owns the listening socket of ``port`` (our own user's processes)."""
    inode = _listening_inode(port)
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd) == wanted:
                    return int(fd_dir.parent.name)
        except OSError:
            continue
    return None


def broker_heap_mb(port: int) -> dict[str, float]:
    """``heap_used``, ``heap_capacity`` (jstat -gc) and ``rss`` of the broker, MB; empty when
    the broker is not a process of this machine we may inspect."""
    pid = pid_listening_on(port)
    if pid is None:
        return {}
    found = {"rss": _rss_mb(str(pid))}
    result = subprocess.run(["jstat", "-gc", str(pid)], capture_output=True, text=True, timeout=30, check=False)
    lines = result.stdout.split("\n")
    if result.returncode == 0 and len(lines) >= 2:
        values = dict(zip(lines[0].split(), lines[1].split(), strict=False))
        used = sum(float(values[k]) for k in ("S0U", "S1U", "EU", "OU") if k in values)
        capacity = sum(float(values[k]) for k in ("S0C", "S1C", "EC", "OC") if k in values)
        found |= {"heap_used": used / 1024, "heap_capacity": capacity / 1024}
    return found


def _groups(name: str, prefix: str) -> dict[str, tuple[str, ...]]:
    """The consumer groups (and their topics) of service ``name`` under ``prefix``."""
    if name == "installs":
        from flint_installs.delivery import router

        return {f"{prefix}installs.{s.name}": s.topics for s in router.subscriptions()}
    import importlib

    app = importlib.import_module(f"flint_{name}.app")
    config = importlib.import_module(f"flint_{name}.config")
    settings_type = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings"
                         and isinstance(v, type) and getattr(v, "service_name", None) == name)
    return app.create_runtime(settings_type(consumer_group_prefix=prefix)).consumer_groups()


def idle_services(env: dict[str, str], settle_seconds: float = 5.0) -> dict[str, float]:
    """Each service idle, role ``all``, all four started side by side: resident memory in MB
    once every one has been ready for ``settle_seconds``. Their consumer groups start at the
    end of the topics (idle means no backlog of the shared topics' history to read); each
    service's output goes to a file (a pipe nobody reads would block it once full)."""
    import asyncio
    import sys
    import tempfile

    from bench.app_topic_latency import groups_at_end
    from bench.orders_get import ROOT, Issuer, free_port, recreate, wait_ready

    issuer = Issuer()
    logs = Path(tempfile.mkdtemp(prefix="flint-bench-idle-"))
    processes: dict[str, tuple[subprocess.Popen, int]] = {}
    names = ("installs", "orders", "refunds", "invoicing")
    prefix = f"bench-idle-{secrets.token_hex(4)}."
    groups = {group: topics for name in names for group, topics in _groups(name, prefix).items()}
    asyncio.run(groups_at_end(env["KAFKA_BOOTSTRAP_SERVERS"], groups))
    try:
        for name in names:
            database = f"flint_bench_idle_{name}"
            asyncio.run(recreate(env["DATABASE_URL"], database))
            port, upper = free_port(), name.upper()
            service_env = {
                **os.environ, "DATABASE_URL": env["DATABASE_URL"], "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
                "DATABASE_NAME": database, f"FLINT_{upper}_PORT": str(port), f"FLINT_{upper}_SECRET": secrets.token_urlsafe(40),
                f"FLINT_{upper}_GROUP_PREFIX": prefix, "FLINT_LOG_LEVEL": "WARNING",
                "FLINT_INSTALLS_URL": issuer.url if name != "installs" else f"http://127.0.0.1:{port}",
                "FLINT_ADMIN_KEY": secrets.token_urlsafe(24), "FLINT_SANDBOX_DATABASE": "flint_bench_idle_sandbox",
            }
            with open(logs / f"{name}.log", "wb") as log:
                processes[name] = (subprocess.Popen(
                    [sys.executable, "-m", f"flint_{name}", "--role", "all"], cwd=ROOT, env=service_env,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True), port)
        for process, port in processes.values():
            wait_ready(port, process)
        time.sleep(settle_seconds)
        return {name: group_rss_mb(process.pid) for name, (process, _) in processes.items()}
    finally:
        for process, _ in processes.values():
            stop_group(process)
        issuer.close()
        shutil.rmtree(logs, ignore_errors=True)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group, SIGKILL after 30 s."""
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
