#!/usr/bin/env bash
# Installs the official OpenTelemetry Python SDK, with gRPC (grpcio, its
# OpenTelemetry instrumentation and grpcio-tools for the stubs), into
# target/python-venv for the interoperability tests, and prints the
# interpreter's path. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
want="opentelemetry-sdk==1.38.0 opentelemetry-exporter-otlp-proto-http==1.38.0 opentelemetry-instrumentation-grpc==0.59b0 grpcio==1.76.0 grpcio-tools==1.76.0"
mkdir -p target
# Tests run in parallel: one installer at a time.
exec 9>target/.python-venv.lock
flock 9
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2 || { echo "install-python-peer: cannot create a virtualenv with python3 -m venv" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.instrumentation.grpc, grpc, grpc_tools' 2>/dev/null; then
    # shellcheck disable=SC2086 # several requirements, split on purpose
    "$venv/bin/pip" install --disable-pip-version-check --quiet $want >&2 \
        || { echo "install-python-peer: pip could not install $want" >&2; exit 1; }
fi
echo "$PWD/$venv/bin/python"
