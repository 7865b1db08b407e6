"""The one place topic names live. Services, tests and docs import them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    key: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    description: str


ORDERS_COMMANDS = "flint.orders.commands.v1"
ORDERS_EVENTS = "flint.orders.events.v1"
PAYMENTS_EVENTS = "flint.payments.events.v1"
REFUNDS_EVENTS = "flint.refunds.events.v1"
INVOICES_EVENTS = "flint.invoices.events.v1"
INSTALLS_EVENTS = "flint.installs.events.v1"

REGISTRY: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic(ORDERS_COMMANDS, "order id", ("internal services",), ("orders",),
              "Commands to the orders service: create, cancel, add note."),
        Topic(ORDERS_EVENTS, "order id", ("orders",), ("refunds", "invoicing", "installs"),
              "Every change of an order record, in per-order sequence order."),
        Topic(PAYMENTS_EVENTS, "order id", ("invoicing", "internal producers"), ("orders", "refunds"),
              "Payments captured or failed against an order."),
        Topic(REFUNDS_EVENTS, "order id", ("refunds",), ("orders", "installs"),
              "Refunds created, succeeded or failed, with their lines and reason."),
        Topic(INVOICES_EVENTS, "order id", ("invoicing",), ("orders", "installs"),
              "Invoice lifecycle: created, sent, reminded, overdue, paid, voided."),
        Topic(INSTALLS_EVENTS, "install id (merchant id for merchant events)", ("installs",),
              ("orders", "refunds", "invoicing", "installs"),
              "App installs created, re-scoped or uninstalled (drives token revocation); merchants created "
              "(internal: invoicing shows their names)."),
    )
}


def app_topic(app_id: str) -> str:
    """The per-app delivery topic holding only events that app may see."""
    return f"flint.app.{app_id}.v1"


def dead_letter_topic(topic: str, service: str) -> str:
    """Where ``service`` puts messages of ``topic`` it could not process."""
    return f"{topic}.dlq.{service}"
