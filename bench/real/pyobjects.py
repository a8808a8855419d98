"""Python workload for the rulloc benchmark suite.

Allocates many objects as Python programs do: dicts (records), strings built
and joined, lists and tuples, small class instances, a JSON round trip, and
sorting. Python's own small-object allocator (pymalloc) serves blocks up to
512 bytes from 256 KiB arenas that it gets with mmap; larger blocks, dict and
list storage that grows and all big strings come from malloc. So this
measures the allocator as a real interpreter uses it.

Deterministic: a fixed seed, no set iteration printed. Prints one line with a
CRC of the results; it must be the same under every allocator.
Usage: pyobjects.py [SCALE]
"""
import json
import random
import sys
import zlib


class Node:
    __slots__ = ("key", "value", "children")

    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.children = []


def build_tree(rng, n):
    nodes = [Node(i, "v%d" % rng.randrange(1 << 30)) for i in range(n)]
    for i in range(1, n):
        nodes[rng.randrange(i)].children.append(nodes[i])
    return nodes[0]


def tree_sum(root):
    total, stack = 0, [root]
    while stack:
        node = stack.pop()
        total = (total * 31 + node.key + len(node.value)) & 0xFFFFFFFF
        stack.extend(node.children)
    return total


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(12345)
    crc = 0
    rounds = 2

    def n(count):
        return max(100, int(count * scale))

    for r in range(rounds):
        # Records as dicts, grouped and aggregated.
        records = []
        for i in range(n(30000)):
            records.append({
                "id": i,
                "name": "user%06d" % rng.randrange(1000000),
                "tags": [rng.choice("abcdefgh") * rng.randrange(1, 12) for _ in range(rng.randrange(0, 5))],
                "score": rng.random(),
                "payload": "x" * rng.randrange(0, 600),
            })
        groups = {}
        for rec in records:
            groups.setdefault(rec["name"][-2:], []).append(rec["id"])
        crc = zlib.crc32(repr(sorted((k, len(v)) for k, v in groups.items())).encode(), crc)

        # Strings: build, split, join, replace.
        text = " ".join("%s:%d" % (rec["name"], len(rec["payload"])) for rec in records)
        words = text.split(" ")
        words.sort()
        joined = "|".join(words[::7]).replace("user", "u")
        crc = zlib.crc32(joined.encode(), crc)

        # JSON round trip of part of the data.
        blob = json.dumps(records[: n(6000)], sort_keys=True)
        back = json.loads(blob)
        crc = zlib.crc32(str(len(blob)).encode(), crc)
        crc = zlib.crc32(repr([b["id"] for b in back[::97]]).encode(), crc)

        # Object graph with instances, then sorting tuples.
        root = build_tree(rng, n(25000))
        crc = zlib.crc32(str(tree_sum(root)).encode(), crc)
        tuples = sorted((rng.randrange(1000), str(i), i * 0.5) for i in range(n(50000)))
        crc = zlib.crc32(repr(tuples[::1001]).encode(), crc)

        # Dict churn: insert and delete with growing and shrinking tables.
        d = {}
        for i in range(n(80000)):
            d["k%d" % rng.randrange(50000)] = [i] * rng.randrange(1, 8)
            if i % 3 == 0:
                d.pop("k%d" % rng.randrange(50000), None)
        crc = zlib.crc32(str(len(d)).encode(), crc)
        del records, groups, text, words, joined, blob, back, root, tuples, d
    print("python checksum=%08x rounds=%d" % (crc, rounds))


if __name__ == "__main__":
    main()
