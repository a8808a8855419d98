#!/bin/bash
# Callgrind instructions per malloc+free pair of a 32-byte block, and per
# allocation (its malloc and its free) in batches of 1000, of a preloaded
# allocator:  bench/tools/pair_cost.sh PROGRAM LIBRARY
# PROGRAM is bench/micro/pair_cost.c built (cc -O2). Each mode runs with
# 20000 and 120000 iterations; the difference of the totals over 100000 is
# one iteration's cost, from which the empty loop's is subtracted.
set -eu
program=$1
library=$2
total() {  # MODE N LIBRARY: instructions of the whole run
  local out
  out=$(mktemp)
  LD_PRELOAD=$3 valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$program" "$1" "$2" 2>/dev/null >/dev/null
  callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  rm -f "$out"
}
per_iteration() {  # MODE LIBRARY
  local small large
  small=$(total "$1" 20000 "$2")
  large=$(total "$1" 120000 "$2")
  echo "scale=2; ($large - $small) / 100000" | bc
}
loop=$(per_iteration empty "")
pair=$(per_iteration pair "$library")
batch=$(per_iteration batch "$library")
echo "empty loop: $loop instructions per iteration"
echo "malloc+free pair (32 B): $(echo "scale=2; $pair - $loop" | bc)"
echo "per allocation in batches of 1000: $(echo "scale=2; $batch - $loop" | bc)"
