/* The dump taken on a signal from a running multi-threaded program
 * (RULLOC_DUMP_SIGNAL, librulloc.so preloaded): 4 threads allocate, free
 * and hand blocks to each other until stdin closes, the main thread blocks
 * the signal so that it lands on a worker, most likely inside malloc or
 * free with a lock held. dump_signal.py sends it and reads each dump.
 * Prints "ready" once the workers run. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define SLOTS 1024

static atomic_int stop;
static _Atomic(void*) shared[SLOTS];

static void* work(void* arg) {
  uint64_t state = 0x9E3779B97F4A7C15u * ((uintptr_t)arg + 1);
  void* live[256] = {0};
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    size_t size = state % 8 == 0 ? 40000 + state % 300000 : 1 + state % 4000;
    unsigned slot = (unsigned)(state >> 32) % 256;
    free(live[slot]);
    live[slot] = malloc(size);
    if (live[slot] != NULL) memset(live[slot], 1, size < 64 ? size : 64);
    if (state % 5 == 0) {  // hand a block to whichever thread comes next
      void* old = atomic_exchange(&shared[(state >> 40) % SLOTS], live[slot]);
      live[slot] = NULL;
      free(old);
    }
  }
  for (int i = 0; i < 256; ++i) free(live[i]);
  return NULL;
}

int main(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGUSR1);
  pthread_t threads[THREADS];
  for (uintptr_t i = 0; i < THREADS; ++i) {
    if (pthread_create(&threads[i], NULL, work, (void*)i) != 0) return 2;
  }
  /* The workers took the unblocked mask; only now the main thread's. */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  printf("ready\n");
  fflush(stdout);
  char line[16];
  while (fgets(line, sizeof(line), stdin) != NULL) {
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < THREADS; ++i) pthread_join(threads[i], NULL);
  for (int i = 0; i < SLOTS; ++i) free(atomic_load(&shared[i]));
  printf("done\n");
  return 0;
}
