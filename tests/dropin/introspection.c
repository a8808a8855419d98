/* glibc's introspection calls answered by rulloc (librulloc.so preloaded):
 *   introspection figures   mallinfo2/mallinfo follow 100 MB allocated and
 *                           freed; mallopt's answers; __libc_* and C23 frees
 *   introspection lanes N   mallopt(M_ARENA_MAX, N) (0: not called), then
 *                           4 threads allocate: every thread must be on one
 *                           of the first N lanes (rulloc_stats_json)
 *   introspection xml       malloc_info(0, stdout) while 100 MB are held,
 *                           then after they are freed (check_malloc_info.py
 *                           parses both with an XML parser) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lane_threads.h"

#define MiB ((size_t)1 << 20)

/* Found at run time: glibc 2.36 exports none of them to programs. */
#define FIND(name) find(#name)
static void* find(const char* name) {
  void* symbol = dlsym(RTLD_DEFAULT, name);
  if (symbol == NULL) fprintf(stderr, "no %s\n", name);
  REQUIRE(symbol != NULL);
  return symbol;
}

enum { kBlocks = 100 };
static void* blocks[kBlocks];

/* 100 blocks of 1 MiB (engine blocks), touched. */
static void hold(void) {
  for (int i = 0; i < kBlocks; ++i) {
    blocks[i] = malloc(MiB);
    REQUIRE(blocks[i] != NULL);
    memset(blocks[i], i, MiB);
  }
}

static void release_all(void) {
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
}

static int figures(void) {
  const struct mallinfo2 before = mallinfo2();
  hold();
  const struct mallinfo2 held = mallinfo2();
  /* The old call, deprecated by glibc, still answers (clamped). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
  release_all();
  const struct mallinfo2 after = mallinfo2();
  printf("uordblks %zu -> %zu -> %zu, arena %zu hblkhd %zu fordblks %zu\n",
         before.uordblks, held.uordblks, after.uordblks, held.arena,
         held.hblkhd, held.fordblks);
  /* A single thread: its counts reach the figures at once. */
  CHECK(held.uordblks >= before.uordblks + kBlocks * MiB);
  CHECK(held.uordblks < before.uordblks + kBlocks * MiB + 4 * MiB);
  CHECK(after.uordblks + kBlocks * MiB <= held.uordblks);
  CHECK(held.arena + held.hblkhd >= held.uordblks);
  CHECK(held.arena + held.hblkhd - held.uordblks == held.fordblks);
  CHECK(held.usmblks == 0 && held.smblks == 0);
  CHECK((size_t)old.uordblks == held.uordblks);

  CHECK(mallopt(M_MXFAST, 64) == 1);
  CHECK(mallopt(M_MXFAST, 1000) == 0);
  CHECK(mallopt(M_ARENA_MAX, 0) == 0);
  CHECK(mallopt(M_ARENA_MAX, 2) == 1);
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 30) == 0);
  CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(RULLOC_M_PURGE_DELAY_MS, 0) == 0);
  CHECK(mallopt(RULLOC_M_PURGE_DELAY_MS, 200) == 1);

  /* Every name frees into the same heap. */
  void* (*__libc_malloc)(size_t) = FIND(__libc_malloc);
  void (*__libc_free)(void*) = FIND(__libc_free);
  void* (*__libc_calloc)(size_t, size_t) = FIND(__libc_calloc);
  void* (*__libc_realloc)(void*, size_t) = FIND(__libc_realloc);
  void* (*__libc_memalign)(size_t, size_t) = FIND(__libc_memalign);
  void (*cfree)(void*) = FIND(cfree);
  void (*free_sized)(void*, size_t) = FIND(free_sized);
  void (*free_aligned_sized)(void*, size_t, size_t) = FIND(free_aligned_sized);
  const rulloc_malloc_stats start = dropin_stats();
  __libc_free(escape(malloc(100)));
  free(escape(__libc_malloc(100)));
  cfree(escape(__libc_calloc(10, 10)));
  void* grown = __libc_realloc(escape(malloc(10)), 100000);
  CHECK(grown != NULL);
  free_sized(grown, 100000);
  void* aligned = __libc_memalign(64, 128);
  CHECK(aligned != NULL && (size_t)aligned % 64 == 0);
  free_aligned_sized(aligned, 64, 128);
  const rulloc_malloc_stats end = dropin_stats();
  CHECK(end.allocations - start.allocations >= 5);
  CHECK(end.frees - start.frees >= 5);
  CHECK(end.bytes_in_use == start.bytes_in_use);
  malloc_stats();
  return dropin_finish("introspection figures");
}

/* Threads per lane, from the "lanes" array of rulloc_stats_json. */
static int lane_threads(int counts[], int most) {
  size_t (*stats_json)(char*, size_t) = FIND(rulloc_stats_json);
  static char text[1 << 20];
  REQUIRE(stats_json(text, sizeof(text)) < sizeof(text));
  const char* at = strstr(text, "\"lanes\"");
  REQUIRE(at != NULL);
  int lanes = 0;
  while (lanes < most && (at = strstr(at, "\"threads\": ")) != NULL) {
    at += strlen("\"threads\": ");
    counts[lanes++] = atoi(at);
  }
  return lanes;
}

struct Lanes {
  int counts[8];
  int count;
};

static void read_lanes(void* lanes) {
  struct Lanes* out = lanes;
  out->count = lane_threads(out->counts, 8);
}

static int lanes(int arena_max) {
  if (arena_max > 0) CHECK(mallopt(M_ARENA_MAX, arena_max) == 1);
  struct Lanes lanes = {{0}, 0};
  dropin_while_threads_hold_blocks(read_lanes, &lanes);
  const int* counts = lanes.counts;
  const int n = lanes.count;
  int total = 0, beyond = 0;
  for (int lane = 0; lane < n; ++lane) {
    printf("lane %d: %d threads\n", lane, counts[lane]);
    total += counts[lane];
    if (arena_max > 0 && lane >= arena_max) beyond += counts[lane];
  }
  CHECK(total >= kLaneThreads + 1);
  if (arena_max > 0) {
    CHECK(beyond == 0);
  } else {
    CHECK(counts[0] < total); /* the threads spread over the lanes */
  }
  return dropin_finish("introspection lanes");
}

static int xml(void) {
  hold();
  REQUIRE(malloc_info(0, stdout) == 0);
  release_all();
  REQUIRE(malloc_info(0, stdout) == 0);
  errno = 0;
  CHECK(malloc_info(1, stdout) == -1 && errno == EINVAL);
  fflush(stdout);
  return dropin_failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  require_rulloc();
  if (argc == 2 && strcmp(argv[1], "figures") == 0) return figures();
  if (argc == 2 && strcmp(argv[1], "xml") == 0) return xml();
  if (argc == 3 && strcmp(argv[1], "lanes") == 0) return lanes(atoi(argv[2]));
  fprintf(stderr, "usage: %s figures|xml|lanes N\n", argv[0]);
  return 2;
}
