#!/usr/bin/env python3
"""Summarise a bench/run session: medians, ratios to the best peer, geomeans.

  report.py RUNS_CSV META_FILE OUT_PREFIX

RUNS_CSV has one row per run (written by bench/run). META_FILE has
"key=value" lines (machine, date, allocators, notes). Writes OUT_PREFIX.md
(also printed), OUT_PREFIX.csv (medians and ratios) and OUT_PREFIX.svg (the
chart). Standard library only.

When META_FILE has a "variants=" line (bench/run --variants), those columns
(builds of rulloc such as rulloc-secure) are not peers: the report adds a
section "Cost of rulloc variants" (variant median / rulloc median) and writes
OUT_PREFIX-variants.csv. Without any peer, the ratio-to-best-peer tables are
skipped and the chart shows the variants' cost instead.
"""
import csv
import html
import math
import statistics
import sys


def read_meta(path):
    meta, notes = {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" not in line:
                continue
            k, v = line.split("=", 1)
            if k == "note":
                notes.append(v)
            else:
                meta[k] = v
    meta["notes"] = notes
    return meta


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def fmt_ratio(x):
    return "—" if x is None else "%.2f" % x


def summarise(rows, allocators, peers):
    workloads = []
    for r in rows:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    cells = {}
    for w in workloads:
        for a in allocators:
            runs = [r for r in rows if r["workload"] == w and r["allocator"] == a]
            if not runs:
                continue
            ok = [r for r in runs if r["check"] == "ok"]
            cell = {"runs": len(runs), "ok": len(ok), "status": "ok" if len(ok) == len(runs) else None}
            if len(ok) != len(runs):
                bad = [r for r in runs if r["check"] != "ok"][0]
                cell["status"] = "%s(%s)" % (bad["check"], bad["status"])
            if ok:
                cell["wall"] = statistics.median(float(r["wall_s"]) for r in ok)
                cell["cpu"] = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in ok)
                cell["rss"] = statistics.median(float(r["maxrss_kb"]) for r in ok)
                cell["minflt"] = statistics.median(float(r["minflt"]) for r in ok)
            cells[(w, a)] = cell
    # A failed or mismatching allocator gets no ratio for that workload.
    for w in workloads:
        for key, name in (("wall", "time"), ("cpu", "cpu"), ("rss", "rss")):
            peer_vals = [(cells[(w, a)][key], a) for a in peers
                         if (w, a) in cells and cells[(w, a)]["status"] == "ok" and key in cells[(w, a)]]
            if not peer_vals:
                continue
            best, best_a = min(peer_vals)
            for a in allocators:
                c = cells.get((w, a))
                if c and c["status"] == "ok" and key in c and best > 0:
                    c[name + "_ratio"] = c[key] / best
                    c["best_" + name] = (best, best_a)
    return workloads, cells


COST_KEYS = (("wall", "wall time"), ("cpu", "CPU time"), ("rss", "peak RSS"))


def variant_costs(workloads, cells, variants):
    """Per variant: per workload, variant median / rulloc median, and geomeans."""
    costs = {}
    for v in variants:
        per = {}
        for w in workloads:
            base, c = cells.get((w, "rulloc")), cells.get((w, v))
            if c is None or base is None:
                per[w] = {"status": "n/a"}
            elif base["status"] != "ok":
                per[w] = {"status": "rulloc " + base["status"]}
            elif c["status"] != "ok":
                per[w] = {"status": c["status"]}
            else:
                d = {"status": "ok"}
                for k, _ in COST_KEYS:
                    d["rulloc_" + k], d["variant_" + k] = base[k], c[k]
                    d[k] = c[k] / base[k] if base[k] > 0 else None
                per[w] = d
        geo = {}
        for k, _ in COST_KEYS:
            vals = [per[w][k] for w in workloads if per[w].get(k) is not None]
            geo[k] = geomean(vals)
            geo[k + "_n"] = len(vals)
        costs[v] = {"per": per, "geo": geo}
    return costs


def pct(x):
    return "—" if x is None else "%+.1f%%" % ((x - 1) * 100)


