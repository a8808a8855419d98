#!/usr/bin/env bash
# dropin.real.python_scaling: the workload of dropin.real.python with
# PYTHONMALLOC=malloc and more rounds (16: millions of mallocs, so the heap
# has a long history), on rulloc as on glibc: the same output, and the
# interpreter's own process made those allocations through rulloc. How fast
# it ran is left to the benchmarks (bench/run): a wall-clock limit here
# would fail on a loaded machine for no fault of rulloc's. An allocator
# whose cost grows with the heap's history still fails, by CTest's timeout.
source "$(dirname "$0")/common.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
need "$python"
exe=$(basename "$(readlink -f "$python")")
export PYTHONMALLOC=malloc
rounds=16

on_glibc glibc "$python" "$here/workload.py" $rounds
on_rulloc rulloc "$python" "$here/workload.py" $rounds
served rulloc "$exe" 1 1000000
same "$tmp/glibc.out" "$tmp/rulloc.out" "workload.py output ($rounds rounds)"
grep -qx "messages sent $((8 * rounds)) arrived $((8 * rounds)) distinct $((8 * rounds))" \
  "$tmp/rulloc.out" || fail "messages between threads were lost or doubled"
done_ok "python scaling"
