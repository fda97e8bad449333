#!/usr/bin/env bash
# Installs Debian's `postgresql` for the sqlx PostgreSQL test (tests/db.rs),
# with apt. Idempotent: does nothing when `initdb` and `pg_ctl` are already
# installed. Never starts the system cluster: the test runs a private one.
# Prints the directory holding `initdb` and `pg_ctl` on stdout; exits
# non-zero, saying why, when it cannot install.
set -euo pipefail

fail() {
    echo "install-postgresql: $*" >&2
    echo "install-postgresql: the PostgreSQL test needs a real server (apt-get install postgresql)" >&2
    exit 1
}

bindir() {
    find /usr/lib/postgresql -mindepth 2 -maxdepth 3 -name pg_ctl -type f 2>/dev/null \
        | sort -V | tail -n 1 | xargs -r dirname
}

if [ -z "$(bindir)" ]; then
    command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available on this machine"
    [ "$(id -u)" = 0 ] || fail "installing needs root (run: sudo apt-get update && sudo apt-get install -y postgresql)"
    mkdir -p /tmp/traced-apt
    exec 9>/tmp/traced-apt/lock
    command -v flock >/dev/null 2>&1 && flock 9
    if [ -z "$(bindir)" ]; then
        echo "install-postgresql: apt-get update" >&2
        apt-get update >&2 || fail "apt-get update failed"
        export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
        echo "install-postgresql: apt-get install -y postgresql" >&2
        apt-get install -y --no-install-recommends postgresql >&2 || fail "apt-get install postgresql failed"
    fi
fi
dir="$(bindir)"
[ -n "$dir" ] || fail "apt-get ran, but no pg_ctl under /usr/lib/postgresql"
[ -x "$dir/initdb" ] || fail "$dir has pg_ctl but no initdb"
echo "$dir"
