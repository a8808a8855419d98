/* Run with librulloc.so preloaded: malloc's cost must not grow with the
 * number of free blocks a heap has. Each pattern leaves many free blocks
 * ("holes") that are too small for what it asks next, then allocates as
 * many blocks again, once with n holes and once with 4n. A heap whose cost
 * per call is constant takes about 4 times as long for 4n; one that walks
 * every hole on every call takes 16 times as long. The test compares the
 * two runs' CPU time within the one process, so a slow or busy machine
 * slows both alike: no clock limit (CTest's timeout ends a heap that takes
 * minutes). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 2n blocks of `hole` bytes, every other one freed, then n blocks of
 * `ask` bytes (which fit in no hole); everything freed at the end.
 * Returns the CPU time it took. */
static double pattern(size_t n, size_t hole, size_t ask) {
  void** holes = escape(malloc(sizeof(void*) * 2 * n));
  void** asked = escape(malloc(sizeof(void*) * n));
  REQUIRE(holes != NULL && asked != NULL);
  const double start = cpu_seconds();
  for (size_t i = 0; i < 2 * n; ++i) {
    holes[i] = escape(malloc(hole));
    REQUIRE(holes[i] != NULL);
  }
  for (size_t i = 0; i < 2 * n; i += 2) free(holes[i]);
  for (size_t i = 0; i < n; ++i) {
    asked[i] = escape(malloc(ask));
    REQUIRE(asked[i] != NULL);
    memset(asked[i], 1, ask);
  }
  for (size_t i = 1; i < 2 * n; i += 2) free(holes[i]);
  for (size_t i = 0; i < n; ++i) free(asked[i]);
  const double seconds = cpu_seconds() - start;
  free(holes);
  free(asked);
  return seconds;
}

/* The fastest of five runs of each size: other load on the machine only
 * ever adds time, so the fastest run is the nearest to the heap's own
 * cost (a median of three still failed at x10.5 with the machine at load
 * 10). A ratio under 10 is linear with room to spare, where walking the
 * holes gives 16. */
static void compare(const char* name, size_t n, size_t hole, size_t ask) {
  double small = 1e9, large = 1e9;
  for (int i = 0; i < 5; ++i) {
    const double s = pattern(n, hole, ask);
    const double l = pattern(4 * n, hole, ask);
    small = s < small ? s : small;
    large = l < large ? l : large;
  }
  const double ratio = large / (small > 1e-6 ? small : 1e-6);
  printf(
      "scaling: %s: %zu holes of %zu bytes: %.4f s, %zu holes: %.4f s "
      "(x%.1f)\n",
      name, n, hole, small, 4 * n, large, ratio);
  CHECK(ratio < 10.0);
}

int main(void) {
  require_rulloc();
  compare("small", 100000, 40, 60);
  compare("medium", 20000, 1500, 3000);
  compare("large", 500, 20000, 60000);
  return dropin_finish("scaling");
}
