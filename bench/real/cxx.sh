#!/usr/bin/env bash
# g++ workload for bench/run (rulloc benchmark suite).
#
#   cxx.sh WORKDIR SOURCE
#
# Runs as a whole under the allocator being measured: g++ -O2 compiles
# SOURCE (written by gen_cxx.py; the preload reaches cc1plus, as and ld),
# then the program runs and prints its checksum, which bench/run compares
# across allocators. A compiler error or a crash fails the run.
set -euo pipefail
W=$1 SRC=$2
mkdir -p "$W"
rm -f "$W/prog" "$W/prog.o"
g++ -std=c++17 -O2 -c "$SRC" -o "$W/prog.o"
g++ "$W/prog.o" -o "$W/prog"
"$W/prog"
