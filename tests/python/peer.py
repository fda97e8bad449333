"""A Python peer for the interoperability tests, using the official
OpenTelemetry Python SDK and its W3C propagator.

    peer.py client URL [--unsampled]   send a POST in a client span, print its ids as JSON
    peer.py server [--export URL]       serve on a free port; answer with what was extracted;
                                        with --export, send the spans (service "python") over
                                        OTLP/HTTP to URL/v1/traces as each one ends
"""
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

PROPAGATOR = TraceContextTextMapPropagator()


def ids(span_context):
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "sampled": span_context.trace_flags.sampled,
    }


def client(url, unsampled):
    provider = TracerProvider(sampler=ALWAYS_OFF if unsampled else ALWAYS_ON)
    tracer = provider.get_tracer("python-peer")
    with tracer.start_as_current_span("python-client", kind=trace.SpanKind.CLIENT) as span:
        headers = {"content-type": "application/json"}
        PROPAGATOR.inject(headers)
        request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
        out = ids(span.get_span_context())
        out["status"] = status
        out["traceparent"] = headers.get("traceparent")
        print(json.dumps(out), flush=True)


class Handler(BaseHTTPRequestHandler):
    tracer = TracerProvider().get_tracer("python-peer")

    def _handle(self):
        carrier = {k.lower(): v for k, v in self.headers.items()}
        context = PROPAGATOR.extract(carrier)
        parent = trace.get_current_span(context).get_span_context()
        with self.tracer.start_as_current_span("python-server", context=context, kind=trace.SpanKind.SERVER) as span:
            own = span.get_span_context()
            body = json.dumps({
                "received_traceparent": carrier.get("traceparent"),
                "parent_span_id": format(parent.span_id, "016x") if parent.is_valid else None,
                "trace_id": format(own.trace_id, "032x"),
                "sampled": own.trace_flags.sampled,
            }).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, *args):
        pass


def server(export):
    if export:
        # Imported here: only this mode needs the OTLP exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": "python"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=export.rstrip("/") + "/v1/traces")))
        Handler.tracer = provider.get_tracer("python-peer")
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on 127.0.0.1:{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        client(sys.argv[2], "--unsampled" in sys.argv)
    elif sys.argv[1:2] == ["server"]:
        flag = sys.argv.index("--export") if "--export" in sys.argv else None
        server(sys.argv[flag + 1] if flag is not None else None)
    else:
        sys.exit(__doc__)
