# shellcheck shell=bash
# Sourced by the real-program tests: `source common.sh "$@"` with the path of
# librulloc.so as $1. Gives a scratch folder $tmp (removed at exit), and
#   need TOOL...                 fails (never skips) when a tool is missing
#   on_glibc NAME CMD...         runs CMD, stdout to $tmp/NAME.out, stderr to
#                                $tmp/NAME.err
#   on_rulloc NAME CMD...        the same with librulloc.so preloaded and
#                                RULLOC_VERBOSE=1; rulloc's "rulloc:" lines
#                                go to $tmp/NAME.stats, and the run fails
#                                unless they show rulloc starting up
#   same FILE_A FILE_B WHAT      fails with a diff unless the files are equal
set -euo pipefail

lib=${1:?usage: $0 path/to/librulloc.so}
[[ -f "$lib" ]] || { echo "FAIL: $lib does not exist"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rulloc-real.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C TZ=UTC
unset LD_PRELOAD RULLOC_SHOW_STATS RULLOC_VERBOSE
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
  LD_PRELOAD="$lib" RULLOC_VERBOSE=1 "$@" >"$tmp/$name.out" \
    2>"$tmp/$name.raw-err" || status=$?
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
