/* rulloc_stats_json() as the program's allocations change: prints one JSON
 * document per line on stdout, at start, while it holds 100 MiB (small and
 * big blocks, every page written) and after freeing them; then exits, so
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
  if (stats_json == NULL) {
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
  for (int i = 0; i < kBig; ++i) free(big[i]);
  print_json();
  return 0;
}
