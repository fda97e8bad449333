#!/usr/bin/env bash
# Installs Debian's `rabbitmq-server` for the messaging end-to-end test
# (tests/e2e_tasks.rs), with apt. Idempotent: does nothing when
# `rabbitmq-server` and `rabbitmqctl` are already on the PATH. Never starts
# or enables the system service: the test runs a private node of its own.
# Exits non-zero, saying why, when it cannot install.
set -euo pipefail

fail() {
    echo "install-rabbitmq: $*" >&2
    echo "install-rabbitmq: the messaging end-to-end test needs a real broker (apt-get install rabbitmq-server)" >&2
    exit 1
}

have() { command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; }

have && exit 0
command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available on this machine"
[ "$(id -u)" = 0 ] || fail "installing needs root (run: sudo apt-get update && sudo apt-get install -y rabbitmq-server)"

# One installer at a time: test processes may race here.
mkdir -p /tmp/traced-apt
exec 9>/tmp/traced-apt/lock
command -v flock >/dev/null 2>&1 && flock 9
have && exit 0

echo "install-rabbitmq: apt-get update" >&2
apt-get update >&2 || fail "apt-get update failed"
# Do not let the package start the system service (policy-rc.d 101).
export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
echo "install-rabbitmq: apt-get install -y rabbitmq-server" >&2
apt-get install -y --no-install-recommends rabbitmq-server >&2 || fail "apt-get install rabbitmq-server failed"
have || fail "apt-get ran, but rabbitmq-server is still not on the PATH"
