#!/usr/bin/env python3
"""Turns the benchmark results into docs/performance.md.

    cargo bench --bench overhead -- --warm-up-time 1 --measurement-time 3
    cargo bench --bench allocations
    python3 scripts/bench-table.py [--callgrind] [--best-of-two]

Reads criterion's target/criterion/<pipeline>/<variant>/new/estimates.json
(the mean's point estimate and 95% confidence interval, in ns) and
target/criterion/allocations.json (written by the allocations bench). With
--callgrind it also builds benches/callgrind.rs, runs it under
`valgrind --tool=callgrind` for each variant and pipeline and stores the
instructions per call in target/criterion/callgrind.json; without it, an
existing callgrind.json is used if there is one. With --best-of-two, each
benchmark's lower mean of criterion's last two runs (`new` and `base`) is
used: run the overhead bench twice first.

Everything in docs/performance.md after the NOTES_MARKER line is written by
hand and kept as it is. Python 3 standard library only.
"""
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CRITERION = os.path.join(TARGET, "criterion")
DOC = os.path.join(ROOT, "docs", "performance.md")
NOTES_MARKER = "<!-- Hand-written notes: scripts/bench-table.py keeps everything below this line. -->"

GROUPS = ["sampled_simple", "sampled_batch", "unsampled", "disabled"]
GROUP_TITLES = {
    "sampled_simple": "sampled, `SimpleSpanProcessor`",
    "sampled_batch": "sampled, `BatchSpanProcessor`",
    "unsampled": "unsampled, `Sampler::AlwaysOff`",
    "disabled": "nothing installed",
}
MAIN_ORDER = [
    "baseline", "hand_written", "hand_written_sdk", "hand_written_code_attrs", "traced", "traced_sdk_disabled",
    "tracing", "fastrace", "fastrace_root_only", "bare_unsampled_span", "bare_unsampled_span_current",
]
VARIANT_NOTES = {
    "baseline": "no instrumentation",
    "hand_written": "OpenTelemetry API as documented, `global::tracer` (`BoxedTracer`)",
    "hand_written_sdk": "the same with the SDK's `SdkTracer` (no boxing)",
    "hand_written_code_attrs": "`hand_written` plus the 3 constant `code.*` attributes `#[traced]` adds",
    "traced": "`#[traced]`",
    "traced_sdk_disabled": "`#[traced]`, `OTEL_SDK_DISABLED=true` through `traced::builder().init()`",
    "tracing": "`#[tracing::instrument]` + `tracing-opentelemetry`",
    "fastrace": "`#[fastrace::trace]` + its root span per call",
    "fastrace_root_only": "fastrace's root span alone, no call",
    "bare_unsampled_span": "`SdkTracer::start` + drop, nothing else",
    "bare_unsampled_span_current": "the same, made current around the call",
}
SHAPES = ["chain3", "async", "8_args", "error"]
SHAPE_NOTES = {
    "chain3": "3 nested instrumented calls",
    "async": "`async fn`, `Runtime::block_on` per call (current-thread tokio)",
    "8_args": "8 arguments of 6 types",
    "error": "returns `Err`, recorded as an `exception` event + status Error",
}
CRATES = ["opentelemetry", "opentelemetry_sdk", "tracing", "tracing-subscriber",
          "tracing-opentelemetry", "fastrace", "criterion", "tokio"]
CALLGRIND_RUNS = [
    ("sampled_simple", ["hand_written", "hand_written_sdk", "hand_written_code_attrs", "traced", "tracing",
                        "bare_span", "bare_span_current"]),
    ("sampled_batch", ["hand_written", "hand_written_code_attrs", "traced", "tracing"]),
    ("unsampled", ["hand_written", "hand_written_sdk", "hand_written_code_attrs", "traced", "tracing",
                   "bare_span", "bare_span_current"]),
    ("disabled", ["hand_written", "traced", "tracing"]),
    ("sdk_disabled", ["traced"]),
]
CALLGRIND_N = (2_000, 12_000)
STALE_SECONDS = 3600
BEST_OF_TWO = "--best-of-two" in sys.argv[1:]


