"""Generate the history of the git workload as a git fast-import stream.

A repository of 60 source-like text files and SCALE * 400 commits; each
commit edits a few files (inserts, deletes and changes lines, sometimes adds
a file or removes one). Authors, dates and contents come from a fixed seed,
so every commit id is the same on every run and machine.
Usage: gen_git.py [SCALE] > history.fi
"""
import random
import sys

WORDS = ("alloc free block page size heap arena slab cache thread lock list node "
         "tree map key value index count offset buffer region chunk bucket class "
         "small large huge purge trim reuse split merge align guard check").split()


def line(rng):
    n = rng.randrange(3, 14)
    ind = "    " * rng.randrange(0, 4)
    return ind + " ".join(rng.choice(WORDS) for _ in range(n)) + (" %d;" % rng.randrange(100000))


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    commits = max(40, int(400 * scale))
    rng = random.Random(1618)
    files = {}
    for i in range(60):
        files["src/f%02d/file%03d.c" % (i % 8, i)] = [line(rng) for _ in range(rng.randrange(80, 400))]
    out = sys.stdout.buffer
    t0 = 1700000000
    for c in range(commits):
        names = sorted(files)
        changed, deleted = set(names) if c == 0 else set(), []
        if c > 0:
            for name in rng.sample(names, rng.randrange(1, 6)):
                changed.add(name)
                lines = files[name]
                for _ in range(rng.randrange(1, 30)):
                    op = rng.random()
                    pos = rng.randrange(len(lines) + 1)
                    if op < 0.5 or len(lines) < 20:
                        lines.insert(pos, line(rng))
                    elif op < 0.8:
                        del lines[min(pos, len(lines) - 1)]
                    else:
                        lines[min(pos, len(lines) - 1)] = line(rng)
            if rng.random() < 0.05:
                files["src/new/file%04d.c" % c] = [line(rng) for _ in range(rng.randrange(20, 200))]
                changed.add("src/new/file%04d.c" % c)
            if rng.random() < 0.02 and len(files) > 30:
                gone = rng.choice(sorted(files))
                del files[gone]
                changed.discard(gone)
                deleted.append(gone)
        who = "dev%d" % rng.randrange(7)
        date = t0 + c * 3600 + rng.randrange(3600)
        msg = ("commit %d: %s %s\n" % (c, rng.choice(WORDS), rng.choice(WORDS))).encode()
        out.write(b"commit refs/heads/main\n")
        out.write(("author %s <%s@example.org> %d +0000\n" % (who, who, date)).encode())
        out.write(("committer %s <%s@example.org> %d +0000\n" % (who, who, date)).encode())
        out.write(b"data %d\n%s" % (len(msg), msg))
        for name in deleted:
            out.write(("D %s\n" % name).encode())
        for name in sorted(changed):
            body = ("\n".join(files[name]) + "\n").encode()
            out.write(("M 100644 inline %s\n" % name).encode())
            out.write(b"data %d\n%s\n" % (len(body), body))
        out.write(b"\n")


if __name__ == "__main__":
    main()
