"""A threaded Python workload whose printed result is deterministic: threads
build dicts, strings, lists and sets, pass objects to each other through
queues (so objects die in threads other than their creators'), and each
prints a digest of what it computed. Which thread takes a message, and when,
depends on timing: every message's content is hashed where it ends up (by a
thread, or by main when it was left in a queue), and main prints how many
arrived and one digest of all of them in a fixed order."""
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


def message_digest(message):
    """What a message holds, hashed: its sender and round, and every byte."""
    sender, rr, arrays, mapping = message
    h = hashlib.sha256(b"%d:%d:" % (sender, rr))
    for a in arrays:
        h.update(bytes(a) + b",")
    h.update(repr(sorted(mapping.items())).encode())
    return (sender, rr, h.hexdigest())


def work(tid, inbox, outboxes, results, arrived):
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
                message = inbox.get_nowait()
            except queue.Empty:
                break
            arrived.append(message_digest(message))
        assert back["r"] == r
    ordered = OrderedDict(sorted(table.items())[:1000])
    results[tid] = (len(table), sum(words.values()), sum(history),
                    len(ordered), len(nested), len(words), digest.hexdigest())


def main():
    inboxes = [queue.Queue() for _ in range(THREADS)]
    results = {}
    arrived = [[] for _ in range(THREADS)]
    threads = [threading.Thread(target=work,
                                args=(t, inboxes[t], inboxes, results, arrived[t]))
               for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tid in sorted(results):
        print("thread", tid, *results[tid])
    # What no thread took is still in the queues: main hashes it, so every
    # message sent is counted and hashed once, wherever it went.
    messages = [m for taken in arrived for m in taken]
    for q in inboxes:
        while not q.empty():
            messages.append(message_digest(q.get_nowait()))
    h = hashlib.sha256()
    for sender, rr, d in sorted(messages):
        h.update(b"%d:%d:%s\n" % (sender, rr, d.encode()))
    print("messages sent", THREADS * ROUNDS, "arrived", len(messages),
          "distinct", len({(m[0], m[1]) for m in messages}))
    print("messages digest", h.hexdigest())
    # one more deterministic digest, single threaded
    h = hashlib.sha256()
    data = {i: ("v" * (i % 100), list(range(i % 50))) for i in range(20000)}
    for k in sorted(data, key=lambda k: (len(data[k][0]), -k)):
        h.update(repr((k, data[k])).encode())
    print("digest", h.hexdigest())


if __name__ == "__main__":
    main()
