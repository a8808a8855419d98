/* Run with librulloc.so preloaded: malloc's cost must not grow with the
 * number of free blocks a heap has. Each pattern leaves many free blocks
 * ("holes") that are too small for what it asks next, then allocates as
 * many blocks again; glibc takes well under a second for all of them. A
 * heap that walks every hole on every call takes minutes, so each pattern
 * has a time limit (SIGALRM) far above a linear cost. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char* current = "";

static void too_slow(int signal) {
  (void)signal;
  static const char text[] = "scaling: time limit exceeded in pattern ";
  if (write(2, text, sizeof(text) - 1) < 0) _exit(1);
  if (write(2, current, strlen(current)) < 0) _exit(1);
  if (write(2, "\n", 1) < 0) _exit(1);
  _exit(1);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 2n blocks of `hole` bytes, every other one freed, then n blocks of
 * `ask` bytes (which fit in no hole); everything freed at the end. */
static void pattern(const char* name, size_t n, size_t hole, size_t ask,
                    unsigned seconds) {
  current = name;
  void** holes = escape(malloc(sizeof(void*) * 2 * n));
  void** asked = escape(malloc(sizeof(void*) * n));
  REQUIRE(holes != NULL && asked != NULL);
  alarm(seconds);
  double start = now();
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
  alarm(0);
  printf("scaling: %s: %zu holes of %zu bytes, %zu blocks of %zu: %.3f s\n",
         name, n, hole, n, ask, now() - start);
  free(holes);
  free(asked);
}

int main(void) {
  require_rulloc();
  signal(SIGALRM, too_slow);
  pattern("small", 100000, 40, 60, 10);
  pattern("medium", 20000, 1500, 3000, 10);
  pattern("large", 2000, 20000, 60000, 10);
  return dropin_finish("scaling");
}
