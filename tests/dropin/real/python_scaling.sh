#!/usr/bin/env bash
# dropin.real.python_scaling: the workload of dropin.real.python with
# PYTHONMALLOC=malloc and more rounds. Its time on glibc grows with the
# rounds; on rulloc it must not grow out of proportion (an allocator whose
# cost per call grows with the heap's history turns it quadratic). Passes
# when rulloc takes at most 4 times glibc's time plus 5 s.
source "$(dirname "$0")/common.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
need "$python"
export PYTHONMALLOC=malloc
rounds=16

t0=$(date +%s%N)
on_glibc glibc "$python" "$here/workload.py" $rounds
t1=$(date +%s%N)
status=0
LD_PRELOAD="$lib" timeout 180 "$python" "$here/workload.py" $rounds \
  >"$tmp/rulloc.out" 2>"$tmp/rulloc.err" || status=$?
t2=$(date +%s%N)
((status == 0)) || { tail "$tmp/rulloc.err"; fail "rulloc run ended with $status (124: over 180 s)"; }
same "$tmp/glibc.out" "$tmp/rulloc.out" "workload.py output ($rounds rounds)"
glibc_ms=$(((t1 - t0) / 1000000))
rulloc_ms=$(((t2 - t1) / 1000000))
limit_ms=$((glibc_ms * 4 + 5000))
echo "glibc ${glibc_ms} ms, rulloc ${rulloc_ms} ms, limit ${limit_ms} ms"
((rulloc_ms <= limit_ms)) ||
  fail "rulloc took ${rulloc_ms} ms against glibc's ${glibc_ms} ms"
done_ok "python scaling"
