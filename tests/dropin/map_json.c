/* rulloc_map_json() from a real program (librulloc.so preloaded): three
 * threads hold small blocks of their own classes (so slabs of several
 * lanes), the main thread holds big blocks in the engine, frees some of
 * each and trims (purged slabs, purged pages in free engine blocks), frees
 * one more big block (a region cached for reuse), then
 * prints on stdout the map and, right after it, rulloc_stats_json(), one
 * line each, while the other threads wait: the two describe the same heap.
 * check_map.py checks them against each other and draws the map. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t (*map_json)(char*, size_t);
static size_t (*stats_json)(char*, size_t);
static size_t (*trim)(void);

static pthread_barrier_t held, done;

enum { kPerThread = 3000 };

static void* hold_small(void* arg) {
  const size_t size = (size_t)(uintptr_t)arg;
  void** blocks = malloc(kPerThread * sizeof(void*));
  if (blocks == NULL) exit(2);
  for (int i = 0; i < kPerThread; ++i) {
    blocks[i] = malloc(size);
    if (blocks[i] == NULL) exit(2);
    memset(blocks[i], 1, size);
  }
  for (int i = 0; i < kPerThread; i += 3) free(blocks[i]);
  pthread_barrier_wait(&held);
  pthread_barrier_wait(&done);
  for (int i = 1; i < kPerThread; ++i) {
    if (i % 3 != 0) free(blocks[i]);
  }
  free(blocks);
  return NULL;
}

/* The documented way to size the buffer: ask, allocate with room, ask
 * again while the map grew past it. */
static char* take_map(void) {
  size_t size = map_json(NULL, 0);
  for (;;) {
    size += size / 8 + 65536;
    char* buffer = malloc(size);
    if (buffer == NULL) exit(3);
    const size_t length = map_json(buffer, size);
    if (length < size && strlen(buffer) == length) return buffer;
    free(buffer);
    size = length;
  }
}

int main(void) {
  map_json = (size_t(*)(char*, size_t))dlsym(RTLD_DEFAULT, "rulloc_map_json");
  stats_json =
      (size_t(*)(char*, size_t))dlsym(RTLD_DEFAULT, "rulloc_stats_json");
  trim = (size_t(*)(void))dlsym(RTLD_DEFAULT, "rulloc_trim");
  if (map_json == NULL || stats_json == NULL || trim == NULL) {
    fprintf(stderr, "not on rulloc: no rulloc_map_json\n");
    return 4;
  }
  /* Small blocks the main thread frees: whole slabs go back (purged by
   * the trim), some stay in use. */
  enum { kSmall = 20000, kBig = 24 };
  static void* small[kSmall];
  static void* big[kBig];
  for (int i = 0; i < kSmall; ++i) {
    small[i] = malloc(48 + (i % 4) * 200);
    memset(small[i], 2, 48);
  }
  for (int i = 0; i < kSmall; ++i) {
    if (i % 50 != 0) free(small[i]);
  }
  /* Engine blocks: 300 KiB to 4 MiB (the big-block bucket), one of
   * 40 MiB (the dynamic bucket), 100 KiB (a lane's bucket); every other
   * one freed. */
  for (int i = 0; i < kBig; ++i) {
    size_t size = (size_t)300000 + (size_t)i * 150000;
    if (i == 7) size = (size_t)40 << 20;
    if (i % 4 == 1) size = 100000;
    big[i] = malloc(size);
    if (big[i] == NULL) return 2;
    memset(big[i], 3, size);
  }
  for (int i = 0; i < kBig; i += 2) free(big[i]);

  pthread_barrier_init(&held, NULL, 4);
  pthread_barrier_init(&done, NULL, 4);
  pthread_t threads[3];
  const size_t sizes[3] = {24, 640, 3000};
  for (int i = 0; i < 3; ++i) {
    if (pthread_create(&threads[i], NULL, hold_small,
                       (void*)(uintptr_t)sizes[i]) != 0) {
      return 2;
    }
  }
  pthread_barrier_wait(&held);
  trim();
  /* A big block freed after the trim: its region waits in the dynamic
   * bucket's cache. */
  void* cached = malloc((size_t)36 << 20);
  if (cached == NULL) return 2;
  memset(cached, 4, (size_t)36 << 20);
  free(cached);
  /* Both buffers first: the map and the figures see one heap. */
  size_t stats_size = stats_json(NULL, 0) + 65536;
  char* stats = malloc(stats_size);
  if (stats == NULL) return 3;
  char* map = take_map();
  if (stats_json(stats, stats_size) >= stats_size) return 3;
  fputs(map, stdout);
  fputs(stats, stdout);
  fflush(stdout);
  free(map);
  free(stats);
  pthread_barrier_wait(&done);
  for (int i = 0; i < 3; ++i) pthread_join(threads[i], NULL);
  for (int i = 1; i < kBig; i += 2) free(big[i]);
  for (int i = 0; i < kSmall; i += 50) free(small[i]);
  return 0;
}
