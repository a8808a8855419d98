#!/usr/bin/env bash
# xz workload for bench/run (rulloc benchmark suite).
#
#   xz.sh WORKDIR DATA
#
# Runs as a whole under the allocator being measured. Compresses DATA
# (written by gen_xz.py) with xz -6 on 2 threads, 1 MiB blocks (each thread has its
# own encoder: tens of MiB in large blocks), then with xz -3 -T1
# --block-size=256KiB (the encoder reset for each block), decompresses both and
# requires the original's SHA-256 back. Prints the SHA-256 of the original
# and of both compressed files (the same for every allocator: xz's output
# depends only on its settings and the input).
set -euo pipefail
W=$1 DATA=$2
mkdir -p "$W"
rm -f "$W"/data.*.xz
xz -6 -T2 --block-size=1MiB -c "$DATA" >"$W/data.6.xz"
xz -3 -T1 --block-size=256KiB -c "$DATA" >"$W/data.3.xz"
want=$(sha256sum <"$DATA" | cut -d' ' -f1)
for f in "$W/data.6.xz" "$W/data.3.xz"; do
  got=$(xz -d -c "$f" | sha256sum | cut -d' ' -f1)
  if [[ $got != "$want" ]]; then
    echo "xz.sh: $f does not decompress to the original ($got, want $want)" >&2
    exit 3
  fi
done
echo "original $want"
echo "xz-6-T2 $(sha256sum <"$W/data.6.xz" | cut -d' ' -f1)"
echo "xz-3-blocks $(sha256sum <"$W/data.3.xz" | cut -d' ' -f1)"
