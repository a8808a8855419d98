/* Run with librulloc.so preloaded: the figures of rulloc_get_malloc_stats
 * add up once threads have exited, whatever the threads freed last. A
 * thread here frees one block from a pthread key destructor, as libraries
 * that keep per-thread state do; that key is created after rulloc's own, so
 * its destructor runs after rulloc's thread-exit hook. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static pthread_key_t key;

static void destroy(void* p) { free(p); }

static void* body(void* arg) {
  (void)arg;
  for (int i = 0; i < 10; ++i) free(escape(malloc(100)));
  REQUIRE(pthread_setspecific(key, escape(malloc(5000))) == 0);
  return NULL;
}

static void run_thread(void) {
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, body, NULL) == 0);
  REQUIRE(pthread_join(t, NULL) == 0);
}

int main(void) {
  require_rulloc();
  REQUIRE(pthread_key_create(&key, destroy) == 0);
  run_thread(); /* glibc keeps a little for threads: not counted below */
  rulloc_malloc_stats before = dropin_stats();
  for (int i = 0; i < 20; ++i) run_thread();
  rulloc_malloc_stats after = dropin_stats();
  printf(
      "thread_stats: allocations +%zu, frees +%zu, bytes in use %zu -> %zu\n",
      after.allocations - before.allocations, after.frees - before.frees,
      before.bytes_in_use, after.bytes_in_use);
  CHECK(after.allocations - before.allocations == 20 * 11);
  CHECK(after.frees - before.frees == 20 * 11);
  CHECK(after.bytes_in_use == before.bytes_in_use);
  return dropin_finish("thread_stats");
}
