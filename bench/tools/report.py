#!/usr/bin/env python3
"""Summarise a bench/run session: medians, ratios to the best peer, geomeans.

  report.py RUNS_CSV META_FILE OUT_PREFIX

RUNS_CSV has one row per run (written by bench/run). META_FILE has
"key=value" lines (machine, date, allocators, notes). Writes OUT_PREFIX.md
(also printed), OUT_PREFIX.csv (medians and ratios) and OUT_PREFIX.svg (the
chart). Standard library only.
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


def markdown(meta, workloads, cells, allocators, peers, geo):
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


def svg_chart(meta, workloads, cells, allocators, geo):
    groups = workloads + ["geomean"]
    bw, gap, left, right = 11, 18, 64, 20
    gw = bw * len(allocators) + gap
    width = left + right + gw * len(groups)
    panel_h, top, label_h = 230, 116, 100
    height = top + 2 * (panel_h + label_h) + 10
    color = {a: COLORS.get(a, EXTRA[i % len(EXTRA)]) for i, a in enumerate(allocators)}

    def value(g, a, key):
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
    s.append('<text x="%d" y="44" font-size="12">%s</text>' % (left, html.escape(
        "Median wall time and peak RSS of each allocator divided by the best peer's "
        "(log scale; 1 = best peer, lower is better; × = failed or not run).")))
    s.append('<text x="%d" y="60" font-size="12">%s</text>' % (left, html.escape(meta.get("mode", ""))))
    lx = left
    for a in allocators:
        s.append('<rect x="%d" y="70" width="12" height="12" fill="%s"/>' % (lx, color[a]))
        s.append('<text x="%d" y="81" font-size="12">%s</text>' % (lx + 16, html.escape(a)))
        lx += 24 + 8 * len(a) + 16
    for p, (key, title) in enumerate((("time", "Wall time / best peer"), ("rss", "Peak RSS / best peer"))):
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
    md = markdown(meta, workloads, cells, allocators, peers, geo)
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
    with open(prefix + ".svg", "w") as f:
        f.write(svg_chart(meta, workloads, cells, allocators, geo))
    print(md)
    bad = any(c["status"] != "ok" for c in cells.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
