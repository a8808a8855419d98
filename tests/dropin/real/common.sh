# shellcheck shell=bash
# Sourced by the real-program tests: `source common.sh "$@"` with the path of
# librulloc.so as $1 and that of the witness library (witness.c) as $2. Gives
# a scratch folder $tmp (removed at exit), and
#   need TOOL...                 fails (never skips) when a tool is missing
#   on_glibc NAME CMD...         runs CMD, stdout to $tmp/NAME.out, stderr to
#                                $tmp/NAME.err
#   on_rulloc NAME CMD...        the same with librulloc.so (and the witness)
#                                preloaded and RULLOC_VERBOSE=1; rulloc's
#                                "rulloc:" lines go to $tmp/NAME.stats, and
#                                the run fails unless they show rulloc
#                                starting up; each process's own allocation
#                                count goes to $tmp/NAME.witness
#   served NAME PROGRAM N MIN [PEAK]
#                                fails unless at least N processes of PROGRAM
#                                (the name of the executable file) in run
#                                NAME each allocated at least MIN blocks (and
#                                had at least PEAK bytes in use) through
#                                rulloc, as rulloc counted in that process:
#                                proof that the program under test, not a
#                                wrapper, ran on rulloc
#   same FILE_A FILE_B WHAT      fails with a diff unless the files are equal
set -euo pipefail

lib=${1:?usage: $0 path/to/librulloc.so path/to/libdropin_witness.so}
witness=${2:?usage: $0 path/to/librulloc.so path/to/libdropin_witness.so}
[[ -f "$lib" ]] || { echo "FAIL: $lib does not exist"; exit 1; }
[[ -f "$witness" ]] || { echo "FAIL: $witness does not exist"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rulloc-real.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C TZ=UTC
unset LD_PRELOAD RULLOC_SHOW_STATS RULLOC_VERBOSE DROPIN_WITNESS
start_seconds=$SECONDS

fail() {
  echo "FAIL: $*"
  exit 1
}

need() {
  local tool
  for tool; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "$tool is not installed (bash .ci/dropin-deps installs it)"
  done
}

on_glibc() {
  local name=$1
  shift
  local status=0
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || status=$?
  if ((status != 0)); then
    echo "--- stderr of $name (glibc):"; tail -30 "$tmp/$name.err"
    fail "$name on glibc exited with $status"
  fi
}

on_rulloc() {
  local name=$1
  shift
  local status=0
  : >"$tmp/$name.witness"
  LD_PRELOAD="$lib $witness" RULLOC_VERBOSE=1 DROPIN_WITNESS="$tmp/$name.witness" \
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.raw-err" || status=$?
  grep '^rulloc:' "$tmp/$name.raw-err" >"$tmp/$name.stats" || true
  grep -v '^rulloc:' "$tmp/$name.raw-err" >"$tmp/$name.err" || true
  if ((status != 0)); then
    echo "--- stderr of $name (rulloc):"; tail -30 "$tmp/$name.raw-err"
    fail "$name on rulloc exited with $status"
  fi
  # Each process says "ready" when its first allocation builds the heap.
  local started
  started=$(grep -c '^rulloc: process allocator ready' "$tmp/$name.stats" || true)
  ((started > 0)) || fail "$name: no 'rulloc: process allocator ready': not on rulloc?"
  echo "$name: $started process(es) ran on rulloc"
}

served() {
  local name=$1 program=$2 want=$3 min=$4 min_peak=${5:-0}
  local -a lines
  # Lines "EXECUTABLE PID ALLOCATIONS PEAK", one per process that exited.
  mapfile -t lines < <(awk -v p="$program" \
    '{ n = split($1, path, "/") } path[n] == p { print $3, $4 }' "$tmp/$name.witness")
  local line allocations peak big=0 most=0
  for line in "${lines[@]}"; do
    read -r allocations peak <<<"$line"
    [[ $allocations =~ ^[0-9]+$ ]] || continue  # "none": not on rulloc
    ((allocations >= min && peak >= min_peak)) && ((++big))
    ((allocations > most)) && most=$allocations
  done
  echo "$name: $big of ${#lines[@]} process(es) of $program allocated >= $min" \
    "blocks, peak >= $min_peak bytes, through rulloc (most blocks: $most)"
  ((big >= want)) ||
    fail "$name: expected at least $want process(es) of $program that allocated >= $min blocks, peak >= $min_peak bytes, through rulloc; saw $big"
}

same() {
  if ! cmp -s "$1" "$2"; then
    echo "--- diff of $3 (glibc vs rulloc), first lines:"
    diff -u "$1" "$2" | head -40 || true
    fail "$3 differs between glibc and rulloc"
  fi
  echo "same on glibc and rulloc: $3 ($(wc -c <"$1") bytes)"
}

done_ok() {
  echo "PASS: $* ($((SECONDS - start_seconds)) s)"
}
