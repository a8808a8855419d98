/* Linked with librulloc-malloc.a, nothing preloaded: malloc, free and the
 * rest are the program's own, and libc's internal allocations (strdup,
 * stdio, getline...) land in rulloc too, so free can take them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static rulloc_malloc_stats now(void) {
  rulloc_malloc_stats s;
  REQUIRE(rulloc_get_malloc_stats(&s) == 0);
  return s;
}

int main(void) {
  const char* preload = getenv("LD_PRELOAD");
  REQUIRE(preload == NULL || strstr(preload, "rulloc") == NULL);

  /* The dynamic linker resolves malloc to the program's definition, for
   * libc's own calls as well. */
  void* dynamic_malloc = dlsym(RTLD_DEFAULT, "malloc");
  void* dynamic_free = dlsym(RTLD_DEFAULT, "free");
  CHECK(dynamic_malloc == (void*)&malloc);
  CHECK(dynamic_free == (void*)&free);
  CHECK(dlsym(RTLD_DEFAULT, "posix_memalign") == (void*)&posix_memalign);

  rulloc_malloc_stats s0 = now();
  void* p = escape(malloc(1000));
  rulloc_malloc_stats s1 = now();
  CHECK(p != NULL);
  CHECK(s1.allocations == s0.allocations + 1);
  CHECK(s1.bytes_in_use == s0.bytes_in_use + malloc_usable_size(p));
  free(p);
  CHECK(now().frees == s1.frees + 1);

  /* Blocks that libc allocates itself. */
  rulloc_malloc_stats s2 = now();
  char* copy = strdup("allocated inside libc");
  CHECK(copy != NULL && malloc_usable_size(copy) >= 22);
  free(copy);
  char* text = NULL;
  CHECK(asprintf(&text, "%s %d", "number", 12345) > 0);
  free(text);
  FILE* f = tmpfile(); /* its buffer comes from malloc */
  CHECK(f != NULL);
  if (f != NULL) {
    for (int i = 0; i < 1000; ++i) fprintf(f, "line %d\n", i);
    rewind(f);
    char* line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, f) > 0) ++lines;
    CHECK(lines == 1000);
    free(line);
    fclose(f);
  }
  rulloc_malloc_stats s3 = now();
  CHECK(s3.allocations >= s2.allocations + 4);

  /* Aligned and big blocks, and realloc across buckets. */
  void* a = escape(aligned_alloc(4096, 10000));
  CHECK(a != NULL && ((uintptr_t)a & 4095) == 0);
  free(a);
  unsigned char* r = escape(malloc(10));
  for (size_t n = 10; n < (8u << 20); n *= 3) {
    unsigned char* q = escape(realloc(r, n * 3));
    REQUIRE(q != NULL);
    CHECK(q[0] == 0xAB || n == 10);
    memset(q, 0xAB, n * 3);
    r = q;
  }
  free(r);
  return dropin_finish("static link");
}
