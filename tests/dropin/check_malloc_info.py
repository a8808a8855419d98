#!/usr/bin/env python3
"""check_malloc_info.py LIB PROGRAM: runs `PROGRAM xml` with LIB preloaded,
which prints malloc_info(0, stdout) while it holds 100 MiB and again after
freeing them; parses both documents with an XML parser and checks glibc's
shape and that the figures follow the program."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

lib, program = sys.argv[1], sys.argv[2]
run = subprocess.run([program, "xml"], env={**os.environ, "LD_PRELOAD": lib},
                     capture_output=True, text=True, timeout=60)
if run.returncode != 0:
    sys.exit(f"FAIL: {program} xml exited {run.returncode}: {run.stderr}")
documents = [d + "</malloc>" for d in run.stdout.split("</malloc>")[:-1]]
if len(documents) != 2:
    sys.exit(f"FAIL: expected two <malloc> documents, got {len(documents)}")
held, freed = (ET.fromstring(d.strip()) for d in documents)

def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")

for doc in (held, freed):
    check(doc.tag == "malloc" and doc.get("version", "").startswith("rulloc"),
          "root is <malloc version=rulloc-...>")
    heap = doc.find("heap")
    check(heap is not None and heap.get("nr") == "0", "one <heap nr=0>")
    check(heap.find("sizes") is not None, "<heap> has <sizes>")
    types = {t.get("type") for t in doc.findall("total")}
    check({"fast", "rest", "mmap"} <= types, f"totals fast/rest/mmap: {types}")
    check(doc.find("system[@type='current']") is not None, "<system current>")
    check(doc.find("aspace[@type='total']") is not None, "<aspace total>")
    check(len(doc.findall("rulloc/bucket")) >= 2, "rulloc's <bucket> list")

def in_use(doc):
    return int(doc.find("rulloc").get("in_use"))

def system(doc):
    return int(doc.find("system[@type='current']").get("size"))

mib = 1 << 20
check(in_use(held) >= 100 * mib, f"in_use while held: {in_use(held)}")
check(in_use(held) - in_use(freed) >= 99 * mib,
      f"in_use after the frees: {in_use(freed)}")
check(system(held) >= in_use(held), "system current covers what is in use")
print(f"PASS: in_use {in_use(held) // mib} MiB -> {in_use(freed) // mib} MiB,"
      f" system {system(held) // mib} MiB")
