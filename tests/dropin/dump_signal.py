#!/usr/bin/env python3
"""dump_signal.py LIB PROGRAM [COUNT]: runs PROGRAM (dump_signal.c) with LIB
preloaded and RULLOC_DUMP_SIGNAL=SIGUSR2, sends the signal COUNT times
(default 100) while its threads allocate, and reads each dump from its
stderr before the next: every one must come within 10 s (no deadlock) and
have its sections (heap, counters, segments with slabs, lanes, thread
caches, engine buckets, end; slab lines in at least half of them, as a
part whose lock is held is drawn "busy"). With RULLOC_MAP_FILE set, each
signal also writes the map (tools/rulloc-map's input) to a file of its own
(%n): every one must be whole JSON with segments and buckets, however busy.
Then the program must end normally."""
import os
import select
import signal
import glob
import json
import shutil
import subprocess
import sys
import tempfile
import time

lib, program = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
maps = tempfile.mkdtemp(prefix="rulloc-signal-maps-")
env = {**os.environ, "LD_PRELOAD": lib, "RULLOC_DUMP_SIGNAL": "SIGUSR2",
       "RULLOC_MAP_FILE": os.path.join(maps, "map.%n.json")}
proc = subprocess.Popen([program], env=env, stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def fail(what):
    proc.kill()
    sys.exit(f"FAIL: {what}")


if proc.stdout.readline().strip() != b"ready":
    fail("the program did not start")
err = proc.stderr.fileno()
pending = b""
busy = 0
with_slabs = 0
for n in range(count):
    os.kill(proc.pid, signal.SIGUSR2)
    deadline = time.monotonic() + 10
    while b"end of rulloc heap\n" not in pending:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([err], [], [], left)[0]:
            fail(f"dump {n + 1} of {count}: none within 10 s (deadlock?); "
                 f"got so far:\n{pending.decode(errors='replace')[-2000:]}")
        chunk = os.read(err, 1 << 16)
        if not chunk:
            fail(f"dump {n + 1}: the program's stderr closed (it died?)")
        pending += chunk
    dump, _, pending = pending.partition(b"end of rulloc heap\n")
    text = dump.decode()
    start = text.find("rulloc heap")
    if start < 0:
        fail(f"dump {n + 1}: no 'rulloc heap' title:\n{text}")
    text = text[start:]
    # A part whose lock the interrupted thread holds is drawn as busy
    # (all slabs, when it is the segments' lock): slabs are drawn in most
    # dumps, not necessarily in each.
    with_slabs += "\n  slab " in text
    for section in ("\ncounters: ", "\nsegments: ", "\nsegment 0x",
                    "\nlanes:\n", "\n  lane 0: ",
                    "\nthread caches and outboxes: ", "\nengine:\n",
                    "\nbucket limit 262144: ", "\nbucket limit dynamic: "):
        if section not in text:
            fail(f"dump {n + 1}: no {section.strip()!r} section:\n{text}")
    busy += text.count("busy")
if with_slabs < count // 2:
    fail(f"slabs drawn in only {with_slabs} of {count} dumps")
try:
    out, rest = proc.communicate(input=b"", timeout=20)
except subprocess.TimeoutExpired:
    fail("the program did not end after the dumps")
if proc.returncode != 0 or b"done" not in out:
    fail(f"exit status {proc.returncode}, stdout {out!r}, stderr {rest!r}")
# One map per signal, then one at exit.
files = glob.glob(os.path.join(maps, "map.*.json"))
if len(files) != count + 1:
    fail(f"{len(files)} map files for {count} signals and the exit")
busy_maps = 0
for name in files:
    with open(name) as f:
        text = f.read()
    try:
        snapshot = json.loads(text)
    except ValueError as e:
        fail(f"{name} is not whole JSON ({e}): {text[-300:]!r}")
    if snapshot.get("format") != "rulloc-map" or \
            not snapshot.get("segments") or not snapshot["engine"]["buckets"]:
        fail(f"{name}: not a map of the heap: {text[:300]!r}")
    busy_maps += '"busy"' in text
shutil.rmtree(maps)
print(f"PASS: {count} dumps on SIGUSR2 from a running 4-thread program "
      f"(slabs drawn in {with_slabs}, {busy} parts drawn busy), "
      f"{len(files)} map files ({busy_maps} with busy parts)")
