/* Nanoseconds per malloc(32)+free pair and per allocation in batches of
 * 1000 (its malloc and its free), timed in a plain C loop: the issue's
 * fast-path figures. bench/tools/fast_path_ns.sh runs it under each
 * allocator, interleaved, and takes medians.
 *   fast_path_ns pair|batch MILLIONS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void* volatile sink;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fast_path_ns pair|batch MILLIONS\n");
    return 2;
  }
  const long n = atol(argv[2]) * 1000000L;
  static void* blocks[1000];
  free(malloc(32)); /* the heap is built outside the timed loop */
  const int pair = strcmp(argv[1], "pair") == 0;
  const double start = now_ns();
  if (pair) {
    for (long i = 0; i < n; ++i) {
      void* p = malloc(32);
      sink = p;
      free(p);
    }
  } else {
    for (long r = 0; r < n / 1000; ++r) {
      for (int i = 0; i < 1000; ++i) blocks[i] = malloc(32);
      sink = blocks[999];
      for (int i = 0; i < 1000; ++i) free(blocks[i]);
    }
  }
  printf("%.3f\n", (now_ns() - start) / (double)n);
  return 0;
}
