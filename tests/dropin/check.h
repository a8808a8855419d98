/* What the drop-in test programs share: CHECK, which reports and counts a
 * failure and goes on; escape(), which hides a pointer from the optimizer so
 * a malloc/free pair is not folded away; and require_rulloc(), which proves
 * the program runs on rulloc rather than on glibc's malloc. C and C++. */
#ifndef DROPIN_CHECK_H
#define DROPIN_CHECK_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "rulloc/malloc.h"

static int dropin_failures = 0;
static int dropin_checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++dropin_checks;                                                           \
    if (!(cond)) {                                                             \
      ++dropin_failures;                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Stops at once: what follows depends on it. */
#define REQUIRE(cond)                                                    \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                    \
      exit(1);                                                           \
    }                                                                    \
  } while (0)

static inline void* escape(void* p) {
  __asm__ volatile("" : "+r"(p) : : "memory");
  return p;
}

typedef int (*dropin_stats_fn)(rulloc_malloc_stats*);

/* rulloc_get_malloc_stats as the dynamic linker sees it: NULL unless
 * librulloc.so is loaded (or librulloc-malloc.a linked in and exported). */
static inline dropin_stats_fn dropin_stats_function(void) {
  dropin_stats_fn f;
  void* symbol = dlsym(RTLD_DEFAULT, "rulloc_get_malloc_stats");
  *(void**)(&f) = symbol;
  return f;
}

static inline rulloc_malloc_stats dropin_stats(void) {
  static dropin_stats_fn f = NULL;
  rulloc_malloc_stats s;
  if (f == NULL) f = dropin_stats_function();
  REQUIRE(f != NULL);
  REQUIRE(f(&s) == 0);
  return s;
}

/* Fails the program unless malloc is rulloc's: the stats entry point is
 * there and a malloc moves its allocation count. */
static inline void require_rulloc(void) {
  REQUIRE(dropin_stats_function() != NULL);
  rulloc_malloc_stats before = dropin_stats();
  void* p = escape(malloc(100));
  rulloc_malloc_stats after = dropin_stats();
  REQUIRE(p != NULL);
  REQUIRE(after.allocations == before.allocations + 1);
  free(p);
  REQUIRE(dropin_stats().frees == after.frees + 1);
}

/* rulloc_purge_rounds(): purge rounds so far, for tests that wait for the
 * purger instead of a clock. */
static inline unsigned long long dropin_purge_rounds(void) {
  unsigned long long (*rounds)(void);
  *(void**)(&rounds) = dlsym(RTLD_DEFAULT, "rulloc_purge_rounds");
  REQUIRE(rounds != NULL);
  return rounds();
}

static inline int dropin_finish(const char* name) {
  printf("%s: %d checks, %d failed\n", name, dropin_checks, dropin_failures);
  return dropin_failures == 0 ? 0 : 1;
}

#endif /* DROPIN_CHECK_H */
