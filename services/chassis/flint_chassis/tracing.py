"""Traces that follow one piece of work across services (OpenTelemetry).

One trace runs HTTP request -> its transaction -> the outbox relay's publish -> Kafka -> the
consumer that handles the event, and on into whatever that consumer writes to its own outbox:
the W3C ``traceparent`` of the work at hand is stored with each outbox row
(``flint_outbox.traceparent``), sent as a Kafka header, and continued by the consumer.

Where spans go, decided once per process by :func:`configure_tracing`:
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` set: OTLP over HTTP (a collector, Jaeger, Tempo...);
- else ``FLINT_TRACE_FILE`` set (``make up`` sets ``.flint/traces/<service>.jsonl``): one
  JSON object per span and line;
- else off: no span is made at all (no instrumentation, nothing exported), which keeps the
  hot paths as cheap as before. An incoming ``traceparent`` is still carried through: log
  lines show its trace id, and the outbox passes it on, so a trace started upstream continues
  in the next service that does export.

When on, FastAPI and asyncpg are instrumented (the opentelemetry-instrumentation packages),
and the chassis adds a PRODUCER span per published row and a CONSUMER span per message. Only
work that starts here roots a trace: a database call with no parent (the relay polling) is
not recorded. ``OTEL_TRACES_SAMPLER`` and the other ``OTEL_*`` variables apply as usual.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
# Requests that never root a trace: probes and scrapes.
UNTRACED_URLS = "/healthz,/readyz,/metrics"

_PROPAGATOR = TraceContextTextMapPropagator()


class _Tracing:
    """The process' tracing, once configured: its provider, the chassis' tracer, the file."""

    def __init__(self) -> None:
        self.provider: Any = None
        self.tracer: trace.Tracer | None = None
        self.file: Any = None


_state = _Tracing()


def enabled() -> bool:
    """True when spans are recorded and exported in this process."""
    return _state.tracer is not None


def configure_tracing(service: str, settings: Any = None, *, exporter: Any = None, version: str | None = None,
                      set_global: bool = False) -> bool:
    """Turn tracing on for this process when ``settings`` (``ServiceSettings``) name an OTLP
    endpoint or a trace file, or when an ``exporter`` is given (tests). Returns whether it is on.
    ``set_global`` also makes it the process' global provider, for code that asks OpenTelemetry
    for a tracer itself."""
    shutdown_tracing()
    exporter = exporter or _exporter_from(settings)
    if exporter is None:
        return False
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": f"flint-{service}", **({"service.version": version} if version else {})})
    provider = TracerProvider(resource=resource, sampler=_sampler())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    _state.provider, _state.tracer = provider, provider.get_tracer("flint_chassis")
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    if set_global:
        trace.set_tracer_provider(provider)
    return True


def shutdown_tracing() -> None:
    """Export what is pending and turn tracing off (the asyncpg instrumentation is removed)."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().uninstrument()
    provider.shutdown()
    if _state.file is not None:
        _state.file.close()
        _state.file = None


def instrument_app(app: Any) -> None:
    """Server spans for every request of ``app`` (not probes nor scrapes), when tracing is on.
    Call before the app serves its first request."""
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_state.provider, excluded_urls=UNTRACED_URLS,
                                       exclude_spans=["receive", "send"])


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the work at hand (the current span, or the remote parent
    carried in), or None outside any trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


def current_trace_id() -> str | None:
    """The trace id of the work at hand, as 32 hex digits, for log lines."""
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None


def traceparent_of(headers: Sequence[tuple[str, bytes]]) -> str | None:
    """The ``traceparent`` header of a Kafka message, if it has a readable one."""
    for name, value in headers:
        if name == TRACEPARENT:
            try:
                return value.decode("ascii")
            except UnicodeDecodeError:
                return None
    return None


def carried(traceparent: str | bytes | None) -> contextlib.AbstractContextManager[None]:
    """Makes an incoming ``traceparent`` the current context while tracing is off, so its
    trace id reaches log lines and outbox rows; nothing when tracing is on (the span started
    for the work continues it) or when there is none."""
    if traceparent is None or enabled():
        return contextlib.nullcontext()
    return _attached(_parent_context(traceparent))


@contextlib.contextmanager
def span(name: str, *, kind: SpanKind, parent: str | bytes | None = None,
         attributes: Mapping[str, Any] | None = None) -> Iterator[trace.Span | None]:
    """A span for one piece of work, child of ``parent`` (a ``traceparent``) when given, else
    of the current context. When tracing is off, only ``parent`` is carried (see ``carried``)
    and None is yielded."""
    tracer = _state.tracer
    if tracer is None:
        with carried(parent):
            yield None
        return
    parent_context = _parent_context(parent) if parent is not None else None
    with tracer.start_as_current_span(name, context=parent_context, kind=kind, attributes=attributes) as current:
        yield current


def _parent_context(traceparent: str | bytes) -> context.Context:
    if isinstance(traceparent, bytes):
        traceparent = traceparent.decode("latin-1")
    return _PROPAGATOR.extract({TRACEPARENT: traceparent})


@contextlib.contextmanager
def _attached(parent: context.Context) -> Iterator[None]:
    token = context.attach(parent)
    try:
        yield
    finally:
        context.detach(token)


def _exporter_from(settings: Any) -> Any:
    endpoint = getattr(settings, "otel_exporter_otlp_endpoint", None)
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        traces_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or f"{endpoint.rstrip('/')}/v1/traces"
        return OTLPSpanExporter(endpoint=traces_endpoint)
    path = getattr(settings, "trace_file", None)
    if path:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        _state.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by shutdown_tracing
        return ConsoleSpanExporter(out=_state.file, formatter=lambda s: s.to_json(indent=None) + "\n")
    return None


def _sampler() -> Any:
    """Roots only for work that starts here; children follow their parent's decision.
    ``OTEL_TRACES_SAMPLER``, when set, replaces this (the SDK reads it)."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult

    class WorkRoots(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: SpanKind | None = None,
                          attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
            if kind in (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.PRODUCER):
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
            return SamplingResult(Decision.DROP)

        def get_description(self) -> str:
            return "FlintWorkRoots"

    return ParentBased(root=WorkRoots())