def cost_markdown(workloads, costs, variants, have_rulloc):
    out = ["## Cost of rulloc variants", ""]
    if not have_rulloc:
        out.append("rulloc itself was not measured in this session, so the cost of its variants (%s) "
                   "cannot be computed." % ", ".join(variants))
        out.append("")
        return out
    if not variants:
        out.append("No variant was measured (see the Checks section).")
        out.append("")
        return out
    out.append("Each cell is the variant's median divided by rulloc's median for that workload (lower is "
               "better): 1.10 = the variant takes 10% more (time or memory) than rulloc, 0.97 = 3% less. "
               "The geomean row summarises over the workloads where both ran correctly. With few runs, "
               "or on a busy machine, differences of a few percent in wall time are within the noise; "
               "CPU time is steadier.")
    out.append("")
    out.append("| variant | wall time | CPU time | peak RSS | rulloc / variant (wall) |")
    out.append("|---|---:|---:|---:|---:|")
    for v in variants:
        g = costs[v]["geo"]
        inv = None if g["wall"] is None else 1 / g["wall"]
        out.append("| %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) |" % (
            v, fmt_ratio(g["wall"]), pct(g["wall"]), fmt_ratio(g["cpu"]), pct(g["cpu"]),
            fmt_ratio(g["rss"]), pct(g["rss"]), fmt_ratio(inv), pct(inv)))
    out.append("")
    out.append("Geometric means of variant / rulloc; the last column is the inverse (what rulloc costs "
               "relative to the variant, e.g. the price of the checks that an unchecked build leaves out).")
    out.append("")
    for v in variants:
        per, g = costs[v]["per"], costs[v]["geo"]
        out.append("### %s / rulloc" % v)
        out.append("")
        out.append("| workload | wall time | CPU time | peak RSS | rulloc wall s | %s wall s |" % v)
        out.append("|---|---:|---:|---:|---:|---:|")
        for w in workloads:
            d = per[w]
            if d["status"] != "ok":
                st = d["status"] if d["status"] == "n/a" else "**%s**" % d["status"].upper()
                out.append("| %s | %s | %s | %s | | |" % (w, st, st, st))
                continue
            out.append("| %s | %s | %s | %s | %.3f | %.3f |" % (
                w, fmt_ratio(d["wall"]), fmt_ratio(d["cpu"]), fmt_ratio(d["rss"]),
                d["rulloc_wall"], d["variant_wall"]))
        out.append("| **geomean** | %s | | |" % " | ".join(
            "**%s**%s" % (fmt_ratio(g[k]), "" if g[k + "_n"] == len(workloads) else
                          " (%d/%d)" % (g[k + "_n"], len(workloads))) for k, _ in COST_KEYS))
        out.append("")
    return out


def write_cost_csv(path, workloads, costs, variants):
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["variant", "workload", "status",
                     "rulloc_wall_s", "variant_wall_s", "wall_ratio",
                     "rulloc_cpu_s", "variant_cpu_s", "cpu_ratio",
                     "rulloc_maxrss_kb", "variant_maxrss_kb", "rss_ratio", "workloads_in_geomean"])
        for v in variants:
            per, g = costs[v]["per"], costs[v]["geo"]
            for w in workloads:
                d = per[w]
                row = [v, w, d["status"]]
                for k, _ in COST_KEYS:
                    if d["status"] == "ok":
                        fmt = "%.0f" if k == "rss" else "%.6f"
                        row += [fmt % d["rulloc_" + k], fmt % d["variant_" + k],
                                "%.4f" % d[k] if d[k] is not None else ""]
                    else:
                        row += ["", "", ""]
                wr.writerow(row + [""])
            row = [v, "geomean", "ok"]
            for k, _ in COST_KEYS:
                row += ["", "", "%.4f" % g[k] if g[k] is not None else ""]
            wr.writerow(row + [g["wall_n"]])


