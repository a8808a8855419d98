/* Instructions per malloc+free, for Callgrind (bench/tools/pair_cost.sh):
 *   pair_cost MODE N
 *   MODE = pair:  N times malloc(32) then free;
 *          batch: N / 1000 times 1000 mallocs of 32 bytes, then the frees;
 *          empty: the pair loop without the calls (the loop's own cost).
 * Run twice with different N: the difference of the totals, divided by the
 * difference of N, is the cost of one iteration without the program's
 * start and end; minus the empty loop's, the calls' own cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void* volatile sink;

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pair_cost pair|batch|empty N\n");
    return 2;
  }
  const long n = atol(argv[2]);
  static void* blocks[1000];
  /* One block first, so the heap is built outside the measured loop. */
  free(malloc(32));
  if (strcmp(argv[1], "pair") == 0) {
    for (long i = 0; i < n; ++i) {
      void* p = malloc(32);
      sink = p;
      free(p);
    }
  } else if (strcmp(argv[1], "batch") == 0) {
    for (long r = 0; r < n / 1000; ++r) {
      for (int i = 0; i < 1000; ++i) blocks[i] = malloc(32);
      sink = blocks[999];
      for (int i = 0; i < 1000; ++i) free(blocks[i]);
    }
  } else if (strcmp(argv[1], "empty") == 0) {
    for (long i = 0; i < n; ++i) sink = blocks;
  } else {
    return 2;
  }
  return 0;
}
