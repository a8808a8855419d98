#!/usr/bin/env bash
# dropin.real.sort: GNU sort orders a generated 50 MB file (in memory with
# two threads, and again with a small buffer that spills to temporary files,
# numerically on a key); each result's checksum on rulloc is glibc's.
source "$(dirname "$0")/common.sh" "$@"
need sort awk sha256sum
awk 'BEGIN {
  s = 42
  while (bytes < 50 * 1024 * 1024) {
    s = (s * 1103515245 + 12345) % 2147483648
    t = (s * 1103515245 + 12345) % 2147483648
    line = sprintf("%08x-%s %d %s", s, substr("abcdefghijklmnopqrstuvwxyz", s % 26 + 1, 1 + t % 20), t % 100000, substr("0123456789", 1, s % 11))
    print line
    bytes += length(line) + 1
    s = t
  }
}' >"$tmp/input.txt"
echo "input: $(wc -c <"$tmp/input.txt") bytes, $(wc -l <"$tmp/input.txt") lines"
mkdir "$tmp/spill"

run_sorts() {
  set -euo pipefail
  sort --parallel=2 -S 200M "$1" | sha256sum
  sort --parallel=2 -S 4M -T "$2" -k2,2 -k3,3n "$1" | sha256sum
}
export -f run_sorts
# shellcheck disable=SC2016  # $0 and $1 are expanded by the inner bash
on_glibc glibc bash -c 'run_sorts "$0" "$1"' "$tmp/input.txt" "$tmp/spill"
on_rulloc rulloc bash -c 'run_sorts "$0" "$1"' "$tmp/input.txt" "$tmp/spill"
# Both sorts, each with its buffer (-S 200M, -S 4M) from rulloc: GNU sort
# makes few allocations, big ones.
served rulloc sort 2 1 $((4 * 1000 * 1000))
cat "$tmp/rulloc.out"
same "$tmp/glibc.out" "$tmp/rulloc.out" "checksums of the sorted outputs"
[[ $(wc -l <"$tmp/rulloc.out") -eq 2 ]] || fail "expected 2 checksums"
done_ok "sort"
