#!/usr/bin/env python3
"""Turns criterion's results into docs/performance.md.

    cargo bench --bench overhead && cargo bench --bench allocations
    python3 scripts/bench-table.py

Reads target/criterion/<group>/<variant>/new/estimates.json (mean, ns) and
target/criterion/allocations.json. Standard library only.
"""
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRITERION = os.path.join(ROOT, "target", "criterion")
GROUPS = ["sampled_simple", "sampled_batch", "unsampled", "disabled"]


def mean_ns(group, variant):
    path = os.path.join(CRITERION, group, variant, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["mean"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def variants(group):
    path = os.path.join(CRITERION, group)
    if not os.path.isdir(path):
        return []
    return sorted(d for d in os.listdir(path) if os.path.isfile(os.path.join(path, d, "new", "estimates.json")))


def versions():
    lock = open(os.path.join(ROOT, "Cargo.lock")).read()
    out = {}
    for name in ["opentelemetry", "opentelemetry_sdk", "tracing", "tracing-opentelemetry", "fastrace", "criterion"]:
        m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
        if m:
            out[name] = m.group(1)
    return out


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; {rustc}"


def main():
    if not os.path.isdir(CRITERION):
        sys.exit("no criterion results: run `cargo bench --bench overhead` first")
    lines = ["# Performance", "",
             "Per-call cost of instrumenting `work(a: u64, b: &str) -> u64` (a trivial body),",
             "measured by `cargo bench --bench overhead` (criterion, mean of the samples) and",
             "written here by `python3 scripts/bench-table.py`. Every variant runs in the same",
             "pipeline: an SDK tracer provider with an exporter that drops everything.", "",
             f"Machine: {machine()}.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".", "",
             "`hand_written` is OpenTelemetry as its documentation writes it: a tracer from",
             "the global provider, both attributes on the span builder, the span made current.",
             "The ratio is to `hand_written` in the same pipeline.", ""]
    for group in GROUPS:
        names = variants(group)
        if not names:
            continue
        hand = mean_ns(group, "hand_written")
        lines += [f"## {group}", "", "| variant | ns/call | ratio to hand_written |", "| --- | ---: | ---: |"]
        order = ["baseline", "hand_written", "traced", "tracing", "fastrace", "bare_unsampled_span"]
        for name in sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n)):
            ns = mean_ns(group, name)
            base = mean_ns(group, name.replace("traced", "hand_written")) if name.startswith("traced_") else hand
            ratio = f"{ns / base:.2f}x" if ns and base else ""
            if name.startswith("traced_"):
                ratio += f" (to {name.replace('traced', 'hand_written')})"
            lines.append(f"| {name} | {ns:.1f} | {ratio} |")
        lines.append("")
    alloc = os.path.join(CRITERION, "allocations.json")
    if os.path.exists(alloc):
        counts = json.load(open(alloc))
        lines += ["## Allocations per sampled call", "",
                  "From `cargo bench --bench allocations` (a counting global allocator, simple processor).", "",
                  "| variant | allocations |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.2f} |" for k, v in counts.items()]
        lines.append("")
    notes = os.path.join(ROOT, "docs", "performance-notes.md")
    if os.path.exists(notes):
        lines += [open(notes).read().rstrip(), ""]
    with open(os.path.join(ROOT, "docs", "performance.md"), "w") as f:
        f.write("\n".join(lines))
    print("wrote docs/performance.md")


if __name__ == "__main__":
    main()
