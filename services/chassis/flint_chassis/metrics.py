"""Prometheus metrics every Flint service exposes at ``/metrics`` (prometheus-client).

The counters and histograms here are process-wide (prometheus-client's default registry, with
its process and GC collectors): the chassis records them as requests are answered
(``http.observe``), messages consumed (``consumer.processor``) and rows published
(``outbox``). What is read at scrape time (consumer lag, outbox backlog, the pool) comes from
the service's runtime (``runtime_metrics``). Names follow Prometheus conventions:
``flint_<what>_total`` for counters, ``_seconds`` for durations, base units only.

Services record what only they know through small functions, never through the metric
objects, so names and labels stay in this one file. Webhook delivery, for instance::

    from flint_chassis.metrics import observe_webhook_attempt
    observe_webhook_attempt("delivered", seconds=0.182)
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Latency buckets in seconds: from a cached read (1 ms) to a request that timed out (10 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Methods kept as label values; anything else a client sends is counted as "other", so a
# client cannot create series at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"

HTTP_REQUESTS = Counter(
    "flint_http_requests", "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "flint_http_request_duration_seconds", "Time from a request's arrival to the end of its answer.",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)

CONSUMER_MESSAGES = Counter(
    "flint_consumer_messages",
    "Kafka messages a consumer took care of, by what happened to them: processed, duplicate, parked, "
    "dead_lettered, skipped (a type it does not handle) or dropped (not even a dead letter could be written).",
    ["consumer", "topic", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "flint_consumer_retries",
    "Tries of a message after its first: conflict (a quick retry in place), database_unreachable (waiting for "
    "the database), parked (a parked message tried again when due).",
    ["consumer", "topic", "reason"],
)
CONSUMER_DEAD_LETTERS = Counter(
    "flint_consumer_dead_letters", "Dead letters written, by the topic the message came from and the reason code.",
    ["consumer", "topic", "code"],
)
CONSUMER_HANDLE_DURATION = Histogram(
    "flint_consumer_handle_duration_seconds",
    "Time to take care of one message: validation, its transaction (inbox, handler, outbox) or its parking or "
    "dead letter, until the offset may be committed.",
    ["consumer", "topic"], buckets=LATENCY_BUCKETS,
)

OUTBOX_PUBLISHED = Counter("flint_outbox_published", "Outbox rows the relay published to Kafka.", ["topic"])
OUTBOX_PUBLISH_FAILURES = Counter(
    "flint_outbox_publish_failures", "Batches the relay could not publish (it retries them).", [],
)

WEBHOOK_ATTEMPTS = Counter(
    "flint_webhook_attempts", "Webhook deliveries tried, by outcome (e.g. delivered, failed, refused).", ["outcome"],
)
WEBHOOK_ATTEMPT_DURATION = Histogram(
    "flint_webhook_attempt_duration_seconds", "Time of one webhook attempt, connection included, by outcome.",
    ["outcome"], buckets=LATENCY_BUCKETS,
)


def observe_webhook_attempt(outcome: str, seconds: float) -> None:
    """Count one webhook attempt and its duration. ``outcome`` is a short fixed word (never a
    URL or a receiver's text): every distinct value is a time series of its own."""
    WEBHOOK_ATTEMPTS.labels(outcome).inc()
    WEBHOOK_ATTEMPT_DURATION.labels(outcome).observe(seconds)


def observe_dead_letter(consumer: str, topic: str, code: str) -> None:
    """Count one dead letter written by ``consumer`` for a message from ``topic``."""
    CONSUMER_DEAD_LETTERS.labels(consumer, topic, code).inc()


def observe_retry(consumer: str, topic: str, reason: str) -> None:
    """Count one more try of a message (``reason``: conflict, database_unreachable, parked)."""
    CONSUMER_RETRIES.labels(consumer, topic, reason).inc()


class HttpObservations:
    """Records one answered request cheaply: the labelled children are looked up once per
    (method, route, status) and kept, so a request costs two dict lookups and two updates."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = "other"
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = HTTP_REQUESTS.labels(method, route, str(status))
        counter.inc()
        duration = self._durations.get(key[:2])
        if duration is None:
            duration = self._durations[key[:2]] = HTTP_REQUEST_DURATION.labels(method, route)
        duration.observe(seconds)


class ConsumerObservations:
    """The same for one consumer's messages, keyed by (topic, outcome)."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self._messages: dict[tuple[str, str], Counter] = {}
        self._durations: dict[str, Histogram] = {}

    def observe(self, topic: str, outcome: str, seconds: float) -> None:
        counter = self._messages.get((topic, outcome))
        if counter is None:
            counter = self._messages[(topic, outcome)] = CONSUMER_MESSAGES.labels(self.consumer, topic, outcome)
        counter.inc()
        duration = self._durations.get(topic)
        if duration is None:
            duration = self._durations[topic] = CONSUMER_HANDLE_DURATION.labels(self.consumer, topic)
        duration.observe(seconds)
