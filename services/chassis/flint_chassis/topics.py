"""Topic creation at start-up, so consumers never wait on auto-creation."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from flint_chassis.errors import StartupError


async def ensure_topics(bootstrap_servers: str, names: Iterable[str], *, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    try:
        await admin.start()
    except (KafkaConnectionError, KafkaError, OSError) as error:
        raise StartupError(f"cannot reach Kafka at {bootstrap_servers}: {error}") from None
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
