"""With OTEL_EXPORTER_OTLP_ENDPOINT set, spans leave as OTLP over HTTP (protobuf) to
<endpoint>/v1/traces, named after the service; with FLINT_TRACE_FILE, as JSON lines."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import SpanKind

from flint_chassis import tracing


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_go_to_the_otlp_endpoint_when_it_is_set():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        # given a service whose settings name an OTLP endpoint
        assert tracing.configure_tracing("exported", SimpleNamespace(otel_exporter_otlp_endpoint=endpoint,
                                                                     trace_file=None))
        # when it handles a message and stops
        with tracing.span("process flint.orders.events.v1", kind=SpanKind.CONSUMER,
                          parent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"):
            pass
        tracing.shutdown_tracing()  # exports what is pending
    finally:
        tracing.shutdown_tracing()
        server.shutdown()
    # then the collector got it over OTLP/HTTP, in the caller's trace, named after the service
    [(path, content_type, body)] = Collector.received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "flint-exported"
    [span] = resource_spans.scope_spans[0].spans
    assert span.name == "process flint.orders.events.v1"
    assert span.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736" and span.parent_span_id.hex() == "00f067aa0ba902b7"
    assert not tracing.enabled()


def test_spans_go_to_a_file_of_json_lines_without_an_endpoint(tmp_path):
    path = tmp_path / "traces" / "filed.jsonl"
    assert tracing.configure_tracing("filed", SimpleNamespace(otel_exporter_otlp_endpoint=None, trace_file=str(path)))
    try:
        with tracing.span("send flint.orders.events.v1", kind=SpanKind.PRODUCER):
            inside = tracing.current_traceparent()
    finally:
        tracing.shutdown_tracing()
    [line] = [json.loads(text) for text in path.read_text().splitlines()]
    assert line["name"] == "send flint.orders.events.v1" and line["kind"] == "SpanKind.PRODUCER"
    # the traceparent an outbox row stores names this span (sampled; "random" flag too, W3C level 2)
    assert inside.rsplit("-", 1)[0] == f"00-{line['context']['trace_id'][2:]}-{line['context']['span_id'][2:]}"
    assert int(inside.rsplit("-", 1)[1], 16) & 1
    assert line["resource"]["attributes"]["service.name"] == "flint-filed"


def test_without_an_endpoint_or_a_file_tracing_is_off():
    assert not tracing.configure_tracing("quiet", SimpleNamespace(otel_exporter_otlp_endpoint="", trace_file=None))
    with tracing.span("nothing", kind=SpanKind.SERVER) as span:
        assert span is None and tracing.current_traceparent() is None