def markdown(meta, workloads, cells, allocators, peers, geo, cost_lines=None):
    out = []
    out.append("# rulloc benchmark suite: %s" % meta.get("title", "results"))
    out.append("")
    out.append("- Date: %s" % meta.get("date", "?"))
    out.append("- Machine: %s" % meta.get("machine", "?"))
    out.append("- Mode: %s" % meta.get("mode", "?"))
    out.append("- Load average (1, 5, 15 min) at start: %s; at end: %s"
               % (meta.get("load_start", "?"), meta.get("load_end", "?")))
    out.append("- Allocators: %s" % meta.get("allocators", "?"))
    out.append("")
    if not peers:
        out.append("No peer (glibc, jemalloc, mimalloc, tcmalloc) was measured in this session: the "
                   "ratio-to-best-peer tables are skipped.")
        out.append("")
    else:
        out.append("Each cell is the median over the runs divided by the best peer's median "
                   "(best of %s) for that workload: 1.00 = as good as the best peer, 1.50 = 50%% "
                   "more time or memory, below 1.00 = better than every peer. The geometric mean "
                   "row summarises an allocator over all workloads where it ran correctly. Wall time is the "
                   "headline; CPU time (user+sys of the measured process) is shown too because it is less "
                   "disturbed by other load on the machine (for redis it is the server's)." % ", ".join(peers))
        out.append("")
        for title, key, unit in (("Wall time", "time", "s"), ("CPU time (user+sys)", "cpu", "s"), ("Peak RSS", "rss", "MiB")):
            out.append("## %s: ratio to the best peer (lower is better)" % title)
            out.append("")
            out.append("| workload | best peer | best %s | %s |" % (unit, " | ".join(allocators)))
            out.append("|---|---|---:|%s|" % "|".join("---:" for _ in allocators))
            for w in workloads:
                best = None
                for a in allocators:
                    c = cells.get((w, a))
                    if c and ("best_" + key) in c:
                        best = c["best_" + key]
                        break
                if best is None:
                    best_s, best_a = "—", "—"
                else:
                    best_a = best[1]
                    best_s = "%.1f" % (best[0] / 1024) if key == "rss" else "%.3f" % best[0]
                row = []
                for a in allocators:
                    c = cells.get((w, a))
                    if c is None:
                        row.append("n/a")
                    elif c["status"] != "ok":
                        row.append("**%s**" % c["status"].upper())
                    else:
                        r = c.get(key + "_ratio")
                        row.append("**%.2f**" % r if r is not None and r <= 1.0 else fmt_ratio(r))
                out.append("| %s | %s | %s | %s |" % (w, best_a, best_s, " | ".join(row)))
            out.append("| **geomean** | | | %s |" % " | ".join(
                "**%s**%s" % (fmt_ratio(geo[a][key]), "" if geo[a][key + "_n"] == len(workloads) else
                              " (%d/%d)" % (geo[a][key + "_n"], len(workloads))) for a in allocators))
            out.append("")
    if cost_lines:
        out.extend(cost_lines)
    out.append("## Medians")
    out.append("")
    out.append("Wall time in seconds / CPU time (user+sys) in seconds / peak RSS in MiB.")
    out.append("")
    out.append("| workload | %s |" % " | ".join(allocators))
    out.append("|---|%s|" % "|".join("---:" for _ in allocators))
    for w in workloads:
        row = []
        for a in allocators:
            c = cells.get((w, a))
            if c is None or "wall" not in c:
                row.append("n/a" if c is None else c["status"])
            else:
                row.append("%.3f / %.3f / %.1f" % (c["wall"], c["cpu"], c["rss"] / 1024))
        out.append("| %s | %s |" % (w, " | ".join(row)))
    out.append("")
    out.append("## Checks")
    out.append("")
    problems = [(w, a, c) for (w, a), c in cells.items() if c["status"] != "ok"]
    if problems:
        for w, a, c in problems:
            out.append("- **%s under %s: %s** (%d of %d runs ok)" % (w, a, c["status"], c["ok"], c["runs"]))
    else:
        out.append("- Every run exited 0 and printed the same output (checksums) under every allocator.")
    for n in meta["notes"]:
        out.append("- %s" % n)
    out.append("")
    return "\n".join(out)


COLORS = {"glibc": "#7f7f7f", "jemalloc": "#1f77b4", "mimalloc": "#2ca02c", "tcmalloc": "#ff7f0e",
          "rulloc": "#d62728"}
EXTRA = ["#9467bd", "#8c564b", "#e377c2", "#17becf"]


