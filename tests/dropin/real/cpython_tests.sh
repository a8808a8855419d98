#!/usr/bin/env bash
# dropin.real.cpython_tests: a slice of CPython's own regression suite
# (Debian's libpython3.11-testsuite) on rulloc, with PYTHONMALLOC=malloc so
# that every Python object comes from rulloc's malloc. These modules pass on
# glibc; any failure here is rerun on glibc to tell the two apart.
source "$(dirname "$0")/common.sh" "$@"
python=/usr/bin/python3
need "$python"
"$python" -c 'import test.libregrtest, test.test_list' 2>/dev/null ||
  fail "CPython's test suite is not installed (libpython3.11-testsuite; bash .ci/dropin-deps)"

modules=(test_list test_dict test_set test_tuple test_unicode test_bytes
  test_string test_re test_json test_collections test_itertools
  test_functools test_sort test_deque test_struct test_array test_long
  test_memoryview test_gc test_zlib test_codecs test_thread test_threading)

exe=$(basename "$(readlink -f "$python")")

cd "$tmp"
status=0
# The witness (common.sh) records each process's own count: regrtest's, and
# that of the worker it starts for each module, which runs the module.
: >"$tmp/regrtest.witness"
LD_PRELOAD="$lib $witness" DROPIN_WITNESS="$tmp/regrtest.witness" \
  PYTHONMALLOC=malloc "$python" -m test -j2 --timeout 600 \
  "${modules[@]}" >"$tmp/regrtest.out" 2>&1 || status=$?
tail -15 "$tmp/regrtest.out"
if ((status != 0)) || ! grep -q '^Tests result: SUCCESS' "$tmp/regrtest.out"; then
  failed=$(sed -n '/tests\? failed:/,/^$/p' "$tmp/regrtest.out" | tail -n +2 | tr -s ' \n' ' ')
  echo "--- rerunning on glibc: $failed"
  # shellcheck disable=SC2086  # one word per module
  PYTHONMALLOC=malloc "$python" -m test -j2 $failed 2>&1 | tail -5 || true
  fail "CPython tests failed on rulloc (status $status): $failed"
fi
count=$(grep -cE '^0:[0-9:]+ .*\] test_[a-z_]+ passed' "$tmp/regrtest.out" || true)
((count == ${#modules[@]})) || fail "expected ${#modules[@]} modules to pass, saw $count"
served regrtest "$exe" $((${#modules[@]} + 1)) 100000
done_ok "CPython regression tests: ${modules[*]}"
