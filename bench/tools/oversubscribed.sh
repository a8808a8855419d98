#!/bin/bash
# Threads beyond CPUs: larson- and xmalloc-like programs with 32 and 64
# threads, under each allocator, interleaved, RUNS runs (default 3), medians.
#   bench/tools/oversubscribed.sh NAME=LIBRARY...   (LIBRARY "" = glibc)
# Our workloads (bench/build, fixed work: CPU time is the figure) and
# mimalloc-bench's larson and xmalloc-test (fixed time: their throughput,
# and CPU per unit of work). Writes a markdown table to stdout.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$root/bench/build}
mb=$build/mimalloc-bench
runs=${RUNS:-3}
raw=$(mktemp)
one() {  # THREADS PROGRAM NAME LIBRARY COMMAND...
  local threads=$1 program=$2 name=$3 library=$4 out
  shift 4
  out=$(mktemp)
  LD_PRELOAD=$library /usr/bin/time -f "TIME %e %U %S %M" "$@" >"$out" 2>&1 ||
    echo "FAILED" >>"$out"
  local t u s m work
  read -r t u s m < <(awk '/^TIME/ {print $2, $3, $4, $5}' "$out")
  work=$(awk '/Throughput =/ {print $3 / 1e6} /free\/sec:/ {print $4}
              /checksum=/ {print "1"}' "$out" | head -1)
  echo "$threads $program $name $t $u $s $m ${work:-0}" >>"$raw"
  rm -f "$out"
}
for ((r = 0; r < runs; ++r)); do
  for threads in 32 64; do
    for spec in "$@"; do
      name=${spec%%=*} lib=${spec#*=}
      one "$threads" wl_larson "$name" "$lib" "$build/wl_larson" \
        --threads "$threads" --scale "$(echo "scale=4; 1.6 / $threads" | bc)"
      one "$threads" wl_xmalloc "$name" "$lib" "$build/wl_xmalloc" \
        --threads "$threads" --scale "$(echo "scale=4; 16 / $threads" | bc)"
      one "$threads" mb-larson "$name" "$lib" "$mb/larson" \
        5 8 1000 5000 100 4141 "$threads"
      one "$threads" mb-xmalloc "$name" "$lib" "$mb/xmalloc-test" \
        -w $((threads / 2)) -t 3 -s 64
    done
  done
done
python3 - "$raw" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
data = {}
for threads, prog, name, wall, user, sys_, rss, work in rows:
    data.setdefault((int(threads), prog), {}).setdefault(name, []).append(
        (float(wall), float(user) + float(sys_), int(rss), float(work)))
print("| threads | program | allocator | wall s | CPU s | CPU per unit of work | peak RSS MiB | work (M ops/s or M frees/s) |")
print("|---:|---|---|---:|---:|---:|---:|---:|")
for (threads, prog), by in sorted(data.items()):
    for name, runs in by.items():
        med = lambda i: statistics.median(r[i] for r in runs)
        fixed_time = prog.startswith("mb-")
        per_work = med(1) / med(3) if fixed_time and med(3) > 0 else med(1)
        print(f"| {threads} | {prog} | {name} | {med(0):.2f} | {med(1):.2f} | "
              f"{per_work:.3f} | {med(2) / 1024:.1f} | "
              f"{med(3):.2f} |" if fixed_time else
              f"| {threads} | {prog} | {name} | {med(0):.2f} | {med(1):.2f} | "
              f"{per_work:.2f} | {med(2) / 1024:.1f} | — |")
PY
rm -f "$raw"
