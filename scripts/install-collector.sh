#!/usr/bin/env bash
# Installs a real OpenTelemetry collector for the end-to-end tests: the
# PyPI package `rotel`, whose wheel ships the `rotel-agent` binary, into a
# virtualenv at target/collector-venv. Idempotent: when the venv already
# has the wanted version, pip is not run. Prints the binary's absolute
# path on stdout (everything else goes to stderr); exits non-zero, saying
# why, when it cannot install.
#
# Used by tests/support/collector.rs; set TRACED_COLLECTOR_BIN to use
# another rotel-agent binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."

version="0.0.1a15"
want="rotel==$version"
venv=target/collector-venv

fail() {
    echo "install-collector: $*" >&2
    echo "install-collector: the end-to-end tests need a collector; set TRACED_COLLECTOR_BIN to a rotel-agent binary to skip this install" >&2
    exit 1
}

mkdir -p target
# Test processes may run this at the same time: one installer at a time.
if command -v flock >/dev/null 2>&1; then
    exec 9>target/.collector-venv.lock
    flock 9
fi

installed_version() {
    "$venv/bin/python" - <<'EOF' 2>/dev/null || true
import importlib.metadata as m
try:
    print(m.version("rotel"))
except m.PackageNotFoundError:
    pass
EOF
}

find_agent() {
    find "$venv" -path '*/site-packages/rotel/rotel-agent' -type f 2>/dev/null | sort | head -n 1
}

if [ "$(installed_version)" != "$version" ] || [ -z "$(find_agent)" ]; then
    command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
    if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
        # Missing or broken (e.g. its python moved): start afresh.
        rm -rf "$venv"
        python3 -m venv "$venv" >&2 \
            || fail "cannot create a virtualenv with 'python3 -m venv $venv' (is the venv module, e.g. python3-venv, installed?)"
    fi
    echo "install-collector: installing $want into $venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$want" >&2 \
        || fail "pip could not install $want (is PyPI reachable?)"
    [ "$(installed_version)" = "$version" ] \
        || fail "pip ran, but $venv does not have $want"
fi

agent="$(find_agent)"
[ -n "$agent" ] || fail "$want is installed, but its wheel has no rotel/rotel-agent"
[ -x "$agent" ] || chmod +x "$agent" || fail "cannot make $agent executable"
"$agent" --version >/dev/null 2>&1 || fail "$agent does not run on this machine"
echo "$PWD/$agent"
