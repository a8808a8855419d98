#!/usr/bin/env bash
# dropin.real.show_stats: RULLOC_SHOW_STATS=1 makes real programs print
# rulloc's figures on stderr at exit ("rulloc: allocations N, ..." and one
# line per bucket), whatever they do with their standard streams before
# exiting; without it they print no "rulloc:" line at all.
source "$(dirname "$0")/common.sh" "$@"
need /usr/bin/python3 sqlite3 sort ls git
seq 1 20000 | sort -R --random-source=/dev/zero >"$tmp/numbers.txt"

failures=0
check() {
  local name=$1
  shift
  local status=0
  LD_PRELOAD="$lib" RULLOC_SHOW_STATS=1 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
    status=$?
  if ((status != 0)); then
    echo "FAIL: $name exited with $status"; ((++failures)); return
  fi
  if ! grep -qE '^rulloc: allocations [1-9][0-9]*, frees [0-9]+, bytes in use [0-9]+, peak bytes in use [0-9]+, mapped bytes [1-9][0-9]*$' "$tmp/$name.err"; then
    echo "FAIL: $name printed no 'rulloc: allocations N, ...' line at exit; its stderr:"
    head -5 "$tmp/$name.err"
    ((++failures)); return
  fi
  local buckets
  buckets=$(grep -cE '^rulloc:   bucket (<= [0-9]+|dynamic): regions [0-9]+, blocks [0-9]+ \(free [0-9]+\), mapped [0-9]+$' "$tmp/$name.err" || true)
  if ((buckets < 2)); then
    echo "FAIL: $name printed $buckets bucket lines"; ((++failures)); return
  fi
  echo "ok: $name: $(grep '^rulloc: allocations' "$tmp/$name.err" | head -1)"
}

check python3 /usr/bin/python3 -c 'print(sum(len(str(i)) for i in range(100000)))'
check sqlite3 sqlite3 :memory: 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<10000) SELECT sum(x) FROM n;'
check git git --version
# GNU coreutils close stdout and stderr themselves before exiting.
check sort sort -n "$tmp/numbers.txt"
check ls ls -la /usr/lib

# Nothing from rulloc unless asked.
LD_PRELOAD="$lib" /usr/bin/python3 -c 'print(1)' >/dev/null 2>"$tmp/quiet.err"
if grep -q '^rulloc:' "$tmp/quiet.err"; then
  echo "FAIL: rulloc printed without RULLOC_SHOW_STATS"; ((++failures))
fi
# RULLOC_VERBOSE=1 announces the heap.
LD_PRELOAD="$lib" RULLOC_VERBOSE=1 /usr/bin/python3 -c 'print(1)' >/dev/null 2>"$tmp/verbose.err"
grep -q '^rulloc: process allocator ready' "$tmp/verbose.err" ||
  { echo "FAIL: RULLOC_VERBOSE=1 printed no 'rulloc: process allocator ready'"; ((++failures)); }

((failures == 0)) || fail "$failures check(s) failed"
done_ok "RULLOC_SHOW_STATS"
