"""A gRPC peer for the interoperability tests: grpcio with the official
OpenTelemetry instrumentation (opentelemetry-instrumentation-grpc) and SDK.
Its stubs are generated at start from examples/grpc/greeter.proto with
grpcio-tools, so both sides share the one .proto.

    grpc_peer.py server          serve the Greeter on a free port, print "listening on ADDR";
                                 SayHello answers with what its server span saw, as JSON
    grpc_peer.py client ADDR     call SayHello in a client span of the instrumentation,
                                 print that span's ids and the reply as JSON
"""
import json
import os
import sys
import tempfile
from concurrent import futures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(ROOT, "examples", "grpc")


def stubs():
    """greeter_pb2 and greeter_pb2_grpc, generated into a temporary directory."""
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="traced-grpc-peer-")
    code = protoc.main([
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        os.path.join(PROTO_DIR, "greeter.proto"),
    ])
    if code != 0:
        sys.exit(f"grpc_tools.protoc failed on greeter.proto ({code})")
    sys.path.insert(0, out)
    import greeter_pb2
    import greeter_pb2_grpc

    return greeter_pb2, greeter_pb2_grpc


def ids(span_context):
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "sampled": span_context.trace_flags.sampled,
    }


def server():
    from opentelemetry import trace
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorServer
    from opentelemetry.sdk.trace import TracerProvider

    trace.set_tracer_provider(TracerProvider())
    GrpcInstrumentorServer().instrument()
    import grpc

    pb2, pb2_grpc = stubs()

    class Greeter(pb2_grpc.GreeterServicer):
        def SayHello(self, request, context):
            span = trace.get_current_span()
            out = ids(span.get_span_context())
            parent = getattr(span, "parent", None)
            out["parent_span_id"] = format(parent.span_id, "016x") if parent is not None else None
            out["name"] = getattr(span, "name", None)
            out["kind"] = str(getattr(span, "kind", None))
            out["received_traceparent"] = dict(context.invocation_metadata()).get("traceparent")
            return pb2.HelloReply(message=json.dumps(out))

    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb2_grpc.add_GreeterServicer_to_server(Greeter(), grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    grpc_server.wait_for_termination()


def client(addr):
    from opentelemetry import trace
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    GrpcInstrumentorClient().instrument()
    import grpc

    pb2, pb2_grpc = stubs()
    with grpc.insecure_channel(addr) as channel:
        reply = pb2_grpc.GreeterStub(channel).SayHello(pb2.HelloRequest(name="python"), timeout=10)
    spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CLIENT]
    if len(spans) != 1:
        sys.exit(f"expected one client span, got {[s.name for s in spans]}")
    out = ids(spans[0].get_span_context())
    out["name"] = spans[0].name
    out["reply"] = reply.message
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["server"]:
        server()
    elif sys.argv[1:2] == ["client"] and len(sys.argv) == 3:
        client(sys.argv[2])
    else:
        sys.exit(__doc__)
