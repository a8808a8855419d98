#!/usr/bin/env bash
# lean_needed.sh LIB: passes only when the shared library LIB needs nothing
# but the C library (and the dynamic linker): no libstdc++, libm, libgcc_s,
# nor any other (issue 12: a C program that preloads librulloc.so must not
# map them), and no undefined symbol versioned by the C++ runtime or libgcc
# (GLIBCXX_, CXXABI_, GCC_) that a library loaded later could be asked for.
set -uo pipefail
lib=$1
fail() { echo "FAIL: $lib: $*"; exit 1; }
command -v readelf >/dev/null || fail "readelf (binutils) not found"
[[ -f $lib ]] || fail "no such file"
dynamic=$(readelf -d "$lib") || fail "readelf -d failed"
needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' <<<"$dynamic")
echo "NEEDED: $(tr '\n' ' ' <<<"$needed")"
[[ $needed == *libc.so.* ]] || fail "does not need libc (readelf output changed?)"
status=0
while read -r library; do
  case $library in
    libc.so.* | ld-linux*.so.*) ;;
    *) echo "FAIL: $lib needs $library"; status=1 ;;
  esac
done <<<"$needed"
symbols=$(readelf --dyn-syms -W "$lib") || fail "readelf --dyn-syms failed"
foreign=$(awk '$7 == "UND" && $8 ~ /@(GLIBCXX|CXXABI|GCC)_/ { print $8 }' \
  <<<"$symbols")
if [[ -n $foreign ]]; then
  echo "FAIL: $lib takes symbols from the C++ runtime or libgcc_s:"
  echo "$foreign"
  status=1
fi
[[ $status == 0 ]] && echo "$lib: needs only the C library"
exit $status
