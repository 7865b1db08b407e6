"""The 30-line plugin of docs/sdk.md works as written: installed through the real OAuth flow,
reading its own topic with its own Kafka credential, it thanks an order once it is paid."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from flint_contracts.topics import PAYMENTS_EVENTS
from flint_sdk import AsyncFlintClient
from tests.orders.events import payment_captured
from tests.sdk.app_topic import OrderEventCopier, publish
from tests.sdk.conftest import install
from tests.sdk.platform import order_body
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
MARKER = "<!-- the block below is run by tests/sdk/test_docs_example.py -->"


def example() -> str:
    block = DOC.read_text().split(MARKER, 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_example_is_about_thirty_lines():
    assert len([line for line in example().splitlines() if line.strip()]) <= 30


async def test_the_docs_plugin_thanks_a_paid_order(flint, merchant, kafka_credential, kafka_bootstrap, tmp_path,
                                                   monkeypatch):
    # given the app installed by the merchant, with its Kafka credential and its refresh token stored
    installed = install(flint, merchant)
    credential = await kafka_credential(installed.app["id"])
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"refresh_token": installed.tokens.refresh_token}))
    for name, value in {"FLINT_TOKENS_FILE": str(tokens), "FLINT_APP_ID": installed.client_id,
                        "FLINT_CLIENT_SECRET": installed.client_secret, "FLINT_INSTALLS_URL": flint.installs_url,
                        "FLINT_KAFKA_PASSWORD": credential.password,
                        "FLINT_KAFKA_PLUGIN_BOOTSTRAP": credential.bootstrap_servers}.items():
        monkeypatch.setenv(name, value)
    # and an order the buyer paid in full, its events on the app's topic
    async with OrderEventCopier(kafka_bootstrap) as copier, AsyncFlintClient.for_merchant(
            flint.installs_url, merchant["id"], merchant["secret_key"]) as backend:
        order = await backend.orders.create(order_body())
        await publish(kafka_bootstrap, PAYMENTS_EVENTS, payment_captured(order.model_dump(), 2880))
        copied = await copier.copy([order.id], 2, credential.topic)
        assert [json.loads(r.value)["type"] for r in copied] == ["order.created", "order.paid"]
        # when the plugin of the docs runs
        plugin_module = types.ModuleType("thanks_plugin")
        exec(compile(example(), str(DOC), "exec"), plugin_module.__dict__)  # noqa: S102 - the docs' own code
        async with plugin_module.plugin:
            thanked = await eventually(lambda: _thanked(backend, order.id), message="the thank-you note")
        await plugin_module.client.aclose()
    # then the order has the note and the tag, and the app holds its rotated refresh token
    assert [note["body"] for note in thanked.notes] == ["Paid in full: 28.80 EUR. Thank you!"]
    assert json.loads(tokens.read_text())["refresh_token"] not in ("", installed.tokens.refresh_token)


async def _thanked(backend: AsyncFlintClient, order_id: str):
    order = await backend.orders.get(order_id)
    return order if "thanked" in order.tags else None
