#!/usr/bin/env python3
"""check_map.py LIB PROGRAM TOOL: the heap map from a real run, drawn in a
real browser.

1. Runs PROGRAM (map_json.c) with LIB preloaded and RULLOC_MAP_FILE set:
   it prints rulloc_map_json() and then rulloc_stats_json(), taken while
   nothing changes the heap. The map must hold the same heap as the
   figures (segments, slabs in use, free and purged, per class blocks out,
   free and uncarved; per engine bucket regions, blocks and free blocks),
   every slab's blocks must add up to its capacity, every region's blocks
   must tile it from its header to its end, the threads must be on more
   than one lane, and the trim must show as purged pages in free engine
   blocks, and the big block freed after it as a cached region. The map
   file written at exit must parse too.
2. Draws the map with TOOL (tools/rulloc-map) as HTML and loads it in
   headless Chromium: with --dump-dom, the page's script counts the drawn
   slabs, regions and blocks, which must equal the JSON's; with
   --screenshot, the PNG (decoded here) must have the page's size and the
   colours of slabs in use, free and purged slabs, and engine blocks in
   use and free.
"""
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

lib, program, tool = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp(prefix="rulloc-map-")


def fail(what):
    sys.exit(f"FAIL: {what} (files in {tmp})")


def check(condition, what):
    if not condition:
        fail(what)


# --- 1. the map from a real run --------------------------------------------
run = subprocess.run(
    [program], capture_output=True, text=True, timeout=60,
    env={**os.environ, "LD_PRELOAD": lib,
         "RULLOC_MAP_FILE": os.path.join(tmp, "exit.%p.json"),
         # No purge round between the two documents.
         "RULLOC_PURGE_DELAY_MS": "86400000"})
check(run.returncode == 0,
      f"{program} exited {run.returncode}: {run.stderr[-2000:]}")
lines = [line for line in run.stdout.splitlines() if line.strip()]
check(len(lines) == 2, f"two documents, got {len(lines)}")
snapshot, stats = json.loads(lines[0]), json.loads(lines[1])
with open(os.path.join(tmp, "map.json"), "w") as f:
    f.write(lines[0])
check(snapshot["format"] == "rulloc-map" and snapshot["version"] == 1,
      f"format: {snapshot.get('format')} {snapshot.get('version')}")
exit_maps = glob.glob(os.path.join(tmp, "exit.*.json"))
check(len(exit_maps) == 1, f"one map file at exit: {exit_maps}")
with open(exit_maps[0]) as f:
    at_exit = json.load(f)
check(at_exit["pid"] == snapshot["pid"] and
      exit_maps[0].endswith(f"exit.{snapshot['pid']}.json"),
      "%p in RULLOC_MAP_FILE is the process id")

per = snapshot["slabs_per_segment"]
sizes = snapshot["class_sizes"]
states = {"used": 0, "free": 0, "purged": 0}
classes = {}
lanes_used = set()
for segment in snapshot["segments"]:
    check(segment["state"] == "seen", f"segment seen: {segment['address']}")
    check([s["index"] for s in segment["slabs"]] == list(range(1, per)),
          "every slab of a segment, in order")
    for slab in segment["slabs"]:
        check(slab["state"] in states, f"slab state: {slab}")
        states[slab["state"]] += 1
        if slab["state"] != "used":
            continue
        check(slab["used"] + slab["free"] + slab["uncarved"] ==
              slab["capacity"], f"blocks add up to the capacity: {slab}")
        check(sizes[slab["class"]] == slab["size"], f"class size: {slab}")
        c = classes.setdefault(slab["size"], [0, 0, 0, 0])
        for i, key in enumerate(("used", "free", "uncarved")):
            c[i + 1] += slab[key]
        c[0] += 1
        lanes_used.add(slab["lane"])

seg = stats["segments"]
check(len(snapshot["segments"]) == seg["count"],
      f"segments: map {len(snapshot['segments'])}, stats {seg['count']}")
check(states["used"] == seg["slabs_in_use"],
      f"slabs in use: map {states['used']}, stats {seg['slabs_in_use']}")
check(states["free"] + states["purged"] ==
      seg["slabs_free_with_pages"] + seg["slabs_free_purged"],
      f"free slabs: map {states}, stats {seg}")
check(states["purged"] > 0, f"the trim purged free slabs: {states}")
want = {c["size"]: [c["slabs"], c["blocks_out"], c["blocks_free"],
                    c["blocks_uncarved"]] for c in stats["classes"]}
check(classes == want, f"per class: map {classes}, stats {want}")
check(len(lanes_used) >= 2, f"slabs of several lanes: {lanes_used}")
threads = sum(lane["threads"] for lane in snapshot["lanes"])
check(threads == snapshot["thread_caches"]["threads"] and threads >= 4,
      f"4 threads on the lanes: {snapshot['lanes']}")

