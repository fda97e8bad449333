#!/usr/bin/env bash
# Installs a real OpenTelemetry collector for the end-to-end tests: the
# PyPI package `rotel`, whose wheel ships the `rotel-agent` binary, into
# target/collector-venv. Idempotent; prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/collector-venv
want="rotel==0.0.1a15"
mkdir -p target
# Tests run in parallel: one installer at a time.
exec 9>target/.collector-venv.lock
flock 9
find_agent() { find "$venv" -path '*rotel/rotel-agent' -type f 2>/dev/null | head -n 1; }
if [ -z "$(find_agent)" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2 \
        || { echo "install-collector: cannot create a virtualenv with python3 -m venv" >&2; exit 1; }
    "$venv/bin/pip" install --disable-pip-version-check --quiet "$want" >&2 \
        || { echo "install-collector: pip could not install $want" >&2; exit 1; }
fi
agent="$(find_agent)"
[ -n "$agent" ] || { echo "install-collector: $want installed, but rotel/rotel-agent is not in it" >&2; exit 1; }
chmod +x "$agent"
echo "$PWD/$agent"
