"""Generate the input of the xz workload: SCALE * 4 MiB of mixed data.

Runs of log-like text lines (words, numbers, timestamps), of structured
binary records (little-endian integers that change slowly) and a little of
incompressible noise, interleaved, from a fixed seed: xz finds long and
short matches and literals alike. Usage: gen_xz.py [SCALE] > data
"""
import random
import struct
import sys

WORDS = ("GET POST PUT /index /api/v1/items /static/app.js 200 301 404 500 user "
         "session token cache miss hit alloc free block region heap page").split()


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    total = max(1 << 20, int((4 << 20) * scale))
    rng = random.Random(31415)
    out = sys.stdout.buffer
    n, t = 0, 1700000000
    while n < total:
        kind = rng.random()
        if kind < 0.6:
            parts = []
            for _ in range(rng.randrange(50, 400)):
                t += rng.randrange(3)
                parts.append("%d %s %s %d %s\n" % (t, rng.choice(WORDS), rng.choice(WORDS),
                                                  rng.randrange(100000), rng.choice(WORDS)))
            chunk = "".join(parts).encode()
        elif kind < 0.95:
            base = rng.randrange(1 << 30)
            chunk = b"".join(struct.pack("<IIHH", base + i * 16, rng.randrange(1000),
                                         i & 0xFFFF, rng.randrange(8)) for i in range(rng.randrange(200, 2000)))
        else:
            chunk = rng.randbytes(rng.randrange(1000, 20000))
        out.write(chunk)
        n += len(chunk)


if __name__ == "__main__":
    main()
