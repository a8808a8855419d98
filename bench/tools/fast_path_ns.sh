#!/bin/bash
# The fast path in nanoseconds: bench/micro/fast_path_ns.c under each
# allocator, RUNS interleaved runs (default 7), the median of each, and
# each median's ratio to the fastest.
#   bench/tools/fast_path_ns.sh PROGRAM NAME=LIBRARY... (LIBRARY "" = glibc)
# PROGRAM is bench/micro/fast_path_ns.c built with cc -O2.
set -eu
program=$1
shift
runs=${RUNS:-7}
millions=${MILLIONS:-50}
for mode in pair batch; do
  declare -A all=()
  for ((r = 0; r < runs; ++r)); do
    for spec in "$@"; do
      name=${spec%%=*}
      all[$name]+="$(LD_PRELOAD=${spec#*=} "$program" "$mode" "$millions") "
    done
  done
  best=
  declare -A median=()
  for spec in "$@"; do
    name=${spec%%=*}
    median[$name]=$(tr ' ' '\n' <<<"${all[$name]}" | grep . | sort -g |
                    awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
    if [[ -z $best ]] || (($(echo "${median[$name]} < $best" | bc))); then
      best=${median[$name]}
    fi
  done
  for spec in "$@"; do
    name=${spec%%=*}
    printf '%-6s %-10s %7.3f ns  x%.2f  (runs: %s)\n' "$mode" "$name" \
      "${median[$name]}" "$(echo "${median[$name]} / $best" | bc -l)" \
      "${all[$name]}"
  done
  unset all median
done
