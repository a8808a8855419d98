/* rulloc_stats_json() as the program's allocations change: prints one JSON
 * document per line on stdout, at start, while it holds 100 MiB (small and
 * big blocks, every page written), after freeing them (but one big block
 * per region) and after a rulloc_trim(); then exits, so
 * that RULLOC_SHOW_STATS=json prints the figures at exit on stderr.
 * check_stats_json.py parses and checks them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <rulloc/malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From whichever library is preloaded (librulloc.so or the secure one). */
static size_t (*stats_json)(char*, size_t);
static size_t (*trim)(void);

static void print_json(void) {
  /* As with snprintf: ask for the length, then write. The figures may
   * grow in between (the buffer is an allocation too), so with room. */
  char small[16];
  size_t needed = stats_json(small, sizeof(small));
  if (strlen(small) != sizeof(small) - 1) exit(2);
  size_t size = needed + 4096;
  char* buffer = malloc(size);
  if (buffer == NULL) exit(2);
  size_t again = stats_json(buffer, size);
  if (again >= size || strlen(buffer) != again) exit(3);
  fputs(buffer, stdout);
  free(buffer);
  fflush(stdout);
}

int main(void) {
  enum { kSmall = 50000, kBig = 50 };
  static void* small[kSmall];
  static void* big[kBig];
  stats_json =
      (size_t(*)(char*, size_t))dlsym(RTLD_DEFAULT, "rulloc_stats_json");
  trim = (size_t(*)(void))dlsym(RTLD_DEFAULT, "rulloc_trim");
  if (stats_json == NULL || trim == NULL) {
    fprintf(stderr, "not on rulloc: no rulloc_stats_json\n");
    return 4;
  }
  print_json();
  for (int i = 0; i < kSmall; ++i) { /* 50000 x 1000 B: 50 MB in slabs */
    small[i] = malloc(1000);
    memset(small[i], 1, 1000);
  }
  for (int i = 0; i < kBig; ++i) { /* 50 x 1 MiB: 52 MB in the engine */
    big[i] = malloc(1 << 20);
    memset(big[i], 1, 1 << 20);
  }
  print_json();
  for (int i = 0; i < kSmall; ++i) free(small[i]);
  /* One big block kept in each region, so the regions stay and their
   * free blocks are purged (not unmapped) by the trim. */
  for (int i = 0; i < kBig; ++i) {
    if (i % 25 != 0) free(big[i]);
  }
  print_json();
  /* Whole free pages back to the kernel: the account must follow. */
  trim();
  print_json();
  for (int i = 0; i < kBig; i += 25) free(big[i]);
  return 0;
}
