#!/usr/bin/env bash
# The login app under load while its collector fails (issue #16): builds
# the example, installs wrk when missing, runs benches/reliability.rs and
# writes its table into docs/reliability.md between the markers.
#
#   scripts/reliability.sh                  # 30 s per phase, five phases
#   RELIABILITY_SECS=10 scripts/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "reliability: wrk is missing and apt-get is not available" >&2; exit 1; }
    echo "reliability: installing wrk" >&2
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >&2 \
        || { echo "reliability: cannot install wrk" >&2; exit 1; }
fi

cargo build --release --example login
out=$(mktemp)
RELIABILITY_OUT="$out" cargo bench --bench reliability

python3 - "$out" docs/reliability.md <<'PY'
import sys, datetime
table = open(sys.argv[1]).read().strip()
path = sys.argv[2]
text = open(path).read()
begin, end = "<!-- table: begin -->", "<!-- table: end -->"
head, rest = text.split(begin)
_, tail = rest.split(end)
stamp = datetime.date.today().isoformat()
text = f"{head}{begin}\nMeasured {stamp} by `scripts/reliability.sh`.\n\n{table}\n{end}{tail}"
open(path, "w").write(text)
PY
rm -f "$out"
echo "reliability: docs/reliability.md updated" >&2
