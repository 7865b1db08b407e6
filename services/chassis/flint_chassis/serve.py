"""One way to start every service: ``python -m flint_<service> [--role api|worker|all] [--workers N]``.

- ``api``: HTTP only; writes land in the outbox, a worker publishes them.
- ``worker``: the Kafka consumers (with their re-drivers) and the outbox relay; HTTP serves
  only ``/healthz``, ``/readyz`` and ``/metrics``, for probes and scrapes.
- ``all`` (the default): both, in one process.

Before anything is served the service starts (database, migrations, topics, relay,
consumers), so a wrong ``DATABASE_URL`` or an unreachable broker ends the process with one
line naming what was tried. SIGTERM or SIGINT stops the server, then the service, in order,
and the process exits 0. ``--workers N`` runs N uvicorn worker processes, each a whole
service of that role (consumers share their groups' partitions, relays lock per aggregate).

A service's ``__main__`` is one call: ``serve_main("flint_orders.app:create_app", OrdersSettings)``.
Its ``create_app(settings=None)`` builds the FastAPI app whose lifespan starts the service.

Tracing is configured here, once per process, before the app is built
(``flint_chassis.tracing``). uvicorn's own access log stays off: the chassis writes one
line per request with more in it (``flint_chassis.http.observe``; ``FLINT_ACCESS_LOG``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from flint_chassis import db, tracing
from flint_chassis.cli import run_or_exit
from flint_chassis.config import ServiceSettings
from flint_chassis.http.boundary import ErrorBoundary
from flint_chassis.http.correlation import CorrelationMiddleware
from flint_chassis.http.observe import RequestObserver
from flint_chassis.logs import configure_logging
from flint_chassis.service_secret import require_secret
from flint_chassis.topics import ensure_topics

ROLES = ("all", "api", "worker")
HEALTH_PATHS = ("/healthz", "/readyz")
WORKER_PATHS = (*HEALTH_PATHS, "/metrics")  # what a worker serves: probes and scrapes
_WORKER_MIDDLEWARE = (CorrelationMiddleware, RequestObserver, ErrorBoundary)
# What the parent hands its uvicorn worker processes (they build the app from the environment).
_APP_ENV, _SERVICE_ENV, _ROLE_ENV, _ACCESS_LOG_ENV = (
    "FLINT_SERVE_APP", "FLINT_SERVE_SERVICE", "FLINT_SERVE_ROLE", "FLINT_SERVE_ACCESS_LOG")


def serve_main(app_path: str, settings_type: type[ServiceSettings], argv: list[str] | None = None, *,
               access_log: bool = True) -> None:
    """Parse ``--role`` / ``--workers``, start the service and serve until SIGTERM.
    ``access_log=False`` turns the access log off unless ``FLINT_ACCESS_LOG`` says otherwise."""
    args = _parser(settings_type).parse_args(argv)
    _settings_env(settings_type, args)  # so uvicorn worker processes see the flags too
    if not access_log:
        os.environ.setdefault("FLINT_ACCESS_LOG", "false")
    settings = settings_type()
    configure_logging(settings.service_name, settings.log_level)
    role = getattr(settings, "role", "all")
    if getattr(settings, "workers", 1) > 1:
        run_or_exit(_preflight(settings))
        os.environ.update({_APP_ENV: app_path, _SERVICE_ENV: settings.service_name, _ROLE_ENV: role,
                           _ACCESS_LOG_ENV: "1" if access_log else ""})
        uvicorn.run("flint_chassis.serve:app_from_environment", factory=True, host=settings.host,
                    port=settings.port, workers=settings.workers, lifespan="on", log_config=None,
                    access_log=False, server_header=False, loop="uvloop", http="httptools")
        return
    tracing.configure_tracing(settings.service_name, settings, version=settings.version, set_global=True)
    run_or_exit(_serve(_import(app_path)(settings), role, settings), runner=_event_loop_runner())


def served_app(app: FastAPI, role: str) -> FastAPI:
    """What HTTP serves for ``role``: the whole app, or in a worker only its probes and
    ``/metrics``, behind the same middleware (correlation, metrics, access log)."""
    if role != "worker":
        return app
    return FastAPI(title=f"{app.title} (worker)", routes=[r for r in _flat_routes(app.routes)
                                                          if getattr(r, "path", None) in WORKER_PATHS],
                   middleware=[m for m in app.user_middleware if m.cls in _WORKER_MIDDLEWARE],
                   lifespan=app.router.lifespan_context,
                   telemetry={"tracing": False, "metrics": False, "logs": False})


def _flat_routes(routes: list[Any]) -> list[Any]:
    """The routes of included routers too: FastAPI keeps an included router whole (an entry
    with ``original_router``) instead of copying its routes into the app's list. The health
    and metrics routers are included without a prefix, so their routes' paths are the served paths."""
    flat = []
    for route in routes:
        included = getattr(route, "original_router", None)
        flat.extend(_flat_routes(included.routes) if included is not None else [route])
    return flat


