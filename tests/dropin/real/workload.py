"""A threaded Python workload whose printed result is deterministic: threads
build dicts, strings, lists and sets, pass objects to each other through
queues (so objects die in threads other than their creators'), and each
reports a digest of what it computed."""
import hashlib
import json
import queue
import re
import sys
import threading
from collections import Counter, OrderedDict, defaultdict, deque

THREADS = 8
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40


def lcg(seed):
    while True:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield seed >> 33


def work(tid, inbox, outboxes, results):
    rand = lcg(tid + 1)
    digest = hashlib.sha256()
    table = {}
    words = Counter()
    history = deque(maxlen=500)
    nested = defaultdict(list)
    for r in range(ROUNDS):
        # dicts and strings of many sizes
        for i in range(400):
            n = next(rand)
            key = "k%d-%d-%s" % (tid, n % 5000, "x" * (n % 37))
            table[key] = [n, str(n) * (n % 7), {"n": n, "t": tid}]
            if n % 3 == 0:
                table.pop(key, None)
        text = " ".join("w%d" % (next(rand) % 300) for _ in range(800))
        words.update(text.split())
        found = re.findall(r"w(\d)\d\b", text)
        history.append(len(found))
        big = [next(rand) % 100000 for _ in range(3000)]
        big.sort()
        s = set(big[::3]) ^ set(big[1::5])
        nested[r % 13].append(sorted(s)[:50])
        blob = json.dumps({"r": r, "list": big[:200], "words": words.most_common(5)})
        back = json.loads(blob)
        digest.update(blob.encode())
        digest.update(repr(sorted(s)[:100]).encode())
        big_int = 1
        for v in big[:300]:
            big_int = big_int * (v + 1) % (1 << 4096)
        digest.update(str(big_int).encode())
        # hand objects to another thread; consume what others sent
        target = outboxes[(tid + 1 + r) % THREADS]
        target.put((tid, r, [bytearray(b"%d" % v) * 3 for v in big[:100]],
                    {str(v): v for v in big[:100]}))
        while True:
            try:
                sender, rr, arrays, mapping = inbox.get_nowait()
            except queue.Empty:
                break
            digest.update(b"%d:%d:%d" % (sender, rr, sum(len(a) for a in arrays)))
            digest.update(str(sum(mapping.values())).encode())
        assert back["r"] == r
    ordered = OrderedDict(sorted(table.items())[:1000])
    results[tid] = (len(table), sum(words.values()), sum(history),
                    len(ordered), len(nested), len(words))


def main():
    inboxes = [queue.Queue() for _ in range(THREADS)]
    results = {}
    threads = [threading.Thread(target=work, args=(t, inboxes[t], inboxes, results))
               for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    leftover = sum(q.qsize() for q in inboxes)
    for tid in sorted(results):
        print("thread", tid, *results[tid])
    print("messages left in queues:", leftover >= 0)
    # one more deterministic digest, single threaded
    h = hashlib.sha256()
    data = {i: ("v" * (i % 100), list(range(i % 50))) for i in range(20000)}
    for k in sorted(data, key=lambda k: (len(data[k][0]), -k)):
        h.update(repr((k, data[k])).encode())
    print("digest", h.hexdigest())


if __name__ == "__main__":
    main()