# ---- reading results ----

def estimate(group, variant):
    """(mean, lower, upper) in ns, and the file's mtime; None if missing.

    With --best-of-two, criterion's previous run of the same benchmark (its
    `base` directory) is used instead when its mean is lower and it is no
    more than STALE_SECONDS older: interference on a shared machine only
    ever makes a run slower.
    """
    found = []
    for run in ["new", "base"] if BEST_OF_TWO else ["new"]:
        path = os.path.join(CRITERION, group, variant, run, "estimates.json")
        try:
            with open(path) as f:
                mean = json.load(f)["mean"]
            ci = mean["confidence_interval"]
            found.append(((mean["point_estimate"], ci["lower_bound"], ci["upper_bound"]),
                          os.path.getmtime(path)))
        except (OSError, KeyError, ValueError):
            continue
    if not found:
        return None
    newest = found[0][1]
    recent = [f for f in found if newest - f[1] <= STALE_SECONDS]
    return min(recent, key=lambda f: f[0][0])


def results():
    """{group: {variant: (mean, lo, hi)}}, warning about stale results."""
    out, times = {}, {}
    for group in GROUPS:
        path = os.path.join(CRITERION, group)
        if not os.path.isdir(path):
            continue
        for variant in sorted(os.listdir(path)):
            found = estimate(group, variant)
            if found:
                out.setdefault(group, {})[variant] = found[0]
                times[(group, variant)] = found[1]
    if times:
        newest = max(times.values())
        stale = sorted(f"{g}/{v}" for (g, v), t in times.items() if newest - t > STALE_SECONDS)
        if stale:
            print("warning: older than the latest run by over an hour, left out: " + ", ".join(stale),
                  file=sys.stderr)
            for name in stale:
                g, v = name.split("/", 1)
                del out[g][v]
    return out


