#!/usr/bin/env python3
"""check_stats_json.py LIB PROGRAM: runs PROGRAM (stats_json.c) with LIB
preloaded and RULLOC_SHOW_STATS=json; parses each rulloc_stats_json()
document with python's json module and checks that the figures follow the
program (100 MiB held, then freed, then trimmed) and that the resident
account adds up and explains the kernel's figure within 4 MiB each time,
also once the trim purged the free engine blocks' pages (an account that
counts them as resident is off by tens of MiB there); the document printed
at exit on stderr must parse too."""
import json
import os
import subprocess
import sys

lib, program = sys.argv[1], sys.argv[2]
run = subprocess.run([program], env={**os.environ, "LD_PRELOAD": lib,
                                     "RULLOC_SHOW_STATS": "json"},
                     capture_output=True, text=True, timeout=60)
if run.returncode != 0:
    sys.exit(f"FAIL: {program} exited {run.returncode}: {run.stderr}")


def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")


docs = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
check(len(docs) == 4, f"four documents, got {len(docs)}")
start, held, freed, trimmed = docs
MB = 1 << 20
for d in docs:
    for key in ("counters", "segments", "classes", "lanes", "buckets",
                "resident"):
        check(key in d, f"{key} in {sorted(d)}")
    r = d["resident"]
    for key in ("in_use", "thread_caches", "free_in_slabs", "free_in_engine",
                "metadata", "purged", "explained", "kernel_resident",
                "kernel_anonymous", "unexplained"):
        check(isinstance(r.get(key), int), f"resident.{key} is a number: {r}")
    parts = (r["in_use"] + r["thread_caches"] + r["free_in_slabs"] +
             r["free_slabs_with_pages"] + r["free_in_engine"] + r["metadata"])
    check(parts == r["explained"], f"explained is the sum of its parts: {r}")
    check(r["kernel_anonymous"] - r["explained"] == r["unexplained"],
          f"unexplained = anonymous - explained: {r}")
    check(sum(m for m in r["metadata_parts"].values()) == r["metadata"],
          f"metadata is the sum of its parts: {r}")
    check(r["purged"] == r["purged_slabs"] + r["purged_in_engine"],
          f"purged is the sum of its parts: {r}")

h = held["resident"]
check(held["counters"]["bytes_in_use"] >= 100 * 10**6,
      f"counters follow: {held['counters']}")
check(h["in_use"] >= 100 * 10**6, f"100 MB in use while held: {h}")
check(h["in_use_small"] >= 50 * 10**6, f"the small blocks in slabs: {h}")
check(h["in_use_engine"] >= 50 * MB, f"the big blocks in the engine: {h}")
check(h["kernel_resident"] >= 100 * 10**6, f"the kernel sees them: {h}")
# Every page in use was written: the heap's account explains nearly all of
# the anonymous resident memory (the rest: stacks, libc, the program),
# while the blocks are held (the untouched tail of a big region is not
# counted), once they are freed, and once the trim purged their pages.
for name, d in (("held", held), ("freed", freed), ("trimmed", trimmed)):
    check(abs(d["resident"]["unexplained"]) < 4 * MB,
          f"{name}: little left unexplained: {d['resident']}")
t = trimmed["resident"]
check(t["purged_in_engine"] >= 16 * MB,
      f"the trim purged the free engine blocks' pages: {t}")
check(t["free_in_engine"] < 4 * MB, f"and they count no more: {t}")
classes = {c["size"]: c for c in held["classes"]}
check(1008 in classes or 1024 in classes, f"the 1000 B class: {classes}")
check(freed["counters"]["bytes_in_use"] < start["counters"]["bytes_in_use"]
      + 8 * MB, f"counters back down: {freed['counters']}")
check(freed["resident"]["in_use"] < 8 * MB, f"in use back down: {freed}")
check(held["segments"]["slabs_in_use"] > freed["segments"]["slabs_in_use"],
      "slabs given back")

exit_doc = [line for line in run.stderr.splitlines() if line.startswith("{")]
check(len(exit_doc) == 1, f"one JSON document at exit: {run.stderr}")
check("resident" in json.loads(exit_doc[0]), "the exit document's account")
print(f"PASS: held {h['in_use'] // MB} MiB, explained {h['explained'] // MB}"
      f" MiB of {h['kernel_anonymous'] // MB} MiB anonymous resident")
