#!/usr/bin/env bash
# expect_report.sh LIB STATUS LINE COMMAND...: runs COMMAND with LIB
# preloaded (it alone, not this script) and passes only when it exits with STATUS (134: SIGABRT) and its stderr has LINE as a whole
# line. In LINE, the word POINTER stands for the pointer the program printed
# on stdout as "POINTER 0x..." before the misuse; a program that printed
# "SURVIVED" went on after it, which fails too.
set -uo pipefail
lib=$1 want_status=$2 want_line=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0
LD_PRELOAD=$lib "$@" >"$tmp/out" 2>"$tmp/err"
status=$?
echo "--- exit status $status"; echo "--- stdout:"; cat "$tmp/out"
echo "--- stderr:"; cat "$tmp/err"
fail() { echo "FAIL: $*"; exit 1; }
if [[ $want_line == *POINTER* ]]; then
  pointer=$(sed -n 's/^POINTER //p' "$tmp/out")
  [[ -n $pointer ]] || fail "the program did not reach the misuse"
  want_line=${want_line//POINTER/$pointer}
fi
grep -q '^SURVIVED' "$tmp/out" && fail "the program went on after the misuse"
((status == want_status)) || fail "expected exit status $want_status, got $status"
grep -qxF -- "$want_line" "$tmp/err" || fail "no line '$want_line' on stderr"
echo "PASS: $want_line"
