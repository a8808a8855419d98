/* Threads that each hold a block, so that each has joined a lane, while the
 * caller looks at the lanes (introspection.c, options.c). */
#ifndef DROPIN_LANE_THREADS_H
#define DROPIN_LANE_THREADS_H

#include <pthread.h>

#include "check.h"

enum { kLaneThreads = 4 };

static inline void* dropin_hold_a_block(void* barrier) {
  void* block = escape(malloc(64));
  pthread_barrier_wait((pthread_barrier_t*)barrier); /* it has its lane */
  pthread_barrier_wait((pthread_barrier_t*)barrier); /* the lanes are read */
  free(block);
  return NULL;
}

/* Runs `look` while kLaneThreads threads hold a block each. */
static inline void dropin_while_threads_hold_blocks(void (*look)(void*),
                                                    void* context) {
  pthread_t threads[kLaneThreads];
  pthread_barrier_t barrier;
  REQUIRE(pthread_barrier_init(&barrier, NULL, kLaneThreads + 1) == 0);
  for (int i = 0; i < kLaneThreads; ++i) {
    REQUIRE(pthread_create(&threads[i], NULL, dropin_hold_a_block, &barrier) ==
            0);
  }
  pthread_barrier_wait(&barrier);
  look(context);
  pthread_barrier_wait(&barrier);
  for (int i = 0; i < kLaneThreads; ++i) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&barrier);
}

#endif /* DROPIN_LANE_THREADS_H */
