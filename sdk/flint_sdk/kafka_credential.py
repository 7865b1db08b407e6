"""The app's Kafka credential (docs/kafka.md): ``POST /v1/apps/{app_id}/kafka-credential``.

The app asks for it with its OAuth client id and secret (HTTP Basic), not an install's token:
the credential reads the app's one topic, which holds the events of every merchant that
installed it. The password is in this answer only; keep it. Losing it means rotating
(``rotate=True``), which stops the old password at once.
"""

from __future__ import annotations

import httpx

from flint_sdk import base
from flint_sdk.api.operation import new_idempotency_key, path
from flint_sdk.auth import basic_auth
from flint_sdk.models import FlintModel


class KafkaCredential(FlintModel):
    """A SCRAM-SHA-512 login on the broker's plugin listener, for ``Plugin(username, password,
    bootstrap_servers)``: it reads ``topic`` in consumer groups starting with ``group_prefix``."""

    username: str
    password: str
    bootstrap_servers: str
    topic: str
    group_prefix: str


def kafka_credential(installs_url: str, client_id: str, client_secret: str, *, rotate: bool = False,
                     timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> KafkaCredential:
    """Makes the app's Kafka credential (or, with ``rotate``, a new password for it).

    A second make is a :class:`~flint_sdk.ConflictError` with ``code="kafka_credential_exists"``;
    rotating before one exists is one with ``code="no_kafka_credential"``. The call carries an
    ``Idempotency-Key`` and is retried once on a lost connection, so a retry shows the same
    password instead of making (or rotating to) another.
    """
    url = installs_url.rstrip("/") + path("/v1/apps/{}/kafka-credential", client_id) + ("/rotate" if rotate else "")
    headers = {**basic_auth(client_id, client_secret), "Idempotency-Key": new_idempotency_key()}
    with httpx.Client(timeout=timeout, transport=transport) as http:
        for attempt in (1, 2):
            try:
                response = http.post(url, headers=headers)
                break
            except httpx.TransportError as error:
                if attempt == 2:
                    raise base.connection_error(error, f"POST {url}") from error
    return KafkaCredential.model_validate_json(base.checked(response).content)