def svg_chart(meta, workloads, cells, allocators, geo, value_fn=None, subtitle=None, titles=None, min_width=0, bar_width=11):
    """The chart of ratios. By default ratios to the best peer; value_fn(g, a,
    key) (key "time" or "rss", g a workload or "geomean"), subtitle and titles
    (two panel titles) draw other ratios, e.g. the cost of rulloc variants."""
    groups = workloads + ["geomean"]
    bw, gap, left, right = bar_width, 18, 64, 20
    gw = bw * len(allocators) + gap
    width = max(left + right + gw * len(groups), min_width)
    panel_h, top, label_h = 230, 116, 100
    height = top + 2 * (panel_h + label_h) + 10
    color = {a: COLORS.get(a, EXTRA[i % len(EXTRA)]) for i, a in enumerate(allocators)}

    def value(g, a, key):
        if value_fn is not None:
            return value_fn(g, a, key)
        if g == "geomean":
            return geo[a][key]
        c = cells.get((g, a))
        return None if c is None else c.get(key + "_ratio")

    s = []
    s.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="DejaVu Sans, Arial, sans-serif">' % (width, height, width, height))
    s.append('<rect width="100%" height="100%" fill="white"/>')
    s.append('<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>'
             % (left, html.escape("rulloc benchmark suite, %s: %s" % (meta.get("date", "?"), meta.get("machine", "?")))))
    s.append('<text x="%d" y="44" font-size="12">%s</text>' % (left, html.escape(subtitle or
        "Median wall time and peak RSS of each allocator divided by the best peer's "
        "(log scale; 1 = best peer, lower is better; × = failed or not run).")))
    s.append('<text x="%d" y="60" font-size="12">%s</text>' % (left, html.escape(meta.get("mode", ""))))
    lx = left
    for a in allocators:
        s.append('<rect x="%d" y="70" width="12" height="12" fill="%s"/>' % (lx, color[a]))
        s.append('<text x="%d" y="81" font-size="12">%s</text>' % (lx + 16, html.escape(a)))
        lx += 24 + 8 * len(a) + 16
    titles = titles or ("Wall time / best peer", "Peak RSS / best peer")
    for p, (key, title) in enumerate((("time", titles[0]), ("rss", titles[1]))):
        y0 = top + p * (panel_h + label_h)
        vals = [value(g, a, key) for g in groups for a in allocators]
        vals = [v for v in vals if v is not None and v > 0]
        lo = min([0.9] + vals)
        hi = max([1.5] + vals)
        hi = min(hi, 64.0)
        llo, lhi = math.log(lo * 0.95), math.log(hi * 1.05)

        def ypos(v):
            v = min(max(v, lo * 0.95), hi * 1.05)
            return y0 + panel_h - (math.log(v) - llo) / (lhi - llo) * panel_h

        s.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (left, y0 - 6, title))
        s.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>'
                 % (left, y0, width - left - right, panel_h))
        for t in (0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 6, 8, 12, 16, 32, 64):
            if lo * 0.95 <= t <= hi * 1.05:
                y = ypos(t)
                s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="%s"/>'
                         % (left, y, width - right, y, "#333" if t == 1 else "#e4e4e4", "1.2" if t == 1 else "1"))
                s.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%g</text>' % (left - 6, y + 4, t))
        for gi, g in enumerate(groups):
            gx = left + gi * gw + gap / 2
            if g == "geomean":
                s.append('<rect x="%.1f" y="%d" width="%d" height="%d" fill="#f3f3f3"/>'
                         % (gx - gap / 2 + 1, y0 + 1, gw - 2, panel_h - 2))
            for ai, a in enumerate(allocators):
                v = value(g, a, key)
                x = gx + ai * bw
                if v is None:
                    s.append('<text x="%.1f" y="%.1f" font-size="9" fill="%s" text-anchor="middle">×</text>'
                             % (x + bw / 2, ypos(1) - 3, color[a]))
                    continue
                y1, yv = ypos(1), ypos(v)
                ytop, h = min(y1, yv), max(abs(y1 - yv), 1.5)
                s.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s</title></rect>'
                         % (x, ytop, bw - 1, h, color[a], html.escape("%s, %s: %.2f" % (g, a, v))))
                if g == "geomean":
                    s.append('<text x="%.1f" y="%.1f" font-size="9" text-anchor="start" '
                             'transform="rotate(-90 %.1f %.1f)">%.2f</text>'
                             % (x + bw / 2 + 3, ytop - 3, x + bw / 2 + 3, ytop - 3, v))
                elif v > hi * 1.05:
                    s.append('<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle">%.0f</text>'
                             % (x + bw / 2, ytop + 9, v))
            cx = gx + bw * len(allocators) / 2
            ly = y0 + panel_h + 12
            s.append('<text x="%.1f" y="%d" font-size="11" text-anchor="end" transform="rotate(-35 %.1f %d)"%s>%s</text>'
                     % (cx, ly, cx, ly, ' font-weight="bold"' if g == "geomean" else "", html.escape(g)))
    s.append("</svg>")
    return "\n".join(s)


