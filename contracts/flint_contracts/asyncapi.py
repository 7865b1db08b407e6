"""AsyncAPI 3 documents of every Flint service, generated from the contracts.

    python -m flint_contracts.asyncapi --write docs/asyncapi   # or: make asyncapi
    python -m flint_contracts.asyncapi orders                  # print one document

One generator for every service: the topics a service sends to and receives from come from
``flint_contracts.topics`` (producers and consumers of each topic), the messages of a topic
from ``flint_contracts.event_types``, and each message's payload is the event envelope with
the ``data`` model of its type (``flint_contracts.events.DATA_MODELS``). A service that
consumes a topic also sends what it cannot process to ``<topic>.dlq.<service>``.
``tests/contracts/test_asyncapi.py`` fails when a committed document is not what this writes.
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
from flint_contracts.topics import REGISTRY, dead_letter_topic

SERVICES = ("installs", "orders", "refunds", "invoicing")
"""The Flint services the topic registry names as producers or consumers."""

_REF = "#/components/schemas/{model}"
_DEAD_LETTER_HEADERS = ("flint-dlq-reason, -code, -consumer, -source-topic, -source-partition, -source-offset, "
                        "-attempts and -failed-at")


def produced_topics(service: str) -> list[str]:
    return [topic.name for topic in REGISTRY.values() if service in topic.producers]


def consumed_topics(service: str) -> list[str]:
    return [topic.name for topic in REGISTRY.values() if service in topic.consumers]


def document(service: str) -> dict[str, Any]:
    """The AsyncAPI document of ``service``: what it sends and receives, with every payload."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; services are {', '.join(SERVICES)}")
    schemas, schema_names = _schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for action, topics in (("send", produced_topics(service)), ("receive", consumed_topics(service))):
        for topic in topics:
            names = [t.name for t in types.for_topic(topic)]
            channels[_key(topic)] = _channel(topic, names, messages, schema_names)
            operations[f"{action}_{_key(topic)}"] = _operation(action, topic, names, service)
    for topic in consumed_topics(service):
        dlq = dead_letter_topic(topic, service)
        channels[_key(dlq)] = {
            "address": dlq,
            "description": f"Messages of {topic} that {service} could not process, unchanged, with the "
                           f"{_DEAD_LETTER_HEADERS} headers.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
        }
        operations[f"send_{_key(dlq)}"] = {"action": "send", "channel": {"$ref": f"#/channels/{_key(dlq)}"},
                                           "messages": [{"$ref": f"#/channels/{_key(dlq)}/messages/deadLetter"}]}
    if consumed_topics(service):
        messages["deadLetter"] = {"name": "dead letter", "contentType": "application/json",
                                  "payload": {"description": "The original message bytes."}}
    used = _referenced(messages, schemas)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"Flint {service} service", "version": "1.0.0",
                 "description": f"Topics the {service} service sends to and receives from. Names, types and "
                                "payloads live in flint_contracts."},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:19092", "protocol": "kafka",
                              "description": "The local stack (`make up`)."}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {name: schemas[name] for name in sorted(used)}},
    }


def render(service: str) -> str:
    return json.dumps(document(service), indent=2, sort_keys=True) + "\n"


def written(directory: Path) -> dict[Path, str]:
    """Every document, by the path it is written to under ``directory``."""
    return {directory / f"{service}.json": render(service) for service in SERVICES}


# --- parts ------------------------------------------------------------------------------------


def _schemas() -> tuple[dict[str, Any], dict[type[BaseModel], str]]:
    models = list(dict.fromkeys([EventEnvelope, *DATA_MODELS.values()]))
    # All at once, so two models of one name get distinct schema names.
    refs, definitions = models_json_schema([(m, "serialization") for m in models], ref_template=_REF)
    names = {model: refs[(model, "serialization")]["$ref"].rsplit("/", 1)[-1] for model in models}
    return definitions.get("$defs", {}), names


def _channel(topic: str, names: list[str], messages: dict, schema_names: dict) -> dict[str, Any]:
    for name in names:
        messages[_key(name)] = _message(name, schema_names)
    return {"address": topic, "description": f"{REGISTRY[topic].description} Key: {REGISTRY[topic].key}.",
            "messages": {_key(n): {"$ref": f"#/components/messages/{_key(n)}"} for n in names}}


def _operation(action: str, topic: str, names: list[str], service: str) -> dict[str, Any]:
    summary = (f"{service} publishes to {topic} through its outbox, keyed by {REGISTRY[topic].key}."
               if action == "send" else f"{service} consumes {topic} (idempotently, offsets after commit).")
    return {"action": action, "channel": {"$ref": f"#/channels/{_key(topic)}"}, "summary": summary,
            "messages": [{"$ref": f"#/channels/{_key(topic)}/messages/{_key(n)}"} for n in names]}


def _message(name: str, schema_names: dict[type[BaseModel], str]) -> dict[str, Any]:
    data = {"$ref": _REF.format(model=schema_names[DATA_MODELS[name]])}
    return {
        "name": name, "title": types.REGISTRY[name].label, "contentType": "application/json",
        "headers": {"type": "object", "properties": {"flint-event-id": {"type": "string"},
                                                     "flint-event-type": {"type": "string", "const": name}}},
        "payload": {"allOf": [{"$ref": _REF.format(model=schema_names[EventEnvelope])},
                              {"type": "object", "properties": {"type": {"const": name}, "data": data}}]},
    }


def _referenced(messages: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The schemas the messages refer to, directly or through other schemas."""
    found: set[str] = set()
    pending = _refs(messages)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending |= _refs(schemas[name])
    return found


def _refs(value: Any) -> set[str]:
    text = json.dumps(value)
    return {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}


def _key(name: str) -> str:
    return name.replace(".", "_")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flint_contracts.asyncapi", description=__doc__.splitlines()[0])
    parser.add_argument("service", nargs="?", choices=SERVICES, help="print this service's document")
    parser.add_argument("--write", metavar="DIR", type=Path, help="write every service's document into DIR")
    args = parser.parse_args(argv)
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for path, text in written(args.write).items():
            path.write_text(text)
            print(f"wrote {path}")
    elif args.service:
        print(render(args.service), end="")
    else:
        parser.error("name a service, or --write DIR")


if __name__ == "__main__":
    main()
