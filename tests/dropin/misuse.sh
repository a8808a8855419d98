#!/usr/bin/env bash
# misuse.sh LIB PROGRAM CASE: runs `PROGRAM CASE` with LIB preloaded and
# passes only when it dies by SIGABRT (exit status 134) after printing
# "rulloc: <op>(<pointer>): <problem>" on stderr, <pointer> being the one the
# program printed with %p before the misuse.
set -uo pipefail
lib=$1 program=$2 case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0

LD_PRELOAD="$lib" "$program" "$case" >"$tmp/out" 2>"$tmp/err"
status=$?
echo "--- $case: exit status $status"
echo "--- stdout:"; cat "$tmp/out"
echo "--- stderr:"; cat "$tmp/err"

fail() { echo "FAIL: $*"; exit 1; }
pointer=$(sed -n 's/^POINTER //p' "$tmp/out")
[[ -n "$pointer" ]] || fail "the program did not reach the misuse"
grep -q '^SURVIVED' "$tmp/out" && fail "the program went on after the misuse"
((status == 134)) || fail "expected death by SIGABRT (status 134), got $status"
line=$(grep -F "($pointer): " "$tmp/err" | grep -E '^rulloc: [a-z_]+\(0x[0-9a-f]+\): .+' || true)
[[ -n "$line" ]] || fail "no 'rulloc: <op>($pointer): <problem>' line on stderr"
case "$case" in
  double-free*|free-after-realloc|realloc-freed|delete-twice)
    grep -qiE 'double free|already free' <<<"$line" ||
      fail "expected the message to name a double free: $line" ;;
esac
echo "PASS: $line"
