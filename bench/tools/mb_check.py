#!/usr/bin/env python3
"""Check one run of a mimalloc-bench program and extract its metric.

  mb_check.py PROGRAM STDOUT_FILE THREADS

PROGRAM is the name of the run as bench/run and mimalloc-bench's bench.sh
call it (cfrac, larsonN, alloc-test1, ...). Prints two lines:

  metric=<relative time in seconds, or empty: the wall time is the metric>
  canon=<the part of the output that must be the same under every allocator>

and exits 0; or prints why the output is wrong on stderr and exits 1. The
relative times are computed as bench.sh computes them: larson prints it
("relative time: X s"), xmalloc-test prints "rtime: X", rptest's is
2000000 / (memory ops per CPU second), glibc-thread's 1e9 / iterations.
Standard library only.
"""
import re
import sys

CFRAC_N = 17545186520507317056371138836327483792789528


def bad(msg):
    print("mb_check: %s" % msg, file=sys.stderr)
    sys.exit(1)


def main():
    prog, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, errors="replace") as f:
        out = f.read()
    metric, canon = "", out
    if prog == "cfrac":
        m = re.search(r"^(\d+) = (\d+) \* (\d+)\s*$", out, re.M)
        if not m:
            bad("cfrac printed no factorisation")
        n, a, b = (int(x) for x in m.groups())
        if n != CFRAC_N or a * b != n or a < 2 or b < 2:
            bad("cfrac: wrong factorisation %s" % m.group(0))
        canon = m.group(0)
    elif prog == "espresso":
        # This copy prints no solution; it verifies its cover itself and
        # exits non-zero ("cover verification failed") when it is wrong.
        if "verification failed" in out or "not equivalent" in out:
            bad("espresso: verification failed")
    elif prog == "barnes":
        if "COMPUTETIME" not in out:
            bad("barnes did not finish (no COMPUTETIME line)")
        canon = "\n".join(l for l in out.splitlines() if "TIME" not in l and "COMPUTE" not in l)
    elif prog.startswith("larson"):
        m = re.search(r"relative time: ([0-9.]+)", out)
        if not m:
            bad("larson printed no relative time")
        metric, canon = m.group(1), ""
    elif prog.startswith("rptest"):
        m = re.search(r"\.\.\.([0-9]+) memory ops", out)
        if not m or int(m.group(1)) <= 0:
            bad("rptest printed no memory ops count")
        metric, canon = "%.6f" % (2000000 / int(m.group(1))), ""
    elif prog.startswith("xmalloc"):
        m = re.search(r"^rtime: ([0-9.]+)", out, re.M)
        if not m:
            bad("xmalloc-test printed no rtime")
        metric, canon = m.group(1), ""
    elif prog == "glibc-thread":
        m = re.match(r"\s*([0-9]+) iterations", out)
        if not m or int(m.group(1)) <= 0:
            bad("glibc-thread printed no iteration count")
        metric, canon = "%.6f" % (1e9 / int(m.group(1))), ""
    elif prog.startswith("mstress"):
        if not out.startswith("start with %d threads" % threads):
            bad("mstress: unexpected output")
    elif prog.startswith("alloc-test"):
        # Each thread sums the contents of the blocks it reads back (ctr):
        # the same under every allocator. Threads finish in any order.
        ends = sorted(re.findall(r"^about to exit thread .*$", out, re.M))
        n = 1 if prog == "alloc-test1" else threads
        done = re.search(r"^(\d+) threads made (\d+) alloc/dealloc operations", out, re.M)
        if len(ends) != n or not done or int(done.group(1)) != n:
            bad("alloc-test: expected %d finished threads" % n)
        canon = "\n".join(ends + [done.group(0)])
    # cache-thrash, cache-scratch, glibc-simple, malloc-large print nothing
    # (canon = their empty output); only their exit status tells.
    print("metric=" + metric)
    print("canon=" + canon.replace("\n", "\\n"))


if __name__ == "__main__":
    main()