def allocations():
    path = os.path.join(CRITERION, "allocations.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    if isinstance(data, dict):  # older format: {variant: count}, sampled only
        return [{"pipeline": "sampled_simple", "variant": k, "allocations": v, "bytes": None}
                for k, v in data.items()]
    return data


# ---- callgrind ----

def callgrind_binary():
    proc = subprocess.run(
        ["cargo", "bench", "--bench", "callgrind", "--no-run", "--message-format=json"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "callgrind" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("could not find the callgrind bench executable")


def instructions(binary, variant, pipeline, calls):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        binary, variant, pipeline, str(calls)],
                       cwd=ROOT, capture_output=True, text=True, check=True)
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    raise RuntimeError(f"no totals in callgrind output for {variant} {pipeline}")


def run_callgrind():
    binary = callgrind_binary()
    low, high = CALLGRIND_N
    rows = []
    for pipeline, variants in CALLGRIND_RUNS:
        for variant in variants:
            per_call = (instructions(binary, variant, pipeline, high)
                        - instructions(binary, variant, pipeline, low)) / (high - low)
            print(f"callgrind {pipeline:<15} {variant:<18} {per_call:8.0f} instructions/call", file=sys.stderr)
            rows.append({"pipeline": pipeline, "variant": variant, "instructions": per_call})
    os.makedirs(CRITERION, exist_ok=True)
    with open(os.path.join(CRITERION, "callgrind.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return rows


def load_callgrind():
    try:
        with open(os.path.join(CRITERION, "callgrind.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


# ---- machine and versions ----

def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = run(["nproc"]) or str(os.cpu_count())
    return [
        f"CPU: {cpu}, `nproc` = {cores}",
        f"OS: {platform.system()} {platform.release()}",
        f"Compiler: {run(['rustc', '--version']) or 'unknown rustc'}, `bench` profile (release)",
    ]


def versions():
    """{crate: [versions]} from Cargo.lock."""
    out = {}
    try:
        with open(os.path.join(ROOT, "Cargo.lock")) as f:
            lock = f.read()
    except OSError:
        return out
    for block in lock.split("[[package]]"):
        name = re.search(r'^name = "([^"]+)"', block, re.M)
        version = re.search(r'^version = "([^"]+)"', block, re.M)
        if name and version and name.group(1) in CRATES:
            out.setdefault(name.group(1), []).append(version.group(1))
    return out


# ---- formatting ----

def ns(value):
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "n/a"


def mean(res, group, variant):
    found = res.get(group, {}).get(variant)
    return found[0] if found else None


def main_table(res, group):
    rows = res.get(group, {})
    names = [n for n in MAIN_ORDER if n in rows]
    hand = mean(res, group, "hand_written")
    lines = [f"### {group}: {GROUP_TITLES[group]}", "",
             "| variant | what | ns/call (mean) | 95% CI | ratio to hand_written |",
             "| --- | --- | ---: | ---: | ---: |"]
    for name in names:
        m, lo, hi = rows[name]
        lines.append(f"| `{name}` | {VARIANT_NOTES[name]} | {ns(m)} | {ns(lo)}–{ns(hi)} | {ratio(m, hand)} |")
    return lines + [""]


def shapes_table(res, group):
    rows = res.get(group, {})
    if not any(f"traced_{s}" in rows for s in SHAPES):
        return []
    lines = [f"### Other shapes ({group})", "",
             "| shape | hand_written ns | traced ns | tracing ns | traced / hand_written | tracing / traced |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for shape in SHAPES:
        h = mean(res, group, f"hand_written_{shape}")
        t = mean(res, group, f"traced_{shape}")
        tr = mean(res, group, f"tracing_{shape}")
        lines.append(f"| {SHAPE_NOTES[shape]} | {ns(h)} | {ns(t)} | {ns(tr)} | {ratio(t, h)} | {ratio(tr, t)} |")
    return lines + [""]


def verdict(ok):
    if ok is None:
        return "not measured"
    return "**met**" if ok else "**missed**"


def targets(res, allocs, cg):
    def cgi(pipeline, variant):
        for row in cg:
            if row["pipeline"] == pipeline and row["variant"] == variant:
                return row["instructions"]
        return None

    def alloc(pipeline, variant):
        for row in allocs:
            if row["pipeline"] == pipeline and row["variant"] == variant:
                return row["allocations"]
        return None

    def at_most(a, b, limit):
        return None if a is None or b is None else a / b <= limit

    def at_least(a, b, limit):
        return None if a is None or b is None else a / b >= limit

    def cmp_text(a, b, unit):
        if a is None or b is None:
            return "n/a"
        fmt = ns if unit == "ns" else (lambda v: f"{v:,.0f}")
        return f"{fmt(a)} vs {fmt(b)} = {ratio(a, b)}"

    out = ["## Targets", "",
           "Computed from the tables above: the timing verdict from the criterion means, the",
           "instruction verdict from callgrind (deterministic; it does not see cache misses,",
           "contention or the batch processor's thread). On this noisy machine a timing verdict",
           "within ~10% of its limit can flip between runs; the instruction verdict does not.", "",
           "| target | time (ns) | verdict (time) | instructions | verdict (instructions) |",
           "| --- | --- | --- | --- | --- |"]

    def row(target, t_a, t_b, t_ok, i_a=None, i_b=None, i_ok=None):
        out.append(f"| {target} | {cmp_text(t_a, t_b, 'ns')} | {verdict(t_ok)} | "
                   f"{cmp_text(i_a, i_b, 'i')} | {verdict(i_ok) if i_a is not None else 'not measured'} |")

    for group in ["sampled_simple", "sampled_batch"]:
        t, h = mean(res, group, "traced"), mean(res, group, "hand_written")
        ci, hi = cgi(group, "traced"), cgi(group, "hand_written")
        row(f"sampled `traced` ≤ 1.00× `hand_written` ({group})", t, h, at_most(t, h, 1.0),
            ci, hi, at_most(ci, hi, 1.0))
    for group in ["sampled_simple", "sampled_batch"]:
        t, tr = mean(res, group, "traced"), mean(res, group, "tracing")
        ci, cti = cgi(group, "traced"), cgi(group, "tracing")
        row(f"`tracing` / `traced` ≥ 3× ({group}; shown as tracing vs traced)", tr, t, at_least(tr, t, 3.0),
            cti, ci, at_least(cti, ci, 3.0))
    t, bare = mean(res, "unsampled", "traced"), mean(res, "unsampled", "bare_unsampled_span")
    ci, bi = cgi("unsampled", "traced"), cgi("unsampled", "bare_span")
    row("unsampled `traced` ≤ 1.1× `bare_unsampled_span`", t, bare, at_most(t, bare, 1.1),
        ci, bi, at_most(ci, bi, 1.1))
    for variant, pipeline, what in [("traced", "disabled", "nothing installed"),
                                    ("traced_sdk_disabled", "sdk_disabled", "`OTEL_SDK_DISABLED=true`")]:
        d = mean(res, "disabled", variant)
        instr = cgi(pipeline, "traced")
        out.append(f"| disabled `traced` ≤ 20 ns ({what}) | {ns(d)} | "
                   f"{verdict(None if d is None else d <= 20.0)} | "
                   f"{'n/a' if instr is None else f'{instr:,.0f}'} | |")
    t, h = alloc("sampled_simple", "traced"), alloc("sampled_simple", "hand_written")
    out.append(f"| allocations per sampled call: `traced` ≤ `hand_written` | "
               f"{'n/a' if t is None else f'{t:g}'} vs {'n/a' if h is None else f'{h:g}'} allocations | "
               f"{verdict(None if t is None or h is None else t <= h)} | | |")
    out += ["", "For reference (not targets): the same comparisons against hand-written code that",
            "records the same five attributes as `#[traced]` (`hand_written_code_attrs`):", "",
            "| comparison | time (ns) | instructions |", "| --- | --- | --- |"]
    for group in ["sampled_simple", "sampled_batch", "unsampled"]:
        t, h = mean(res, group, "traced"), mean(res, group, "hand_written_code_attrs")
        ci, hi = cgi(group, "traced"), cgi(group, "hand_written_code_attrs")
        if t is None or h is None:
            continue
        out.append(f"| `traced` vs `hand_written_code_attrs` ({group}) | {cmp_text(t, h, 'ns')} | "
                   f"{cmp_text(ci, hi, 'i')} |")
    return out + [""]


def alloc_table(allocs):
    if not allocs:
        return []
    lines = ["## Allocations per call", "",
             "`cargo bench --bench allocations`: a counting `#[global_allocator]` around `System`,",
             "10 000 calls after 1 000 warm-up calls, no-op exporter (simple processor when sampled).", "",
             "| pipeline | variant | allocations | bytes allocated |", "| --- | --- | ---: | ---: |"]
    for row in allocs:
        b = row.get("bytes")
        lines.append(f"| {row['pipeline']} | `{row['variant']}` | {row['allocations']:g} | "
                     f"{'n/a' if b is None else f'{b:,.0f}'} |")
    return lines + [""]


def callgrind_table(cg):
    if not cg:
        return []
    lines = ["## Instructions per call (callgrind)", "",
             "`python3 scripts/bench-table.py --callgrind`: `benches/callgrind.rs` under",
             "`valgrind --tool=callgrind`, (I(12 000 calls) − I(2 000 calls)) / 10 000, so start-up",
             "and warm-up cancel out. `bare_span` is `SdkTracer::start` + drop; `bare_span_current`",
             "also makes it current. Deterministic, unlike the timings.", "",
             "| pipeline | variant | instructions/call |", "| --- | --- | ---: |"]
    for row in cg:
        lines.append(f"| {row['pipeline']} | `{row['variant']}` | {row['instructions']:,.0f} |")
    return lines + [""]


def kept_notes():
    try:
        with open(DOC) as f:
            text = f.read()
    except OSError:
        return ""
    if NOTES_MARKER not in text:
        return ""
    return text.split(NOTES_MARKER, 1)[1].strip("\n")


def main():
    cg = run_callgrind() if "--callgrind" in sys.argv[1:] else load_callgrind()
    res = results()
    if not res:
        sys.exit("no criterion results: run `cargo bench --bench overhead` first")
    allocs = allocations()
    vers = versions()
    lines = [
        "# Performance", "",
        "<!-- Generated by scripts/bench-table.py from target/criterion; edit only below the notes marker. -->", "",
        "Per-call cost of instrumenting `work(a: u64, b: &str) -> u64` (body: `black_box(a) + b.len()`),",
        "measured by `cargo bench --bench overhead` (criterion; mean of the samples and its 95%",
        "confidence interval, ns per call; " + ("of criterion's last two runs, the one with the lower"
                                               " mean)." if BEST_OF_TWO else "one run)."),
        "Every variant exports into the same pipeline: an `opentelemetry_sdk` `SdkTracerProvider`",
        "whose `SpanExporter` returns `Ok` at once.", "",
        "- `hand_written` is OpenTelemetry as its documentation writes it: the tracer is obtained",
        "  once per pipeline, **outside the measured loop** (`global::tracer(\"bench\")`, a",
        "  `BoxedTracer`), the two attributes (`a` as i64, `b` as string) go on the span builder,",
        "  the span is made current with `mark_span_as_active` and ends when the guard drops.",
        "  `hand_written_sdk` is the same code over the SDK's `SdkTracer`, obtained the same way.",
        "- `tracing` is `#[tracing::instrument]`, a `tracing_subscriber::Registry` with an",
        "  `OpenTelemetryLayer` whose tracer comes from the same provider.",
        "- `fastrace` is `#[fastrace::trace]` with a `Reporter` that drops the spans, installed by",
        "  `fastrace::set_reporter(.., Config::default())`. fastrace records nothing without a root",
        "  span, so every iteration starts one (`Span::root` + `set_local_parent`), as a request",
        "  would: `fastrace_root_only` is that root span alone. fastrace does not go through the",
        "  OpenTelemetry SDK, so its two sampled rows measure the same thing; unsampled is a root",
        "  with `SpanContext::sampled(false)`.",
        "- `disabled` installs nothing: `traced::set_tracer_provider` is never called (so",
        "  `#[traced]` asks OpenTelemetry's global provider, the no-op default), `hand_written`",
        "  uses the global no-op tracer, `tracing` has no subscriber, fastrace has no reporter.",
        "  `traced_sdk_disabled` is `#[traced]` after `OTEL_SDK_DISABLED=true` and `traced::init`.",
        "  The group runs first, since a provider cannot be uninstalled.", "",
        "The machine is shared and noisy (2 vCPUs, other builds running at times): treat timing",
        "differences below ~10% as noise, and prefer the instruction counts where they exist.", "",
        "## Machine and versions", "",
    ]
    lines += [f"- {item}" for item in machine()]
    lines.append("- Crates (Cargo.lock): " + ", ".join(
        f"{k} {' / '.join(v)}" for k, v in sorted(vers.items())))
    lines += ["", "## Nanoseconds per call", ""]
    for group in GROUPS:
        if group in res:
            lines += main_table(res, group)
    lines += shapes_table(res, "sampled_simple")
    lines += alloc_table(allocs)
    lines += callgrind_table(cg)
    lines += targets(res, allocs, cg)
    lines += [
        "## Reproduce", "",
        "```sh",
        "cargo bench --bench overhead -- --warm-up-time 1 --measurement-time 3   # run it twice for --best-of-two",
        "cargo bench --bench allocations",
        "python3 scripts/bench-table.py --callgrind --best-of-two   # --callgrind needs valgrind",
        "```", "",
    ]
    notes = kept_notes()
    lines += [NOTES_MARKER, ""]
    if notes:
        lines += [notes, ""]
    with open(DOC, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.relpath(DOC, ROOT)}")


if __name__ == "__main__":
    main()
