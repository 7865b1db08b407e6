"""The AsyncAPI document of the orders service's topics, generated from the models.

    python -m flint_orders.asyncapi            # print it
    python -m flint_orders.asyncapi --write    # write docs/asyncapi/orders.json

Consumed payloads are the contract models of ``flint_contracts.events``; produced order
events carry ``OrderEventData``. A test keeps the written file equal to this output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from flint_contracts import event_types as types
from flint_contracts.envelope import EventEnvelope
from flint_contracts.events import DATA_MODELS
from flint_contracts.topics import ORDERS_EVENTS, REGISTRY, dead_letter_topic
from flint_orders import subscribers
from flint_orders.domain import ORDER_EVENT_TYPES
from flint_orders.schemas import OrderEventData

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "asyncapi" / "orders.json"
_REF = "#/components/schemas/{model}"


def consumed_topics() -> list[str]:
    return [topic for s in subscribers.SUBSCRIPTIONS for topic in s.topics]


def produced_topics() -> list[str]:
    return [ORDERS_EVENTS, *(dead_letter_topic(t, "orders") for t in consumed_topics())]


def document() -> dict[str, Any]:
    models = _payload_models()
    # All at once, so two models of one name (the domain's Customer, the command's Customer)
    # get distinct schema names instead of overwriting each other.
    refs, definitions = models_json_schema([(m, "serialization") for m in models], ref_template=_REF)
    schemas = definitions.get("$defs", {})
    schema_names = {model: refs[(model, "serialization")]["$ref"].rsplit("/", 1)[-1] for model in models}
    channels, operations, messages = {}, {}, {}
    for topic in consumed_topics():
        names = [t.name for t in types.for_topic(topic)]
        channels[_key(topic)] = _channel(topic, names, messages, schema_names)
        operations[f"receive_{_key(topic)}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{_key(topic)}"},
            "summary": f"orders consumes {topic} (idempotently, offsets after commit)",
            "messages": [{"$ref": f"#/channels/{_key(topic)}/messages/{_key(n)}"} for n in names],
        }
    channels[_key(ORDERS_EVENTS)] = _channel(ORDERS_EVENTS, list(ORDER_EVENT_TYPES), messages, schema_names)
    operations[f"send_{_key(ORDERS_EVENTS)}"] = {
        "action": "send", "channel": {"$ref": f"#/channels/{_key(ORDERS_EVENTS)}"},
        "summary": "Every published change of an order, in per-order sequence order, keyed by order id.",
        "messages": [{"$ref": f"#/channels/{_key(ORDERS_EVENTS)}/messages/{_key(n)}"} for n in ORDER_EVENT_TYPES],
    }
    for topic in consumed_topics():
        dlq = dead_letter_topic(topic, "orders")
        channels[_key(dlq)] = {
            "address": dlq,
            "description": f"Messages of {topic} the orders service could not process, unchanged, with "
                           "flint-dlq-reason, -code, -consumer, -source-topic/-partition/-offset, -attempts, "
                           "-failed-at headers.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
        }
        operations[f"send_{_key(dlq)}"] = {"action": "send", "channel": {"$ref": f"#/channels/{_key(dlq)}"},
                                           "messages": [{"$ref": f"#/channels/{_key(dlq)}/messages/deadLetter"}]}
    messages["deadLetter"] = {"name": "dead letter", "contentType": "application/json",
                              "payload": {"description": "The original message bytes."}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Flint orders service", "version": "1.0.0",
                 "description": "Topics the orders service consumes and produces. Names live in flint_contracts."},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka",
                              "description": "The local stack (`make up`)."}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _payload_models() -> list[type[BaseModel]]:
    return list(dict.fromkeys([EventEnvelope, OrderEventData, *DATA_MODELS.values()]))


def _channel(topic: str, names: list[str], messages: dict, schema_names: dict) -> dict[str, Any]:
    description = REGISTRY[topic].description + f" Key: {REGISTRY[topic].key}."
    for name in names:
        messages[_key(name)] = _message(name, schema_names)
    return {"address": topic, "description": description,
            "messages": {_key(n): {"$ref": f"#/components/messages/{_key(n)}"} for n in names}}


def _message(name: str, schema_names: dict[type[BaseModel], str]) -> dict[str, Any]:
    model = OrderEventData if name in ORDER_EVENT_TYPES else DATA_MODELS.get(name)
    data = {"$ref": _REF.format(model=schema_names[model])} if model else {"type": "object"}
    label = types.REGISTRY[name].label if name in types.REGISTRY else ORDER_EVENT_TYPES[name]
    return {
        "name": name, "title": label, "contentType": "application/json",
        "headers": {"type": "object", "properties": {"flint-event-id": {"type": "string"},
                                                     "flint-event-type": {"type": "string", "const": name}}},
        "payload": {"allOf": [{"$ref": _REF.format(model=schema_names[EventEnvelope])},
                              {"type": "object", "properties": {"type": {"const": name}, "data": data}}]},
    }


def _key(name: str) -> str:
    return name.replace(".", "_")


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m flint_orders.asyncapi", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT.relative_to(DOCUMENT.parents[2])}")
    if parser.parse_args().write:
        DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
        DOCUMENT.write_text(render())
    else:
        print(render(), end="")


if __name__ == "__main__":
    main()
