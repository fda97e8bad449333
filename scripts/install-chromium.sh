#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the viewer's page test
# (tests/e2e_view.rs) and prints the binary's absolute path on stdout
# (everything else goes to stderr). Idempotent: nothing is installed when
# `chromium` already runs. Exits non-zero, saying why, when it cannot
# install: the test never skips.
#
# Set TRACED_CHROMIUM_BIN to use another Chromium binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "install-chromium: $*" >&2
    echo "install-chromium: the viewer's page test needs Chromium; set TRACED_CHROMIUM_BIN to a chromium binary to skip this install" >&2
    exit 1
}

if [ -n "${TRACED_CHROMIUM_BIN:-}" ]; then
    "$TRACED_CHROMIUM_BIN" --version >/dev/null 2>&1 || fail "TRACED_CHROMIUM_BIN=$TRACED_CHROMIUM_BIN does not run"
    echo "$TRACED_CHROMIUM_BIN"
    exit 0
fi

mkdir -p target
# Tests may run this at the same time: one installer at a time.
if command -v flock >/dev/null 2>&1; then
    exec 9>target/.chromium.lock
    flock 9
fi

if ! command -v chromium >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available to install chromium"
    echo "install-chromium: apt-get install -y chromium" >&2
    apt-get update >&2 || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >&2 \
        || fail "apt-get could not install chromium (are you root, is the mirror reachable?)"
fi
bin="$(command -v chromium)" || fail "chromium is installed but not on PATH"
"$bin" --version >/dev/null 2>&1 || fail "$bin does not run on this machine"
echo "$bin"
