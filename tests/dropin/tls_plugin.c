/* A library with 100 KB of thread-local data, for reliability.c's
 * dlopen-tls mode: each thread that touches it gets a block of its own,
 * which the C library frees when the thread exits. Its constructor and
 * destructor free 16 MiB while dlopen and dlclose hold the loader's lock
 * (in a process with one thread: the purger's thread may start there). */
#include <stdlib.h>
#include <string.h>

__thread char dropin_tls[100 * 1024];

static void churn_big(void) {
  char* block = malloc(16 << 20);
  if (block == NULL) abort();
  memset(block, 1, 16 << 20);
  free(block);
}

__attribute__((constructor)) static void loaded(void) { churn_big(); }
__attribute__((destructor)) static void unloaded(void) { churn_big(); }

int dropin_touch_tls(int value) {
  dropin_tls[(unsigned)value * 4099u % sizeof dropin_tls] = (char)value;
  dropin_tls[sizeof dropin_tls - 1] = (char)(value + 1);
  return dropin_tls[(unsigned)value * 4099u % sizeof dropin_tls];
}
