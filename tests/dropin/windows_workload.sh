#!/usr/bin/env bash
# A workload on the C runtime's malloc and linked with librulloc-malloc.a
# (tests/dropin/windows.cmake), under wine: both exit 0 with the same
# output, and rulloc's statistics at exit (RULLOC_SHOW_STATS=1) show that it
# served the program: at least FEWEST allocations, and frees of at least
# half of them.
#
#   windows_workload.sh WINE PLAIN.exe RULLOC.exe FEWEST ARGS...
set -uo pipefail
wine=$1 plain=$2 rulloc=$3 fewest=$4
shift 4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Wall times are shown, never checked: this machine is shared.
start=$(date +%s%N)
"$wine" "$plain" "$@" >"$dir/plain.out" 2>"$dir/plain.err"
plain_status=$?
middle=$(date +%s%N)
RULLOC_SHOW_STATS=1 "$wine" "$rulloc" "$@" >"$dir/rulloc.out" 2>"$dir/rulloc.err"
rulloc_status=$?
end=$(date +%s%N)
echo "C runtime: exit $plain_status, $(((middle - start) / 1000000)) ms:" \
  "$(tr -d '\r' <"$dir/plain.out" | head -c 300)"
echo "rulloc:    exit $rulloc_status, $(((end - middle) / 1000000)) ms:" \
  "$(tr -d '\r' <"$dir/rulloc.out" | head -c 300)"
grep '^rulloc: ' "$dir/rulloc.err" | tr -d '\r'

fail() {
  echo "FAIL: $*"
  echo "--- C runtime stderr"; cat "$dir/plain.err"
  echo "--- rulloc stderr"; cat "$dir/rulloc.err"
  exit 1
}
((plain_status == 0)) || fail "the C runtime's run exited $plain_status"
((rulloc_status == 0)) || fail "rulloc's run exited $rulloc_status"
[[ -s $dir/plain.out ]] || fail "the workload printed nothing"
cmp -s "$dir/plain.out" "$dir/rulloc.out" || fail "the outputs differ"
stats=$(tr -d '\r' <"$dir/rulloc.err" | sed -n 's/^rulloc: allocations \([0-9]*\), frees \([0-9]*\),.*/\1 \2/p')
[[ -n $stats ]] || fail "no statistics from rulloc at exit"
read -r allocations frees <<<"$stats"
((allocations >= fewest)) || fail "rulloc served only $allocations allocations"
((frees >= allocations / 2)) || fail "only $frees frees of $allocations"
echo "PASS: same output, rulloc served $allocations allocations, $frees frees"
