#!/usr/bin/env bash
# dropin.real.python: a threaded Python workload (workload.py: dicts,
# strings, lists, objects passed between threads) prints the same result on
# rulloc as on glibc, with CPython's own small-object allocator and with
# PYTHONMALLOC=malloc (every object from malloc).
source "$(dirname "$0")/common.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
need "$python"

on_glibc glibc "$python" "$here/workload.py" 40
on_rulloc rulloc "$python" "$here/workload.py" 40
same "$tmp/glibc.out" "$tmp/rulloc.out" "workload.py output"

export PYTHONMALLOC=malloc
on_glibc glibc-malloc "$python" "$here/workload.py" 6
on_rulloc rulloc-malloc "$python" "$here/workload.py" 6
same "$tmp/glibc-malloc.out" "$tmp/rulloc-malloc.out" \
  "workload.py output with PYTHONMALLOC=malloc"
grep -q '^digest [0-9a-f]\{64\}$' "$tmp/rulloc.out" || fail "no digest printed"
done_ok "python workload"
