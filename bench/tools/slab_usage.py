#!/usr/bin/env python3
"""Where a heap's slab memory goes, per size class, from a heap map.

    RULLOC_MAP_FILE=/tmp/map.json LD_PRELOAD=librulloc.so PROGRAM
    bench/tools/slab_usage.py /tmp/map.json

The map (rulloc_map_json(), written at exit) gives each slab in use its
class, capacity, blocks out ("used": with the program or in a thread's
cache), blocks free in the slab and blocks not carved yet. Carved bytes are
what a class has touched: a small heap's resident memory is mostly the sum
of each class's carved bytes, since a slab's pages serve another class only
once all its blocks are free.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[0] + "\nusage: slab_usage.py MAP.json")
    with open(sys.argv[1]) as f:
        heap = json.load(f)
    per_class = {}
    states = {}
    for segment in heap["segments"]:
        for slab in segment["slabs"]:
            states[slab["state"]] = states.get(slab["state"], 0) + 1
            if slab["state"] != "used":
                continue
            size = slab["size"]
            row = per_class.setdefault(size, [0, 0, 0, 0])
            row[0] += 1
            row[1] += (slab["capacity"] - slab["uncarved"]) * size
            row[2] += slab["used"] * size
            row[3] += slab["free"] * size
    print(f"kernel: {heap['kernel']}; thread caches: {heap['thread_caches']}")
    print(f"counters: {heap['counters']}")
    print("| class | slabs | carved KiB | out KiB | free in slabs KiB |")
    print("|---:|---:|---:|---:|---:|")
    total = [0, 0, 0, 0]
    for size in sorted(per_class):
        row = per_class[size]
        total = [t + r for t, r in zip(total, row)]
        print(f"| {size} | {row[0]} | {row[1] // 1024} | {row[2] // 1024} "
              f"| {row[3] // 1024} |")
    print(f"| all | {total[0]} | {total[1] // 1024} | {total[2] // 1024} "
          f"| {total[3] // 1024} |")
    print("slabs by state: " +
          ", ".join(f"{k} {v}" for k, v in sorted(states.items())))


if __name__ == "__main__":
    main()