fields = snapshot["engine"]["block_fields"]
check(fields == ["offset", "bytes", "free", "purged"], f"fields {fields}")
buckets = snapshot["engine"]["buckets"]
check(len(buckets) == len(stats["buckets"]), "one entry per bucket")
blocks_drawn = {"block-used": 0, "block-free": 0, "block-cached": 0}
purged_in_free = 0
for bucket, figures in zip(buckets, stats["buckets"]):
    check(bucket["state"] == "seen" and bucket["limit"] == figures["limit"],
          f"bucket {bucket['index']}: {bucket['limit']}")
    regions = bucket["regions"]
    check(len(regions) == figures["regions"],
          f"bucket {bucket['index']}: regions {len(regions)} vs {figures}")
    blocks = free = 0
    for region in regions:
        cached = region.get("state") == "cached"
        at = region["header"]
        for offset, size, is_free, purged in region["blocks"]:
            check(offset == at, f"blocks tile region {region['address']}")
            check(0 <= purged <= size and (is_free or purged == 0),
                  f"purged bytes of a block: {region}")
            at += size
            kind = "block-cached" if cached else (
                "block-free" if is_free else "block-used")
            blocks_drawn[kind] += 1
            if is_free and not cached:
                purged_in_free += purged
        check(at == region["bytes"], f"blocks fill region {region}")
        blocks += 1 if cached else len(region["blocks"])
        free += 1 if cached else sum(b[2] for b in region["blocks"])
    check(blocks == figures["blocks"] and free == figures["free_blocks"],
          f"bucket {bucket['index']}: blocks {blocks} free {free} vs "
          f"{figures}")
check(blocks_drawn["block-used"] >= 12 and blocks_drawn["block-free"] >= 1
      and blocks_drawn["block-cached"] == 1,
      f"engine blocks: {blocks_drawn}")
check(purged_in_free >= 1 << 20,
      f"the trim purged pages of free engine blocks: {purged_in_free}")
check(stats["resident"]["purged_in_engine"] >= purged_in_free // 2,
      f"the figures count them too: {stats['resident']}")

# --- 2. drawn in a browser -------------------------------------------------
page = os.path.join(tmp, "map.html")
drawing = subprocess.run([sys.executable, tool, os.path.join(tmp, "map.json"),
                          "-o", page], capture_output=True, text=True,
                         timeout=60)
check(drawing.returncode == 0, f"rulloc-map failed: {drawing.stderr}")
with open(page) as f:
    html_text = f.read()
size = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', html_text)
check(size is not None, "the page holds an SVG with its size")
width, height = int(size.group(1)), int(size.group(2))

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
check(chromium is not None,
      "no chromium on PATH (.ci/dropin-deps installs Debian's chromium)")


def browser(*args):
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         "--hide-scrollbars", f"--user-data-dir={profile}", *args,
         "file://" + page], capture_output=True, text=True, timeout=90)
    check(result.returncode == 0,
          f"chromium {args} exited {result.returncode}: "
          f"{result.stderr[-2000:]}")
    return result.stdout


dom = browser("--dump-dom")
found = re.search(r'<pre id="drawn">(.*?)</pre>', dom, re.S)
check(found and found.group(1).strip(), "the page's script ran")
drawn = json.loads(found.group(1))
expected = {
    "segment": 0, "header": len(snapshot["segments"]),
    "slab-used": states["used"], "slab-free": states["free"],
    "slab-purged": states["purged"],
    "region": sum(1 for b in buckets for r in b["regions"]
                  if r.get("state") != "cached"),
    "region-cached": sum(1 for b in buckets for r in b["regions"]
                         if r.get("state") == "cached"),
    **blocks_drawn}
for kind, count in expected.items():
    if kind == "segment":
        continue
    check(drawn.get(kind, 0) == count,
          f"drawn {kind}: {drawn.get(kind, 0)}, in the map {count} "
          f"(all drawn: {drawn})")
check(drawn.get("svg-width") == width, f"drawn width {drawn}")

shot = os.path.join(tmp, "map.png")
browser(f"--screenshot={shot}", f"--window-size={width},{height}")


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    w, h, depth, colour, _, _, interlace = header
    check(depth == 8 and colour in (2, 6) and interlace == 0,
          f"an 8-bit RGB(A) PNG: {header}")
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * step
    rows, previous = [], bytearray(stride)
    for y in range(h):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            left = row[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else (
                    up if pb <= pc else corner)
                row[i] = (row[i] + guess) & 255
        rows.append(bytes(row))
        previous = row
    pixels = {}
    for row in rows:
        for i in range(0, stride, step):
            rgb = row[i:i + 3]
            pixels[rgb] = pixels.get(rgb, 0) + 1
    return w, h, pixels


w, h, pixels = read_png(shot)
check((w, h) == (width, height), f"screenshot {w}x{h}, page {width}x{height}")
white = pixels.get(b"\xff\xff\xff", 0)
check(white < 0.97 * w * h, f"the screenshot is not blank: {white} white "
      f"of {w * h} pixels")


def colour_of(hex_colour):
    return bytes.fromhex(hex_colour.lstrip("#"))


spec = {"__name__": "rulloc_map"}  # the tool's colours, not its main()
exec(compile(open(tool).read(), tool, "exec"), spec)
used_class = next(s for seg in snapshot["segments"] for s in seg["slabs"]
                  if s["state"] == "used" and s["used"] * 3 > s["capacity"])
want_colours = {
    "a slab in use (its class's colour)":
        spec["class_colours"](used_class["class"], len(sizes))[0],
    "a free slab with its pages": spec["FREE_SLAB"],
    "the segment header": spec["HEADER_COLOUR"],
    "an engine block in use": spec["USED_BLOCK"][0],
    "a free engine block": spec["FREE_BLOCK"],
}
if states["free"] == 0:
    del want_colours["a free slab with its pages"]
for what, colour in want_colours.items():
    count = pixels.get(colour_of(colour), 0)
    check(count >= 50, f"{what} ({colour}) drawn: {count} pixels")
print(f"PASS: map of {len(snapshot['segments'])} segments ({states}), "
      f"{sum(blocks_drawn.values())} engine blocks; drawn in chromium: "
      f"{drawn}; screenshot {w}x{h}, {len(pixels)} colours")
shutil.rmtree(tmp)
