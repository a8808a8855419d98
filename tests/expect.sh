#!/usr/bin/env bash
# expect.sh STATUS [-e REGEX]... -- COMMAND [ARGS...]: runs COMMAND and passes
# only when it exits with STATUS and, for each REGEX (extended regular
# expression), a line of its output (stdout and stderr together) matches.
# CTest's PASS_REGULAR_EXPRESSION alone ignores the exit status: a program
# that prints the line and then fails would pass.
set -uo pipefail
usage() {
  echo "usage: $0 STATUS [-e REGEX]... -- COMMAND [ARGS...]" >&2
  exit 2
}
(($# >= 1)) || usage
want_status=$1
shift
regexes=()
while (($# > 0)) && [[ $1 != -- ]]; do
  [[ $1 == -e && $# -ge 2 ]] || usage
  regexes+=("$2")
  shift 2
done
(($# >= 2)) || usage
shift
out=$(mktemp "${TMPDIR:-/tmp}/rulloc-expect.XXXXXX")
trap 'rm -f "$out"' EXIT

"$@" >"$out" 2>&1
status=$?
cat "$out"
echo "--- $1: exit status $status"
fail() {
  echo "FAIL: $*"
  exit 1
}
((status == want_status)) || fail "expected exit status $want_status, got $status"
for regex in "${regexes[@]}"; do
  grep -qE -- "$regex" "$out" || fail "no line of the output matches: $regex"
done
echo "PASS: exit status $status; output matches ${regexes[*]}"