def main():
    runs_csv, meta_file, prefix = sys.argv[1:4]
    meta = read_meta(meta_file)
    with open(runs_csv) as f:
        rows = list(csv.DictReader(f))
    allocators = [a for a in meta.get("allocator_order", "").split(",") if a]
    present = {r["allocator"] for r in rows}
    allocators = [a for a in allocators if a in present] + sorted(present - set(allocators))
    variants = None
    if "variants" in meta:  # bench/run --variants: these columns are never peers
        variants = [a for a in meta["variants"].split(",") if a in present]
        variants += sorted(a for a in present if a.startswith("rulloc-") and a not in variants)
        peers = [a for a in meta.get("peers", "").split(",") if a in present and a not in variants]
    else:
        peers = [a for a in meta.get("peers", "").split(",") if a in present] or allocators
    workloads, cells = summarise(rows, allocators, peers)
    geo = {}
    for a in allocators:
        g = {}
        for key in ("time", "cpu", "rss"):
            vals = [cells[(w, a)].get(key + "_ratio") for w in workloads if (w, a) in cells]
            vals = [v for v in vals if v is not None]
            g[key] = geomean(vals)
            g[key + "_n"] = len(vals)
        geo[a] = g
    costs, cost_lines = None, None
    if variants is not None:
        costs = variant_costs(workloads, cells, variants)
        cost_lines = cost_markdown(workloads, costs, variants, "rulloc" in present)
    md = markdown(meta, workloads, cells, allocators, peers, geo, cost_lines)
    with open(prefix + ".md", "w") as f:
        f.write(md)
    with open(prefix + ".csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload", "allocator", "runs", "runs_ok", "status", "median_wall_s", "median_cpu_s",
                     "median_maxrss_kb", "median_minflt", "time_ratio", "cpu_ratio", "rss_ratio"])
        for w in workloads + ["geomean"]:
            for a in allocators:
                if w == "geomean":
                    wr.writerow([w, a, "", "", "", "", "", "", "",
                                 "%.4f" % geo[a]["time"] if geo[a]["time"] else "",
                                 "%.4f" % geo[a]["cpu"] if geo[a]["cpu"] else "",
                                 "%.4f" % geo[a]["rss"] if geo[a]["rss"] else ""])
                    continue
                c = cells.get((w, a))
                if c is None:
                    continue
                wr.writerow([w, a, c["runs"], c["ok"], c["status"],
                             "%.6f" % c["wall"] if "wall" in c else "", "%.6f" % c["cpu"] if "cpu" in c else "",
                             "%.0f" % c["rss"] if "rss" in c else "", "%.0f" % c["minflt"] if "minflt" in c else "",
                             "%.4f" % c["time_ratio"] if "time_ratio" in c else "",
                             "%.4f" % c["cpu_ratio"] if "cpu_ratio" in c else "",
                             "%.4f" % c["rss_ratio"] if "rss_ratio" in c else ""])
    if costs is not None and variants and "rulloc" in present:
        write_cost_csv(prefix + "-variants.csv", workloads, costs, variants)
    with open(prefix + ".svg", "w") as f:
        if peers or not variants or "rulloc" not in present:
            f.write(svg_chart(meta, workloads, cells, allocators, geo))
        else:
            # No peer: chart what was measured, the cost of each variant.
            def cost_value(g, a, key):
                k = "wall" if key == "time" else key
                if g == "geomean":
                    return costs[a]["geo"][k]
                return costs[a]["per"][g].get(k)
            f.write(svg_chart(meta, workloads, cells, variants, geo, cost_value,
                              "Median wall time and peak RSS of each rulloc variant divided by rulloc's "
                              "(log scale; 1 = as rulloc, lower is better; × = failed or not run).",
                              ("Wall time / rulloc", "Peak RSS / rulloc"), min_width=1000, bar_width=22))
    print(md)
    bad = any(c["status"] != "ok" for c in cells.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
