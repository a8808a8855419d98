#!/usr/bin/env python3
"""check_options.py CASE [--lib LIB] [--probe PROGRAM] [--table PROGRAM]
[--readme README.md]: the options of the process heap (src/heap/options.hpp).

  effect NAME WAY   the option NAME set through WAY (options: RULLOC_OPTIONS,
                    variable: RULLOC_<NAME>) has its effect, seen by the probe
                    (options.c, LIB preloaded); WAY default: not set, the
                    probe sees the default's effect instead, so each check
                    can fail
  mallopt NAME      mallopt's parameter for NAME has the option's effect
  precedence        RULLOC_<NAME> wins over RULLOC_OPTIONS, either way round
  bad NAME          a bad setting is named on stderr (the exact line) and
                    ignored
  readme            README.md's options table is the one the table prints
  secure            a set-uid copy of the probe (linked with
                    librulloc-malloc.a) ignores the environment; the same
                    copy without the set-uid bit does not (run as root)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

MiB = 1 << 20
args = None


def fail(what):
    sys.exit(f"FAIL: {what}")


def check(condition, what):
    if not condition:
        fail(what)


def run(probe_args, env, program=None, preload=True):
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("RULLOC_")}
    if preload:
        environment["LD_PRELOAD"] = args.lib
    environment.update(env)
    command = [program or args.probe] + probe_args
    done = subprocess.run(command, env=environment, capture_output=True,
                          text=True, timeout=60)
    shown = " ".join(f"{k}={v}" for k, v in env.items())
    print(f"--- {shown} {' '.join(command)}: exit status {done.returncode}")
    print(f"--- stdout:\n{done.stdout}--- stderr:\n{done.stderr}", end="")
    check(done.returncode == 0, f"exit status {done.returncode}")
    return done


def documents(done):
    return [json.loads(line) for line in done.stdout.splitlines()
            if line.startswith("{")]


def cached(done):
    return sum(b["cached"] for b in documents(done)[-1]["buckets"])


def option_names():
    table = subprocess.run([args.table], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    rows = [line for line in table.splitlines()[2:] if line.startswith("| `")]
    return [row.split("`")[1] for row in rows]


def lanes_used(done):
    return sum(1 for lane in documents(done)[-1]["lanes"] if lane["threads"])


def dynamic_bucket(done):
    return [b for b in documents(done)[-1]["buckets"]
            if b["limit"] == "dynamic"][0]


# Per option: the value set, what the probe does, and the check of its
# effect (True: the value set, False: the default). `extra` is set in every
# run, defaults included.
def stats_check(done, is_set):
    lines = done.stderr.splitlines()
    json_lines = [l for l in lines if l.startswith("{")]
    if not is_set:
        check(not json_lines and "rulloc: allocations" not in done.stderr,
              "no statistics by default")
        return
    check(len(json_lines) == 1, "one JSON document on stderr at exit")
    check("counters" in json.loads(json_lines[0]), "the figures as JSON")


def verbose_check(done, is_set):
    lines = [l for l in done.stderr.splitlines()
             if l.startswith("rulloc: option ")]
    if not is_set:
        check(not lines, "no option printed by default")
        return
    printed = [l[len("rulloc: option "):].split("=")[0] for l in lines]
    check(printed == option_names(),
          f"one line per option, in the table's order: {printed}")


def check_at_exit_check(done, is_set):
    sound = "rulloc: heap check at exit: sound" in done.stderr.splitlines()
    check(sound == is_set, f"the check at exit ran: {sound}")


def dump_signal_check(done, is_set):
    check(("handler: yes" in done.stdout) == is_set, "SIGUSR2's handler")
    if is_set:
        lines = done.stderr.splitlines()
        check("rulloc heap" in lines and "end of rulloc heap" in lines,
              "the heap drawn on stderr")


def purge_thread_check(done, is_set):
    want = "purge thread: no" if is_set else "purge thread: yes"
    check(want in done.stdout.splitlines(), want)


def purge_delay_check(done, is_set):
    # A delay of 0 keeps no freed large region; by default one is cached.
    if is_set:
        check(cached(done) == 0, "nothing cached at a delay of 0")
    else:
        check(cached(done) >= 40 * MiB, "the freed 40 MiB region cached")


def lanes_check(done, is_set):
    # The probe's 5 threads take the least used lanes: by default one lane
    # per CPU the process may run on.
    used = lanes_used(done)
    want = 1 if is_set else min(len(os.sched_getaffinity(0)), 5, 16)
    check(used == want, f"{want} lanes with threads: {used}")


def thread_cache_check(done, is_set):
    # 4096 blocks of 1000 bytes freed: the cache holds 32 of them by
    # default, 4 at 4K, and gives half back when full, so it ends with 17
    # to 32 (3 to 4) of them (and a few blocks of other classes either way).
    cached_bytes = documents(done)[-1]["resident"]["thread_caches"]
    if is_set:
        check(cached_bytes <= 8 * 1024, f"4K a class: {cached_bytes}")
    else:
        check(cached_bytes >= 17 * 1024, f"32K a class: {cached_bytes}")


def large_cache_check(done, is_set):
    # 80 MiB is above the default cap of 64 MiB, within 128M.
    if is_set:
        check(cached(done) >= 80 * MiB, "the freed 80 MiB region cached")
    else:
        check(cached(done) == 0, "a region above the cap is not cached")


def mmap_threshold_check(done, is_set):
    dynamic = dynamic_bucket(done)
    big = [b for b in documents(done)[-1]["buckets"]
           if b["limit"] == 32 * MiB][0]
    if is_set:
        check(dynamic["regions"] == 1 and dynamic["used"] >= 2 * MiB,
              f"the 2 MiB block in a region of its own: {dynamic}")
        check(big["used"] == 0, f"not in the big blocks' bucket: {big}")
    else:
        check(dynamic["regions"] == 0, f"the dynamic bucket unused: {dynamic}")
        check(big["used"] >= 2 * MiB, f"in the big blocks' bucket: {big}")


def trim_threshold_check(done, is_set):
    # 64 MiB of slabs freed, the purge delay off: beyond 1 MiB they are
    # purged at once, else they all keep their pages.
    kept = documents(done)[-1]["resident"]["free_slabs_with_pages"]
    if is_set:
        check(kept <= MiB, f"at most 1 MiB kept: {kept}")
    else:
        check(kept >= 48 * MiB, f"the free slabs keep their pages: {kept}")


def map_file_check(done, is_set):
    exists = os.path.exists(MAP_FILE)
    check(exists == is_set, f"{MAP_FILE} written at exit: {exists}")
    if is_set:
        with open(MAP_FILE, encoding="utf-8") as f:
            check("segments" in json.load(f), "the map as JSON")
        os.remove(MAP_FILE)


MAP_FILE = os.path.join(tempfile.gettempdir(), f"rulloc-options-{os.getpid()}.json")

EFFECTS = {
    "purge_delay_ms": ("0", ["big-free", "40"], purge_delay_check, {}),
    "purge_thread": ("0", ["thread"], purge_thread_check, {}),
    "show_stats": ("json", ["none"], stats_check, {}),
    "verbose": ("1", ["none"], verbose_check, {}),
    "check_at_exit": ("1", ["none"], check_at_exit_check, {}),
    "dump_signal": ("SIGUSR2", ["signal"], dump_signal_check, {}),
    "lanes": ("1", ["lanes"], lanes_check, {}),
    "thread_cache_bytes": ("4K", ["cache"], thread_cache_check, {}),
    "large_cache_bytes": ("128M", ["big-free", "80"], large_cache_check, {}),
    "mmap_threshold": ("1M", ["alone", "2048"], mmap_threshold_check, {}),
    "trim_threshold": ("1M", ["slabs"], trim_threshold_check,
                       {"RULLOC_PURGE_DELAY_MS": "off"}),
    "map_file": (MAP_FILE, ["none"], map_file_check, {}),
}


def variable(name):
    return "RULLOC_" + name.upper()


def effect(name, way):
    value, probe_args, checker, extra = EFFECTS[name]
    env = dict(extra)
    if way == "options":
        env["RULLOC_OPTIONS"] = f"{name}={value}"
    elif way == "variable":
        env[variable(name)] = value
    check(way in ("options", "variable", "default"), f"a way: {way}")
    done = run(probe_args, env)
    check(not any(l.startswith("rulloc: RULLOC_")
                  for l in done.stderr.splitlines()), "no setting reported bad")
    checker(done, way != "default")


def mallopt(name):
    if name == "mmap_threshold":
        mmap_threshold_check(run(["alone", "2048", "mallopt"], {}), True)
    elif name == "trim_threshold":
        trim_threshold_check(run(["slabs", "mallopt"],
                                 {"RULLOC_PURGE_DELAY_MS": "off"}), True)
    elif name == "trim_threshold_off":
        # -1 takes back a threshold the environment set.
        trim_threshold_check(run(["slabs", "mallopt-off"],
                                 {"RULLOC_PURGE_DELAY_MS": "off",
                                  "RULLOC_TRIM_THRESHOLD": "1M"}), False)
    else:
        fail(f"no mallopt case {name}")


def precedence():
    for by_options, by_variable in (("0", "1"), ("1", "0")):
        done = run(["thread"], {"RULLOC_OPTIONS": f"purge_thread={by_options}",
                                "RULLOC_PURGE_THREAD": by_variable,
                                "RULLOC_VERBOSE": "1"})
        purge_thread_check(done, by_variable == "0")
        want = f"rulloc: option purge_thread={by_variable} (RULLOC_PURGE_THREAD)"
        check(want in done.stderr.splitlines(), want)
    # Within RULLOC_OPTIONS, the last one of a name wins.
    done = run(["none"], {"RULLOC_OPTIONS": "lanes=1, lanes=3",
                          "RULLOC_VERBOSE": "1"})
    check("rulloc: option lanes=3 (RULLOC_OPTIONS)" in done.stderr.splitlines(),
          "the last lanes= wins")


# Per case: the environment, the exact line on stderr, and the option's line
# with verbose on, which shows the setting was ignored (and, for unknown,
# that the rest of RULLOC_OPTIONS still counts).
BAD = {
    "not_a_number": (
        {"RULLOC_PURGE_DELAY_MS": "abc"},
        "rulloc: RULLOC_PURGE_DELAY_MS=abc: not a number or off, using 1000",
        "rulloc: option purge_delay_ms=1000 (default)"),
    "out_of_range": (
        {"RULLOC_OPTIONS": "purge_delay_ms=99999999999"},
        "rulloc: RULLOC_OPTIONS: purge_delay_ms=99999999999: out of range "
        "(0 to 86400000), using 1000",
        "rulloc: option purge_delay_ms=1000 (default)"),
    "over_range_keeps_options": (
        {"RULLOC_OPTIONS": "lanes=2", "RULLOC_LANES": "17"},
        "rulloc: RULLOC_LANES=17: out of range (0 to 16), using 2",
        "rulloc: option lanes=2 (RULLOC_OPTIONS)"),
    "bad_enum": (
        {"RULLOC_SHOW_STATS": "xml"},
        "rulloc: RULLOC_SHOW_STATS=xml: not 0, 1 or json, using 0",
        "rulloc: option show_stats=0 (default)"),
    "bad_flag": (
        {"RULLOC_OPTIONS": "check_at_exit=yes"},
        "rulloc: RULLOC_OPTIONS: check_at_exit=yes: not 0 or 1, using 0",
        "rulloc: option check_at_exit=0 (default)"),
    "bad_suffix": (
        {"RULLOC_LARGE_CACHE_BYTES": "12X"},
        "rulloc: RULLOC_LARGE_CACHE_BYTES=12X: not a number, using 64M",
        "rulloc: option large_cache_bytes=64M (default)"),
    "bad_signal": (
        {"RULLOC_OPTIONS": "dump_signal=SIGFOO"},
        "rulloc: RULLOC_OPTIONS: dump_signal=SIGFOO: not a signal that may be "
        "caught (SIGUSR2, USR2 or a number) or off, using off",
        "rulloc: option dump_signal=off (default)"),
    "too_long": (
        {"RULLOC_MMAP_THRESHOLD": "1" * 100},
        "rulloc: RULLOC_MMAP_THRESHOLD=" + "1" * 60 + "...: too long, "
        "using 32M",
        "rulloc: option mmap_threshold=32M (default)"),
    "path_too_long": (
        {"RULLOC_MAP_FILE": "/" + "x" * 300},
        "rulloc: RULLOC_MAP_FILE=/" + "x" * 251 + "...: too long, using "
        "(none)",
        "rulloc: option map_file=(none) (default)"),
    "unknown": (
        {"RULLOC_OPTIONS": "foo=1,lanes=1"},
        "rulloc: RULLOC_OPTIONS: unknown option 'foo', ignored",
        "rulloc: option lanes=1 (RULLOC_OPTIONS)"),
    "no_value": (
        {"RULLOC_OPTIONS": "verbose,lanes=3"},
        "rulloc: RULLOC_OPTIONS: 'verbose' is not name=value, ignored",
        "rulloc: option lanes=3 (RULLOC_OPTIONS)"),
}


def bad(case):
    env, line, effective = BAD[case]
    done = run(["none"], {**env, "RULLOC_VERBOSE": "1"})
    lines = done.stderr.splitlines()
    check(line in lines, f"the line '{line}' on stderr")
    reports = [l for l in lines if l.startswith("rulloc: RULLOC_")]
    check(len(reports) == 1, f"one report: {reports}")
    check(effective in lines, f"ignored: '{effective}'")


def readme():
    table = subprocess.run([args.table], capture_output=True, text=True,
                           check=True, timeout=60).stdout.splitlines()
    with open(args.readme, encoding="utf-8") as f:
        text = f.read().splitlines()
    check(table and table[0] in text, f"README has the header {table[:1]}")
    start = text.index(table[0])
    shown = text[start:start + len(table)]
    if shown != table or (start + len(table) < len(text) and
                          text[start + len(table)].startswith("|")):
        print("README.md's table:\n" + "\n".join(shown))
        print("the table in src/heap/options.hpp:\n" + "\n".join(table))
        fail("README.md's options table differs from src/heap/options.hpp "
             "(replace it with the output of the options_table program)")
    print(f"PASS: README.md's table has the {len(table) - 2} options")


def secure():
    check(os.geteuid() == 0, "run as root (registered only then)")
    with tempfile.TemporaryDirectory() as directory:
        copy = os.path.join(directory, "options-setuid")
        shutil.copy(args.probe, copy)
        os.chown(copy, 65534, 65534)  # nobody
        env = {"RULLOC_VERBOSE": "1", "RULLOC_OPTIONS": "show_stats=1"}
        os.chmod(copy, 0o755)
        control = run(["secure"], env, program=copy, preload=False)
        check("AT_SECURE=0" in control.stdout, "the control run is not secure")
        check("rulloc: option verbose=1 (RULLOC_VERBOSE)" in
              control.stderr.splitlines(), "the control run reads options")
        check("rulloc: allocations" in control.stderr, "and shows stats")
        os.chmod(copy, 0o4755)
        done = run(["secure"], env, program=copy, preload=False)
        check("AT_SECURE=1" in done.stdout, "the set-uid run is secure")
        check("rulloc:" not in done.stderr,
              "the set-uid run ignores RULLOC_VERBOSE and RULLOC_OPTIONS")


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("names", nargs="*")
    for option in ("lib", "probe", "table", "readme"):
        parser.add_argument(f"--{option}")
    args = parser.parse_args()
    cases = {"effect": effect, "mallopt": mallopt, "precedence": precedence,
             "bad": bad, "readme": readme, "secure": secure}
    check(args.case in cases, f"a case: {args.case}")
    cases[args.case](*args.names)
    print(f"PASS: {args.case} {' '.join(args.names)}")


main()
