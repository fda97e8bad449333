#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS, 20 s
# each by default), starting from the committed seeds in fuzz/corpus/ and
# leaving them untouched (the run works on a copy). Installs cargo-fuzz
# when it is missing. On a stable toolchain, RUSTC_BOOTSTRAP=1 lets cargo
# fuzz pass the sanitizer flags it needs.
#
#   scripts/fuzz.sh                     # every target, 20 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh scrub
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${FUZZ_SECONDS:-20}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(trace_context propagators env_config sql_sanitize scrub filter)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked >&2 || { echo "fuzz: cannot install cargo-fuzz" >&2; exit 1; }
fi

if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
    echo "== fuzz $target for ${seconds} s" >&2
    mkdir -p "$work/$target"
    cp -r "corpus/$target/." "$work/$target/"
    cargo fuzz run --release "$target" "$work/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=4096 -print_final_stats=1
done
