#!/usr/bin/env python3
"""Summarise a bench/run session: medians, ratios to the best peer, geomeans.

  report.py RUNS_CSV META_FILE OUT_PREFIX

RUNS_CSV has one row per run (written by bench/run), each with the set it
belongs to (workloads, mimalloc-bench, real). META_FILE has "key=value"
lines (machine, date, allocators, sets, notes). Writes OUT_PREFIX.md (also
printed), OUT_PREFIX.csv (medians and ratios) and OUT_PREFIX.svg (the
chart). Each set gets its own tables, geomeans and panels of the chart.
Standard library only.

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


SET_TITLES = {"workloads": "Our workloads", "mimalloc-bench": "mimalloc-bench",
              "real": "Real programs"}


def set_title(st):
    return SET_TITLES.get(st, st)


def cpu_per_work(row, fixed_time):
    """CPU seconds of a run, or for a program that runs for a fixed time,
    CPU seconds per unit of work: its time metric is the relative time
    (inversely proportional to the work done per wall second), so CPU x
    relative / elapsed is proportional to CPU per operation. Unlike the
    throughput itself it hardly moves when other processes take CPUs."""
    cpu = float(row["user_s"]) + float(row["sys_s"])
    if not fixed_time:
        return cpu
    elapsed = float(row.get("elapsed_s") or 0)
    return cpu * float(row["wall_s"]) / elapsed if elapsed > 0 else cpu


def summarise(rows, allocators, peers, fixed_cpu=()):
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
                cell["cpu"] = statistics.median(cpu_per_work(r, w in fixed_cpu) for r in ok)
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


def variant_costs(workloads, cells, variants, sets, wset):
    """Per variant: per workload, variant median / rulloc median, and geomeans per set."""
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
        geos = {}
        for st in sets:
            geo = {}
            ws = [w for w in workloads if wset[w] == st]
            for k, _ in COST_KEYS:
                vals = [per[w][k] for w in ws if per[w].get(k) is not None]
                geo[k] = geomean(vals)
                geo[k + "_n"] = len(vals)
            geo["total"] = len(ws)
            geos[st] = geo
        costs[v] = {"per": per, "geo": geos}
    return costs


def pct(x):
    return "—" if x is None else "%+.1f%%" % ((x - 1) * 100)


def cost_markdown(workloads, costs, variants, have_rulloc, sets, wset):
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
    out.append("| variant | set | wall time | CPU time | peak RSS | rulloc / variant (wall) |")
    out.append("|---|---|---:|---:|---:|---:|")
    for v in variants:
        for st in sets:
            g = costs[v]["geo"][st]
            inv = None if g["wall"] is None else 1 / g["wall"]
            out.append("| %s | %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) |" % (
                v, set_title(st), fmt_ratio(g["wall"]), pct(g["wall"]), fmt_ratio(g["cpu"]), pct(g["cpu"]),
                fmt_ratio(g["rss"]), pct(g["rss"]), fmt_ratio(inv), pct(inv)))
    out.append("")
    out.append("Geometric means of variant / rulloc; the last column is the inverse (what rulloc costs "
               "relative to the variant, e.g. the price of the checks that an unchecked build leaves out).")
    out.append("")
    for v in variants:
        per = costs[v]["per"]
        out.append("### %s / rulloc" % v)
        out.append("")
        out.append("| program | wall time | CPU time | peak RSS | rulloc wall s | %s wall s |" % v)
        out.append("|---|---:|---:|---:|---:|---:|")
        for st in sets:
            g = costs[v]["geo"][st]
            for w in [w for w in workloads if wset[w] == st]:
                d = per[w]
                if d["status"] != "ok":
                    stt = d["status"] if d["status"] == "n/a" else "**%s**" % d["status"].upper()
                    out.append("| %s | %s | %s | %s | | |" % (w, stt, stt, stt))
                    continue
                out.append("| %s | %s | %s | %s | %.3f | %.3f |" % (
                    w, fmt_ratio(d["wall"]), fmt_ratio(d["cpu"]), fmt_ratio(d["rss"]),
                    d["rulloc_wall"], d["variant_wall"]))
            out.append("| **geomean, %s** | %s | | |" % (set_title(st), " | ".join(
                "**%s**%s" % (fmt_ratio(g[k]), "" if g[k + "_n"] == g["total"] else
                              " (%d/%d)" % (g[k + "_n"], g["total"])) for k, _ in COST_KEYS)))
        out.append("")
    return out


def write_cost_csv(path, workloads, costs, variants, sets, wset):
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["set", "variant", "workload", "status",
                     "rulloc_wall_s", "variant_wall_s", "wall_ratio",
                     "rulloc_cpu_s", "variant_cpu_s", "cpu_ratio",
                     "rulloc_maxrss_kb", "variant_maxrss_kb", "rss_ratio", "workloads_in_geomean"])
        for v in variants:
            per = costs[v]["per"]
            for st in sets:
                g = costs[v]["geo"][st]
                for w in [w for w in workloads if wset[w] == st]:
                    d = per[w]
                    row = [st, v, w, d["status"]]
                    for k, _ in COST_KEYS:
                        if d["status"] == "ok":
                            fmt = "%.0f" if k == "rss" else "%.6f"
                            row += [fmt % d["rulloc_" + k], fmt % d["variant_" + k],
                                    "%.4f" % d[k] if d[k] is not None else ""]
                        else:
                            row += ["", "", ""]
                    wr.writerow(row + [""])
                row = [st, v, "geomean", "ok"]
                for k, _ in COST_KEYS:
                    row += ["", "", "%.4f" % g[k] if g[k] is not None else ""]
                wr.writerow(row + [g["wall_n"]])


def ratio_tables(out, st, ws, cells, allocators, geo, relative, fixed_cpu):
    for title, key, unit in (("Wall time", "time", "s"), ("CPU time (user+sys)", "cpu", "s"),
                             ("Peak RSS", "rss", "MiB")):
        out.append("### %s, %s: ratio to the best peer (lower is better)" % (set_title(st), title))
        out.append("")
        out.append("| program | best peer | best %s | %s |" % (unit, " | ".join(allocators)))
        out.append("|---|---|---:|%s|" % "|".join("---:" for _ in allocators))
        for w in ws:
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
            label = w + (" †" if key == "time" and w in relative else "")
            out.append("| %s | %s | %s | %s |" % (label, best_a, best_s, " | ".join(row)))
        n_all = len(ws)
        out.append("| **geomean** | | | %s |" % " | ".join(
            "**%s**%s" % (fmt_ratio(geo[st][a][key]), "" if geo[st][a][key + "_n"] == n_all else
                          " (%d/%d)" % (geo[st][a][key + "_n"], n_all)) for a in allocators))
        out.append("")
    if any(w in relative for w in ws):
        out.append("† time = the relative time that mimalloc-bench's bench.sh reports for this program "
                   "(it runs for a fixed time or counts operations per CPU second), not its wall time. "
                   "Of those that run for a fixed time (%s), the CPU column is CPU time per unit of work "
                   "(CPU x relative time / elapsed), which other load on the machine disturbs far less "
                   "than their throughput." % ", ".join(sorted(w for w in ws if w in fixed_cpu)))
        out.append("")


def medians_table(out, st, ws, cells, allocators, relative):
    out.append("### %s, medians" % set_title(st))
    out.append("")
    out.append("Time in seconds († relative time) / CPU time (user+sys) in seconds / peak RSS in MiB.")
    out.append("")
    out.append("| program | %s |" % " | ".join(allocators))
    out.append("|---|%s|" % "|".join("---:" for _ in allocators))
    for w in ws:
        row = []
        for a in allocators:
            c = cells.get((w, a))
            if c is None or "wall" not in c:
                row.append("n/a" if c is None else c["status"])
            else:
                row.append("%.3f / %.3f / %.1f" % (c["wall"], c["cpu"], c["rss"] / 1024))
        out.append("| %s | %s |" % (w + (" †" if w in relative else ""), " | ".join(row)))
    out.append("")


def markdown(meta, sets, wset, workloads, cells, allocators, peers, geo, relative, fixed_cpu, cost_lines=None):
    out = []
    out.append("# rulloc benchmark suite: %s" % meta.get("title", "results"))
    out.append("")
    out.append("- Date: %s" % meta.get("date", "?"))
    out.append("- Machine: %s" % meta.get("machine", "?"))
    out.append("- Mode: %s" % meta.get("mode", "?"))
    out.append("- Load average (1, 5, 15 min) at start: %s; at end: %s"
               % (meta.get("load_start", "?"), meta.get("load_end", "?")))
    out.append("- Allocators: %s" % meta.get("allocators", "?"))
    secs = dict(x.split(":", 1) for x in meta.get("set_seconds", "").split(",") if ":" in x)
    out.append("- Sets: %s" % "; ".join(
        "%s (%d programs%s)" % (set_title(st), len([w for w in workloads if wset[w] == st]),
                                ", %s s" % secs[st] if st in secs else "") for st in sets))
    out.append("")
    ws_of = {st: [w for w in workloads if wset[w] == st] for st in sets}
    if not peers:
        out.append("No peer (glibc, jemalloc, mimalloc, tcmalloc) was measured in this session: the "
                   "ratio-to-best-peer tables are skipped.")
        out.append("")
    else:
        out.append("Each ratio is the median over the runs divided by the best peer's median "
                   "(best of %s) for that program: 1.00 = as good as the best peer, 1.50 = 50%% "
                   "more time or memory, below 1.00 = better than every peer. A geomean summarises an "
                   "allocator over the programs of one set where it ran correctly. Wall time is the "
                   "headline; CPU time (user+sys of the measured process tree) is shown too because it is "
                   "less disturbed by other load on the machine (for redis it is the server's)." % ", ".join(peers))
        out.append("")
        out.append("## Geomeans per set")
        out.append("")
        out.append("| set | ratio | %s |" % " | ".join(allocators))
        out.append("|---|---|%s|" % "|".join("---:" for _ in allocators))
        for st in sets:
            for key, label in (("time", "wall time"), ("cpu", "CPU time"), ("rss", "peak RSS")):
                n_all = len(ws_of[st])
                out.append("| %s (%d) | %s | %s |" % (set_title(st), len(ws_of[st]), label, " | ".join(
                    "**%s**%s" % (fmt_ratio(geo[st][a][key]), "" if geo[st][a][key + "_n"] == n_all else
                                  " (%d/%d)" % (geo[st][a][key + "_n"], n_all)) for a in allocators)))
        out.append("")
    for st in sets:
        out.append("## %s" % set_title(st))
        out.append("")
        if peers:
            ratio_tables(out, st, ws_of[st], cells, allocators, geo, relative, fixed_cpu)
        medians_table(out, st, ws_of[st], cells, allocators, relative)
    if cost_lines:
        out.extend(cost_lines)
    out.append("## Checks")
    out.append("")
    problems = [(w, a, c) for (w, a), c in cells.items() if c["status"] != "ok"]
    if problems:
        for w, a, c in problems:
            out.append("- **%s under %s: %s** (%d of %d runs ok)" % (w, a, c["status"], c["ok"], c["runs"]))
    else:
        out.append("- Every run exited 0 and passed its output check under every allocator.")
    for n in meta["notes"]:
        out.append("- %s" % n)
    out.append("")
    return "\n".join(out)


COLORS = {"glibc": "#7f7f7f", "jemalloc": "#1f77b4", "mimalloc": "#2ca02c", "tcmalloc": "#ff7f0e",
          "rulloc": "#d62728"}
EXTRA = ["#9467bd", "#8c564b", "#e377c2", "#17becf"]


def svg_chart(meta, sections, allocators, value, subtitle=None, titles=None, min_width=0, bar_width=11):
    """The chart: for each section (title, groups) a time panel and an RSS
    panel; value(section_index, group, allocator, key) gives the bar (key
    "time" or "rss", group a program or "geomean"); None draws a cross."""
    bw, gap, left, right = bar_width, 18, 64, 20
    gw = bw * len(allocators) + gap
    ngroups = max([len(g) for _, g in sections] + [1])
    title = "rulloc benchmark suite, %s: %s" % (meta.get("date", "?"), meta.get("machine", "?"))
    width = max(left + right + gw * ngroups, min_width, 760, int(left + 9.5 * len(title)),
                int(left + 6.6 * len(meta.get("mode", ""))))
    panel_h, top, label_h, sec_h = 200, 116, 96, 34
    height = top + len(sections) * (sec_h + 2 * (panel_h + label_h)) + 10
    color = {a: COLORS.get(a, EXTRA[i % len(EXTRA)]) for i, a in enumerate(allocators)}
    s = []
    s.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="DejaVu Sans, Arial, sans-serif">' % (width, height, width, height))
    s.append('<rect width="100%" height="100%" fill="white"/>')
    s.append('<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>'
             % (left, html.escape(title)))
    s.append('<text x="%d" y="44" font-size="12">%s</text>' % (left, html.escape(subtitle or
        "Median time and peak RSS of each allocator divided by the best peer's, per set "
        "(log scale; 1 = best peer, lower is better; × = failed or not run).")))
    s.append('<text x="%d" y="60" font-size="12">%s</text>' % (left, html.escape(meta.get("mode", ""))))
    lx = left
    for a in allocators:
        s.append('<rect x="%d" y="70" width="12" height="12" fill="%s"/>' % (lx, color[a]))
        s.append('<text x="%d" y="81" font-size="12">%s</text>' % (lx + 16, html.escape(a)))
        lx += 24 + 8 * len(a) + 16
    titles = titles or ("time / best peer", "peak RSS / best peer")
    y = top
    for si, (stitle, groups) in enumerate(sections):
        s.append('<text x="%d" y="%d" font-size="15" font-weight="bold">%s</text>' % (left, y + 8, html.escape(stitle)))
        y += sec_h
        for p, (key, title) in enumerate((("time", titles[0]), ("rss", titles[1]))):
            y0 = y + p * (panel_h + label_h)
            vals = [value(si, g, a, key) for g in groups for a in allocators]
            vals = [v for v in vals if v is not None and v > 0]
            lo = min([0.9] + vals)
            hi = min(max([1.5] + vals), 64.0)
            llo, lhi = math.log(lo * 0.95), math.log(hi * 1.05)

            def ypos(v):
                v = min(max(v, lo * 0.95), hi * 1.05)
                return y0 + panel_h - (math.log(v) - llo) / (lhi - llo) * panel_h

            s.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>'
                     % (left, y0 - 6, html.escape("%s: %s" % (stitle, title))))
            pw = gw * len(groups)
            s.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#ccc"/>'
                     % (left, y0, pw, panel_h))
            for t in (0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 6, 8, 12, 16, 32, 64):
                if lo * 0.95 <= t <= hi * 1.05:
                    yy = ypos(t)
                    s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="%s"/>'
                             % (left, yy, left + pw, yy, "#333" if t == 1 else "#e4e4e4", "1.2" if t == 1 else "1"))
                    s.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%g</text>' % (left - 6, yy + 4, t))
            for gi, g in enumerate(groups):
                gx = left + gi * gw + gap / 2
                if g == "geomean":
                    s.append('<rect x="%.1f" y="%d" width="%d" height="%d" fill="#f3f3f3"/>'
                             % (gx - gap / 2 + 1, y0 + 1, gw - 2, panel_h - 2))
                for ai, a in enumerate(allocators):
                    v = value(si, g, a, key)
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
        y += 2 * (panel_h + label_h)
    s.append("</svg>")
    return "\n".join(s)


def main():
    runs_csv, meta_file, prefix = sys.argv[1:4]
    meta = read_meta(meta_file)
    with open(runs_csv) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["set"] = r.get("set") or "workloads"
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
    relative = set(x for x in meta.get("relative", "").split(",") if x)
    fixed_cpu = set(x for x in meta.get("fixed_cpu", "").split(",") if x)
    workloads, cells = summarise(rows, allocators, peers, fixed_cpu)
    wset = {}
    for r in rows:
        wset.setdefault(r["workload"], r["set"])
    sets = [st for st in meta.get("sets", "").split(",") if st in wset.values()]
    sets += [st for st in dict.fromkeys(wset[w] for w in workloads) if st not in sets]
    workloads = [w for st in sets for w in workloads if wset[w] == st]  # grouped by set
    geo = {}
    for st in sets:
        ws = [w for w in workloads if wset[w] == st]
        geo[st] = {}
        for a in allocators:
            g = {}
            for key in ("time", "cpu", "rss"):
                vals = [cells[(w, a)].get(key + "_ratio") for w in ws if (w, a) in cells]
                vals = [v for v in vals if v is not None]
                g[key] = geomean(vals)
                g[key + "_n"] = len(vals)
            geo[st][a] = g
    costs, cost_lines = None, None
    if variants is not None:
        costs = variant_costs(workloads, cells, variants, sets, wset)
        cost_lines = cost_markdown(workloads, costs, variants, "rulloc" in present, sets, wset)
    md = markdown(meta, sets, wset, workloads, cells, allocators, peers, geo, relative, fixed_cpu, cost_lines)
    with open(prefix + ".md", "w") as f:
        f.write(md)
    with open(prefix + ".csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["set", "workload", "allocator", "runs", "runs_ok", "status", "median_wall_s", "median_cpu_s",
                     "median_maxrss_kb", "median_minflt", "time_ratio", "cpu_ratio", "rss_ratio"])
        for st in sets:
            for w in [w for w in workloads if wset[w] == st] + ["geomean"]:
                for a in allocators:
                    if w == "geomean":
                        g = geo[st][a]
                        wr.writerow([st, w, a, "", "", "", "", "", "", "",
                                     "%.4f" % g["time"] if g["time"] else "",
                                     "%.4f" % g["cpu"] if g["cpu"] else "",
                                     "%.4f" % g["rss"] if g["rss"] else ""])
                        continue
                    c = cells.get((w, a))
                    if c is None:
                        continue
                    wr.writerow([st, w, a, c["runs"], c["ok"], c["status"],
                                 "%.6f" % c["wall"] if "wall" in c else "", "%.6f" % c["cpu"] if "cpu" in c else "",
                                 "%.0f" % c["rss"] if "rss" in c else "", "%.0f" % c["minflt"] if "minflt" in c else "",
                                 "%.4f" % c["time_ratio"] if "time_ratio" in c else "",
                                 "%.4f" % c["cpu_ratio"] if "cpu_ratio" in c else "",
                                 "%.4f" % c["rss_ratio"] if "rss_ratio" in c else ""])
    if costs is not None and variants and "rulloc" in present:
        write_cost_csv(prefix + "-variants.csv", workloads, costs, variants, sets, wset)
    sections = [(set_title(st), [w for w in workloads if wset[w] == st] + ["geomean"]) for st in sets]
    with open(prefix + ".svg", "w") as f:
        if peers or not variants or "rulloc" not in present:
            def peer_value(si, g, a, key):
                if g == "geomean":
                    return geo[sets[si]][a][key]
                c = cells.get((g, a))
                return None if c is None else c.get(key + "_ratio")
            f.write(svg_chart(meta, sections, allocators, peer_value))
        else:
            # No peer: chart what was measured, the cost of each variant.
            def cost_value(si, g, a, key):
                k = "wall" if key == "time" else key
                if g == "geomean":
                    return costs[a]["geo"][sets[si]][k]
                return costs[a]["per"][g].get(k)
            f.write(svg_chart(meta, sections, variants, cost_value,
                              "Median time and peak RSS of each rulloc variant divided by rulloc's, per set "
                              "(log scale; 1 = as rulloc, lower is better; × = failed or not run).",
                              ("time / rulloc", "peak RSS / rulloc"), min_width=1000, bar_width=22))
    print(md)
    bad = any(c["status"] != "ok" for c in cells.values())
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