def app_from_environment() -> FastAPI:
    """The uvicorn factory of each worker process under ``--workers N``. Each worker writes
    its spans to a trace file of its own (``<FLINT_TRACE_FILE>.<pid>``)."""
    service = os.environ[_SERVICE_ENV]
    configure_logging(service, os.environ.get("FLINT_LOG_LEVEL", "INFO"))
    settings = ServiceSettings()
    if settings.trace_file:
        settings.trace_file = f"{settings.trace_file}.{os.getpid()}"
    tracing.configure_tracing(service, settings, set_global=True)
    return served_app(_import(os.environ[_APP_ENV])(), os.environ.get(_ROLE_ENV, "all"))


async def _serve(app: FastAPI, role: str, settings: Any) -> None:
    config = uvicorn.Config(served_app(app, role), host=settings.host, port=settings.port, lifespan="off",
                            log_config=None, access_log=False, server_header=False, proxy_headers=False)
    server = uvicorn.Server(config)
    _stop_on_signals(server)
    try:
        async with app.router.lifespan_context(app):
            if not server.should_exit:  # a signal during start-up: stop without serving
                await server.serve()
    finally:
        tracing.shutdown_tracing()


def _stop_on_signals(server: uvicorn.Server) -> None:
    """Our own SIGTERM/SIGINT handlers: before uvicorn serves (start-up), they ask it not to;
    uvicorn puts them back when it stops and re-raises the signal it got into them, so the
    process goes on to stop the service and exits 0 instead of dying of the signal."""

    def stop(signum: int, frame: Any) -> None:
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


async def _preflight(settings: ServiceSettings) -> None:
    """The one-line start-up errors, checked once in the parent before workers start."""
    if getattr(settings, "role", "all") != "worker":  # the HTTP contract signs and seals with it
        require_secret(settings.secret.get_secret_value() if settings.secret else None, service=settings.service_name)
    await db.ensure_database(settings.database_url, settings.database)
    await (await db.create_pool(settings.service_database_url, min_size=1, max_size=1)).close()
    await ensure_topics(settings.kafka_bootstrap_servers, [])


def _parser(settings_type: type[ServiceSettings]) -> argparse.ArgumentParser:
    name = settings_type.service_name
    parser = argparse.ArgumentParser(prog=f"python -m flint_{name}", description=f"Run the {name} service.")
    parser.add_argument("--role", choices=ROLES, help=f"what this process runs (default: {_env_name(settings_type, 'role')} or all)")
    parser.add_argument("--workers", type=int, help=f"uvicorn worker processes (default: {_env_name(settings_type, 'workers')} or 1)")
    return parser


def _settings_env(settings_type: type[ServiceSettings], args: argparse.Namespace) -> None:
    for field in ("role", "workers"):
        value = getattr(args, field)
        if value is None:
            continue
        if field not in settings_type.model_fields:
            raise SystemExit(f"flint: {settings_type.__name__} has no {field} setting")
        os.environ[_env_name(settings_type, field)] = str(value)


def _env_name(settings_type: type[ServiceSettings], field: str) -> str:
    info = settings_type.model_fields.get(field)
    return (info.alias if info is not None and info.alias else field.upper())


def _import(path: str) -> Callable[..., FastAPI]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _event_loop_runner() -> Callable[[Any], Any]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of every service
        return asyncio.run
    return uvloop.run
