#!/usr/bin/env bash
# Installs a rulloc build into a scratch prefix, then builds and runs
# programs against it the two ways a user would: a CMake project
# (find_package(rulloc), rulloc::rulloc, rulloc::malloc) and a plain compile
# with pkg-config's flags; finally preloads the installed librulloc.so.
#   tests/consumer/run.sh [BUILD_DIR [CC [CXX]]]   (default build/release)
# CTest runs it as dropin.install.consumer.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
cc=${2:-cc}
cxx=${3:-c++}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rulloc-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*"; exit 1; }

echo "== install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in include/rulloc/rulloc.h include/rulloc/rulloc.hpp \
  include/rulloc/malloc.h include/rulloc/layout.hpp \
  include/rulloc/detail/engine.hpp lib/librulloc.a \
  lib/cmake/rulloc/rulloc-config.cmake \
  lib/cmake/rulloc/rulloc-config-version.cmake \
  lib/cmake/rulloc/rulloc-targets.cmake lib/pkgconfig/rulloc.pc; do
  [[ -f "$prefix/$f" ]] || fail "not installed: $f"
done
has_dropin=0
if [[ -f "$build/librulloc.so" ]]; then
  has_dropin=1
  for f in lib/librulloc.so lib/librulloc-malloc.a lib/librulloc_heap.a; do
    [[ -f "$prefix/$f" ]] || fail "not installed: $f"
  done
fi
# Nothing of the build or source tree may leak into the package.
if grep -rlF -e "$root/src" -e "$build" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
  fail "the installed package refers to the build or source tree"
fi

echo "== installed headers: the public API only, each complete on its own"
# Exactly these: a header added to include/rulloc/ must be added here too,
# on purpose (the private ones live in src/).
expected="rulloc/detail/engine.hpp rulloc/layout.hpp rulloc/malloc.h rulloc/rulloc.h rulloc/rulloc.hpp"
installed=$(cd "$prefix/include" && find rulloc -type f | LC_ALL=C sort | tr '\n' ' ')
[[ "${installed% }" == "$expected" ]] ||
  fail "installed headers are '${installed% }', expected '$expected'"
# Each one compiles alone against the prefix and nothing else: every header
# it includes is a standard one or installed too.
for header in $expected; do
  # Quoted includes must name an installed file.
  while read -r included; do
    [[ -f "$prefix/include/$included" ]] ||
      fail "$header includes \"$included\", which is not installed"
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
             "$prefix/include/$header")
  printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' \
    "$header" "$header" >"$tmp/alone.cpp"
  "$cxx" -std=c++20 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" \
    "$tmp/alone.cpp" ||
    fail "$header does not compile on its own against the installed tree"
  if [[ $header == *.h ]]; then
    cp "$tmp/alone.cpp" "$tmp/alone.c"
    "$cc" -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" \
      "$tmp/alone.c" || fail "$header does not compile as C on its own"
  fi
done

echo "== CMake consumer"
cmake -S "$here" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER="$cxx" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configuring the consumer failed"; }
grep 'rulloc 0\.' "$tmp/configure.log"
cmake --build "$tmp/build" -j 2 >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log"; fail "building the consumer failed"; }
"$tmp/build/consumer" || fail "consumer exited with $?"
if ((has_dropin)); then
  "$tmp/build/consumer_malloc" || fail "consumer_malloc exited with $?"
  [[ "$(cat "$tmp/build/preload.txt")" == "$prefix/lib/librulloc.so" ]] ||
    fail "RULLOC_PRELOAD_LIBRARY is $(cat "$tmp/build/preload.txt")"
fi
# The version file: 0.2 matches, 0.1 and 1.0 do not.
for want in 0.1 1.0; do
  mkdir -p "$tmp/version-$want"
  cat >"$tmp/version-$want/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(v LANGUAGES CXX)
find_package(rulloc $want QUIET)
if(rulloc_FOUND)
  message(FATAL_ERROR "rulloc \${rulloc_VERSION} accepted for $want")
endif()
CMAKE
  cmake -S "$tmp/version-$want" -B "$tmp/version-$want/build" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null ||
    fail "the version file accepted $want"
done

echo "== pkg-config consumer"
command -v pkg-config >/dev/null || fail "pkg-config is not installed"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists --print-errors rulloc
[[ "$(pkg-config --modversion rulloc)" == 0.* ]] || fail "bad --modversion"
flags=$(pkg-config --cflags --libs rulloc)
echo "pkg-config --cflags --libs rulloc: $flags"
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Werror -o "$tmp/pkg_consumer" "$here/pkg_consumer.c" $flags ||
  fail "compiling with pkg-config's flags failed"
"$tmp/pkg_consumer" || fail "pkg_consumer exited with $?"

if ((has_dropin)); then
  echo "== the installed librulloc.so, preloaded"
  preload=$(pkg-config --variable=preload rulloc)
  [[ -f "$preload" ]] || fail "pkg-config's preload variable: $preload"
  out=$(LD_PRELOAD="$preload" RULLOC_SHOW_STATS=1 "$tmp/pkg_consumer" 2>&1)
  echo "$out" | head -2
  grep -q '^rulloc: allocations [1-9]' <<<"$out" ||
    fail "no stats from a program run on the installed librulloc.so"
fi
echo "PASS: installed package used by CMake and pkg-config consumers"
