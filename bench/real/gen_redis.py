"""Generate the verification commands of the redis workload.

After redis-benchmark has run, the driver empties the database and sends
these commands through redis-cli. Their replies are deterministic (no hash
iteration order is printed), so they must be byte-identical under every
allocator. Usage: gen_redis.py [SCALE] > commands.txt
"""
import random
import sys


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = max(200, int(3000 * scale))
    rng = random.Random(2718)
    out = []
    for i in range(n):
        out.append("SET str:%d %s" % (i, "v%d-" % i + "x" * rng.randrange(1, 300)))
        out.append("APPEND str:%d -%d" % (rng.randrange(i + 1), rng.randrange(1000)))
        out.append("RPUSH list:%d %s" % (i % 50, "e%d" % rng.randrange(100000)))
        out.append("HSET hash:%d f%d %s" % (i % 40, rng.randrange(200), "h" * rng.randrange(1, 90)))
        out.append("ZADD zset:%d %d m%d" % (i % 30, rng.randrange(100000), i))
        out.append("SADD set:%d s%d" % (i % 20, rng.randrange(5000)))
        if i % 7 == 0:
            out.append("DEL str:%d" % rng.randrange(i + 1))
        if i % 5 == 0:
            out.append("LPOP list:%d" % rng.randrange(50))
    for i in range(0, n, max(1, n // 200)):
        out.append("STRLEN str:%d" % i)
        out.append("GETRANGE str:%d 0 40" % i)
    for k in range(50):
        out.append("LLEN list:%d" % k)
        out.append("LRANGE list:%d 0 20" % k)
    for k in range(40):
        out.append("HLEN hash:%d" % k)
        out.append("HSTRLEN hash:%d f%d" % (k, k))
    for k in range(30):
        out.append("ZCARD zset:%d" % k)
        out.append("ZRANGE zset:%d 0 10 WITHSCORES" % k)
    for k in range(20):
        out.append("SCARD set:%d" % k)
        out.append("SISMEMBER set:%d s%d" % (k, k * 17))
    out.append("DBSIZE")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
