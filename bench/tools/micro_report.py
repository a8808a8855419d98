#!/usr/bin/env python3
"""Summarise the Google Benchmark micro-benchmarks of a `bench/run --micro`.

  micro_report.py META_FILE OUT_PREFIX BASELINE ALLOC=RUN=FILE.json...

Per-op time of a benchmark = 1e9 / items_per_second (every micro-benchmark
counts its operations as items), else its real_time per iteration. Takes the
median over runs for each allocator and divides by the BASELINE allocator's
median (mimalloc). Writes OUT_PREFIX.md (also printed) and OUT_PREFIX.csv.
"""
import csv
import json
import math
import statistics
import sys


def per_op_ns(b):
    if b.get("items_per_second"):
        return 1e9 / b["items_per_second"]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def main():
    meta_file, prefix, baseline = sys.argv[1:4]
    meta, notes = {}, []
    for line in open(meta_file):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            (notes.append(v) if k == "note" else meta.__setitem__(k, v))
    data, order, allocators, failed, errors = {}, [], [], [], {}
    for spec in sys.argv[4:]:
        alloc, run, path = spec.split("=", 2)
        if alloc not in allocators:
            allocators.append(alloc)
        try:
            doc = json.load(open(path))
        except (OSError, ValueError):
            failed.append("%s run %s: no valid JSON output" % (alloc, run))
            continue
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue
            name = b["name"].replace("/real_time", "")
            if name not in order:
                order.append(name)
            if b.get("error_occurred"):
                errors[(name, alloc)] = b.get("error_message", "error")
                continue
            data.setdefault((name, alloc), []).append(per_op_ns(b))
    pref = [a for a in meta.get("allocator_order", "").split(",") if a in allocators]
    allocators = pref + [a for a in allocators if a not in pref]
    med = {k: statistics.median(v) for k, v in data.items()}
    ratios = {}
    for name in order:
        base = med.get((name, baseline))
        for a in allocators:
            if base and (name, a) in med:
                ratios[(name, a)] = med[(name, a)] / base
    geo = {}
    for a in allocators:
        vs = [ratios[(n, a)] for n in order if (n, a) in ratios]
        geo[a] = math.exp(sum(map(math.log, vs)) / len(vs)) if vs else None
    out = ["# rulloc micro-benchmarks: %s" % meta.get("title", "results"), "",
           "- Date: %s" % meta.get("date", "?"), "- Machine: %s" % meta.get("machine", "?"),
           "- Mode: %s" % meta.get("mode", "?"),
           "- Load average (1, 5, 15 min) at start: %s; at end: %s" % (meta.get("load_start", "?"), meta.get("load_end", "?")),
           "- Allocators: %s" % meta.get("allocators", "?"), "",
           "Per-op time (median over runs) divided by %s's: 1.00 = as fast as %s, "
           "lower is better. The first column is %s's per-op time in ns." % (baseline, baseline, baseline), "",
           "| benchmark | %s ns | %s |" % (baseline, " | ".join(allocators)),
           "|---|---:|%s|" % "|".join("---:" for _ in allocators)]
    for name in order:
        base = med.get((name, baseline))
        cells = []
        for a in allocators:
            r = ratios.get((name, a))
            if (name, a) in errors:
                cells.append("**ERROR**")
            else:
                cells.append("—" if r is None else ("**<0.01**" if r < 0.005 else
                                                    "**%.2f**" % r if r <= 1.0 else "%.2f" % r))
        out.append("| %s | %s | %s |" % (name, "%.1f" % base if base else "—", " | ".join(cells)))
    out.append("| **geomean** | | %s |" % " | ".join("**%.2f**" % geo[a] if geo[a] else "—" for a in allocators))
    out.append("")
    for f in failed:
        out.append("- **%s**" % f)
    for (name, a), msg in sorted(errors.items()):
        out.append("- **%s under %s: ERROR: %s**" % (name, a, msg))
    if not failed and not errors:
        out.append("- Every micro-benchmark ran without error under every allocator.")
    for n in notes:
        out.append("- %s" % n)
    md = "\n".join(out) + "\n"
    open(prefix + ".md", "w").write(md)
    with open(prefix + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["benchmark", "allocator", "runs", "median_ns_per_op", "ratio_to_" + baseline])
        for name in order:
            for a in allocators:
                if (name, a) in med:
                    w.writerow([name, a, len(data[(name, a)]), "%.3f" % med[(name, a)],
                                "%.4f" % ratios[(name, a)] if (name, a) in ratios else ""])
        for a in allocators:
            w.writerow(["geomean", a, "", "", "%.4f" % geo[a] if geo[a] else ""])
    print(md)
    sys.exit(1 if failed or errors else 0)


if __name__ == "__main__":
    main()
