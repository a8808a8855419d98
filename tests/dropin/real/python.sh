#!/usr/bin/env bash
# dropin.real.python: a threaded Python workload (workload.py: dicts,
# strings, lists, objects passed between threads) prints the same result on
# rulloc as on glibc, with CPython's own small-object allocator and with
# PYTHONMALLOC=malloc (every object from malloc).
source "$(dirname "$0")/common.sh" "$@"
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
need "$python"
exe=$(basename "$(readlink -f "$python")")

on_glibc glibc "$python" "$here/workload.py" 40
on_rulloc rulloc "$python" "$here/workload.py" 40
served rulloc "$exe" 1 100000
same "$tmp/glibc.out" "$tmp/rulloc.out" "workload.py output"

export PYTHONMALLOC=malloc
on_glibc glibc-malloc "$python" "$here/workload.py" 6
on_rulloc rulloc-malloc "$python" "$here/workload.py" 6
served rulloc-malloc "$exe" 1 100000
same "$tmp/glibc-malloc.out" "$tmp/rulloc-malloc.out" \
  "workload.py output with PYTHONMALLOC=malloc"
grep -q '^digest [0-9a-f]\{64\}$' "$tmp/rulloc.out" || fail "no digest printed"
# Every thread's digest, and every message sent between threads, once.
(($(grep -c '^thread [0-7] .* [0-9a-f]\{64\}$' "$tmp/rulloc.out") == 8)) ||
  fail "not 8 thread digests"
grep -qx 'messages sent 320 arrived 320 distinct 320' "$tmp/rulloc.out" ||
  fail "messages between threads were lost or doubled"
grep -qx 'messages sent 48 arrived 48 distinct 48' "$tmp/rulloc-malloc.out" ||
  fail "messages between threads were lost or doubled (PYTHONMALLOC=malloc)"
grep -q '^messages digest [0-9a-f]\{64\}$' "$tmp/rulloc.out" ||
  fail "no digest of the messages"
done_ok "python workload"
