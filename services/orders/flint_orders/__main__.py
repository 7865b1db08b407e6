"""``python -m flint_orders [--role all|api|worker] [--workers N]``: run the orders service.

HTTP runs on uvicorn with uvloop and httptools. Before the server starts, the database and
Kafka are checked, so a wrong DATABASE_URL or an unreachable broker ends the process with one
line naming what was tried instead of a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import uvicorn

from flint_chassis import db
from flint_chassis.cli import run_or_exit
from flint_chassis.logs import configure_logging
from flint_chassis.service_secret import require_secret
from flint_chassis.topics import ensure_topics
from flint_contracts.topics import ORDERS_EVENTS
from flint_orders.config import OrdersSettings


def app_factory():
    """What each uvicorn worker process calls: logging first, then the app."""
    from flint_orders.app import create_app

    settings = OrdersSettings()
    configure_logging(settings.service_name, settings.log_level)
    return create_app(settings)


async def preflight(settings: OrdersSettings) -> None:
    await db.ensure_database(settings.database_url, settings.database)
    await ensure_topics(settings.kafka_bootstrap_servers, [ORDERS_EVENTS], partitions=settings.topic_partitions)
    if settings.serves_http:  # cursors and stored idempotent answers need it
        require_secret(settings.secret.get_secret_value() if settings.secret else None, service=settings.service_name)


async def run_worker(settings: OrdersSettings) -> None:
    """Consumers and the outbox relay only, no HTTP."""
    from flint_orders.app import create_runtime

    runtime = create_runtime(settings)
    async with runtime.lifespan():
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flint_orders", description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("all", "api", "worker"), help="default: FLINT_ORDERS_ROLE or all")
    parser.add_argument("--workers", type=int, help="HTTP worker processes (default: FLINT_ORDERS_WORKERS or 1)")
    args = parser.parse_args(argv)
    # Worker processes read their settings from the environment, so the flags go there.
    if args.role:
        os.environ["FLINT_ORDERS_ROLE"] = args.role
    if args.workers:
        os.environ["FLINT_ORDERS_WORKERS"] = str(args.workers)
    settings = OrdersSettings()
    configure_logging(settings.service_name, settings.log_level)
    run_or_exit(preflight(settings))
    if settings.role == "worker":
        run_or_exit(run_worker(settings))
        return
    uvicorn.run(
        "flint_orders.__main__:app_factory", factory=True, host=settings.host, port=settings.port,
        workers=settings.workers, loop="uvloop", http="httptools", lifespan="on",
        access_log=False, log_config=None, server_header=False,
    )


if __name__ == "__main__":
    main()
