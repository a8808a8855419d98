/* The malloc family as glibc documents it, run with librulloc.so preloaded.
 * Each CHECK states one promise of the glibc manual or man pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* Sizes the compiler cannot see, so it neither warns nor folds. */
static volatile size_t huge = SIZE_MAX;
static volatile size_t half = SIZE_MAX / 2 + 1;
static volatile size_t zero = 0;
static volatile size_t forty_eight = 48;
static volatile size_t twenty_four = 24;

static int aligned(const void* p, size_t align) {
  return ((uintptr_t)p & (align - 1)) == 0;
}

static void fill(unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) p[i] = (unsigned char)(seed + i * 31);
}
static int intact(const unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != (unsigned char)(seed + i * 31)) return 0;
  }
  return 1;
}

static void test_malloc_zero(void) {
  enum { kCount = 200 };
  void* seen[kCount];
  for (int i = 0; i < kCount; ++i) {
    seen[i] = escape(malloc(0));
    CHECK(seen[i] != NULL);
    CHECK(aligned(seen[i], 16));
    for (int j = 0; j < i; ++j) CHECK(seen[j] != seen[i]);
  }
  for (int i = 0; i < kCount; ++i) free(seen[i]);
}

static void test_free_null(void) {
  rulloc_malloc_stats before = dropin_stats();
  free(NULL);
  free(escape(NULL));
  rulloc_malloc_stats after = dropin_stats();
  CHECK(after.frees == before.frees);
  CHECK(malloc_usable_size(NULL) == 0);
}

static void test_sizes_alignment_usable(void) {
  static const size_t sizes[] = {
      1,     2,      8,      15,     16,      17,      24,      100,
      255,   256,    1000,   1024,   4095,    4096,    4097,    40000,
      65536, 100000, 262144, 300000, 1 << 20, 5 << 20, 33 << 20};
  enum { kCount = sizeof(sizes) / sizeof(sizes[0]) };
  unsigned char* blocks[kCount];
  for (int i = 0; i < kCount; ++i) {
    blocks[i] = escape(malloc(sizes[i]));
    CHECK(blocks[i] != NULL);
    if (blocks[i] == NULL) continue;
    CHECK(aligned(blocks[i], 16));
    CHECK(malloc_usable_size(blocks[i]) >= sizes[i]);
    /* Every usable byte may be written. */
    memset(blocks[i], 0x5A, malloc_usable_size(blocks[i]));
    fill(blocks[i], sizes[i], (unsigned)i);
  }
  for (int i = 0; i < kCount; ++i) {
    if (blocks[i] == NULL) continue;
    CHECK(intact(blocks[i], sizes[i], (unsigned)i));
    free(blocks[i]);
  }
}

static void test_calloc(void) {
  /* Dirty memory first, so a reused block must really be cleared. */
  for (size_t n = 1; n <= 70000; n = n * 2 + 3) {
    unsigned char* dirty = escape(malloc(n));
    REQUIRE(dirty != NULL);
    memset(dirty, 0xFF, n);
    free(dirty);
    unsigned char* p = escape(calloc(n, 1));
    CHECK(p != NULL);
    if (p == NULL) continue;
    CHECK(aligned(p, 16));
    size_t nonzero = 0;
    for (size_t i = 0; i < n; ++i) nonzero += p[i] != 0;
    CHECK(nonzero == 0);
    free(p);
  }
  int* ints = escape(calloc(1000, sizeof(int)));
  CHECK(ints != NULL);
  if (ints != NULL) {
    CHECK(ints[0] == 0 && ints[999] == 0);
    CHECK(malloc_usable_size(ints) >= 1000 * sizeof(int));
  }
  free(ints);
  void* zero = escape(calloc(0, 8));
  CHECK(zero != NULL);
  free(zero);
  zero = escape(calloc(8, 0));
  CHECK(zero != NULL);
  free(zero);
}

static void test_enomem(void) {
  errno = 0;
  CHECK(malloc(huge) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(malloc(huge - 4096) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(malloc(half) == NULL && errno == ENOMEM); /* > PTRDIFF_MAX */
  errno = 0;
  CHECK(malloc((size_t)1 << 60) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(calloc(half, 2) == NULL && errno == ENOMEM); /* overflows */
  errno = 0;
  CHECK(calloc(huge / 3 + 1, 3) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(calloc(1, huge) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(reallocarray(NULL, half, 2) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(aligned_alloc(64, huge) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(memalign(4096, huge - 100) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(valloc(huge) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(pvalloc(huge) == NULL && errno == ENOMEM);

  /* A failed realloc leaves the block as it was. */
  unsigned char* p = escape(malloc(500));
  REQUIRE(p != NULL);
  fill(p, 500, 7);
  errno = 0;
  /* (escape: the compiler takes a realloc'd pointer for dead.) */
  CHECK(realloc(escape(p), huge) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(realloc(escape(p), half) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(reallocarray(escape(p), half, 4) == NULL && errno == ENOMEM);
  CHECK(intact(p, 500, 7));
  CHECK(malloc_usable_size(p) >= 500);
  unsigned char* q = escape(reallocarray(escape(p), 100, 10));
  CHECK(q != NULL);
  if (q != NULL) {
    CHECK(intact(q, 500, 7));
    p = q;
  }
  free(p);
}

static void test_realloc(void) {
  /* realloc(NULL, n) is malloc(n). */
  rulloc_malloc_stats s0 = dropin_stats();
  unsigned char* p = escape(realloc(NULL, 100));
  rulloc_malloc_stats s1 = dropin_stats();
  CHECK(p != NULL);
  CHECK(s1.allocations == s0.allocations + 1);
  CHECK(malloc_usable_size(p) >= 100);
  fill(p, 100, 3);

  /* Growing and shrinking keep the first min(old, new) bytes. */
  size_t size = 100;
  static const size_t steps[] = {101, 200,     5000,    4000, 70000,
                                 300, 1 << 20, 3 << 20, 17,   1 << 21,
                                 64,  1,       100000,  8};
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); ++i) {
    unsigned char* q = escape(realloc(p, steps[i]));
    CHECK(q != NULL);
    if (q == NULL) break;
    CHECK(aligned(q, 16));
    CHECK(malloc_usable_size(q) >= steps[i]);
    CHECK(intact(q, size < steps[i] ? size : steps[i], 3));
    fill(q, steps[i], 3);
    p = q;
    size = steps[i];
  }

  /* realloc(p, 0) frees p and returns NULL (glibc). */
  rulloc_malloc_stats s2 = dropin_stats();
  void* r = realloc(p, 0);
  rulloc_malloc_stats s3 = dropin_stats();
  CHECK(r == NULL);
  CHECK(s3.frees == s2.frees + 1);
  CHECK(s3.allocations == s2.allocations);

  /* realloc(NULL, 0) is malloc(0): a unique pointer. */
  void* z = escape(realloc(NULL, 0));
  CHECK(z != NULL);
  free(z);

  /* reallocarray grows like realloc. */
  int* v = escape(reallocarray(NULL, 10, sizeof(int)));
  CHECK(v != NULL);
  if (v != NULL) {
    for (int i = 0; i < 10; ++i) v[i] = i * i;
    int* w = escape(reallocarray(v, 100000, sizeof(int)));
    CHECK(w != NULL);
    if (w != NULL) {
      int ok = 1;
      for (int i = 0; i < 10; ++i) ok &= w[i] == i * i;
      CHECK(ok);
      v = w;
    }
  }
  free(v);
}

static void test_posix_memalign(void) {
  static const size_t bad[] = {0, 1, 2, 3, 4, 12, 24, 48, 100, 4097};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    void* out = (void*)0x1234;
    CHECK(posix_memalign(&out, bad[i], 64) == EINVAL);
    CHECK(out == (void*)0x1234); /* untouched on failure */
  }
  for (size_t align = sizeof(void*); align <= ((size_t)1 << 20); align <<= 1) {
    static const size_t sizes[] = {0, 1, 8, 100, 4096, 70000};
    for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); ++j) {
      void* out = NULL;
      int rc = posix_memalign(&out, align, sizes[j]);
      CHECK(rc == 0);
      if (rc != 0) continue;
      CHECK(out != NULL);
      CHECK(aligned(out, align));
      CHECK(malloc_usable_size(out) >= sizes[j]);
      memset(out, 0xA5, sizes[j]);
      /* The block reallocates like any other. */
      unsigned char* q = escape(realloc(out, sizes[j] + 1000));
      CHECK(q != NULL);
      if (q != NULL) {
        size_t wrong = 0;
        for (size_t k = 0; k < sizes[j]; ++k) wrong += q[k] != 0xA5;
        CHECK(wrong == 0);
        out = q;
      }
      free(out);
    }
  }
  void* out = (void*)0x1234;
  CHECK(posix_memalign(&out, 64, huge) == ENOMEM);
  CHECK(out == (void*)0x1234);
  CHECK(posix_memalign(&out, half, 1) == ENOMEM);
  CHECK(out == (void*)0x1234);
}

static void test_aligned_alloc_memalign(void) {
  for (size_t align = 1; align <= ((size_t)1 << 20); align <<= 1) {
    void* a = escape(aligned_alloc(align, align * 3));
    CHECK(a != NULL);
    CHECK(aligned(a, align));
    CHECK(aligned(a, 16)); /* and never less than malloc's alignment */
    CHECK(malloc_usable_size(a) >= align * 3);
    memset(a, 1, align * 3);
    free(a);
    void* m = escape(memalign(align, 100));
    CHECK(m != NULL);
    CHECK(aligned(m, align));
    CHECK(malloc_usable_size(m) >= 100);
    memset(m, 2, 100);
    free(m);
  }
  /* glibc's memalign rounds an alignment that is not a power of two up. */
  void* m = escape(memalign(forty_eight, 100));
  CHECK(m != NULL);
  CHECK(aligned(m, 64));
  free(m);
  m = escape(memalign(zero, 100));
  CHECK(m != NULL);
  CHECK(aligned(m, 16));
  free(m);
  errno = 0;
  CHECK(memalign(half + 1, 1) == NULL && errno == EINVAL);
  /* aligned_alloc wants a power of two (C17, glibc 2.38): EINVAL. */
  errno = 0;
  CHECK(aligned_alloc(twenty_four, 48) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(aligned_alloc(zero, 48) == NULL && errno == EINVAL);
}

static void test_valloc_pvalloc(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 100000};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
    void* v = escape(valloc(sizes[i]));
    CHECK(v != NULL);
    CHECK(aligned(v, page));
    CHECK(malloc_usable_size(v) >= sizes[i]);
    memset(v, 3, sizes[i]);
    free(v);
    void* p = escape(pvalloc(sizes[i]));
    CHECK(p != NULL);
    CHECK(aligned(p, page));
    /* pvalloc rounds the size up to whole pages (a page for 0). */
    size_t pages = sizes[i] == 0 ? page : (sizes[i] + page - 1) / page * page;
    CHECK(malloc_usable_size(p) >= pages);
    if (p != NULL) memset(p, 4, pages);
    free(p);
  }
}

static void test_usable_size_is_writable(void) {
  for (size_t n = 0; n < 3000; n += 7) {
    unsigned char* p = escape(malloc(n));
    REQUIRE(p != NULL);
    size_t usable = malloc_usable_size(p);
    CHECK(usable >= n);
    memset(p, 0x77, usable);
    /* The neighbour, if any, is not touched by writing the usable bytes. */
    unsigned char* q = escape(malloc(n));
    REQUIRE(q != NULL);
    memset(q, 0x11, n);
    memset(p, 0x77, usable);
    size_t wrong = 0;
    for (size_t i = 0; i < n; ++i) wrong += q[i] != 0x11;
    CHECK(wrong == 0);
    free(q);
    free(p);
  }
}

/* glibc's own functions allocate with malloc; their blocks must be rulloc's
 * (free would abort on a foreign pointer). */
static void test_libc_allocations(void) {
  rulloc_malloc_stats before = dropin_stats();
  char* s = strdup("a string duplicated by libc");
  CHECK(s != NULL && malloc_usable_size(s) >= 28);
  free(s);
  char* formatted = NULL;
  CHECK(asprintf(&formatted, "%d-%s-%f", 42, "x", 1.5) > 0);
  CHECK(formatted != NULL && strcmp(formatted, "42-x-1.500000") == 0);
  free(formatted);
  char* line = NULL;
  size_t cap = 0;
  FILE* f = fmemopen((void*)"first line\nsecond\n", 18, "r");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(getline(&line, &cap, f) == 11);
    CHECK(getline(&line, &cap, f) == 7);
    CHECK(strcmp(line, "second\n") == 0);
    fclose(f);
  }
  free(line);
  char* buffer = NULL;
  size_t length = 0;
  FILE* memory = open_memstream(&buffer, &length);
  CHECK(memory != NULL);
  if (memory != NULL) {
    for (int i = 0; i < 10000; ++i) fprintf(memory, "%d,", i);
    fclose(memory);
    CHECK(length > 40000);
    CHECK(strncmp(buffer, "0,1,2,", 6) == 0);
  }
  free(buffer);
  char* cwd = getcwd(NULL, 0);
  CHECK(cwd != NULL);
  free(cwd);
  rulloc_malloc_stats after = dropin_stats();
  CHECK(after.allocations >= before.allocations + 6);
}

static void test_many_blocks(void) {
  enum { kCount = 20000 };
  static unsigned char* blocks[kCount];
  static size_t sizes[kCount];
  unsigned seed = 12345;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kCount; ++i) {
      seed = seed * 1103515245u + 12345u;
      if (blocks[i] != NULL) {
        CHECK(intact(blocks[i], sizes[i], (unsigned)i));
        if (seed % 3 == 0) {
          free(blocks[i]);
          blocks[i] = NULL;
          continue;
        }
      }
      size_t n = (seed >> 8) % (seed % 16 == 0 ? 20000 : 300);
      unsigned char* p = escape(realloc(blocks[i], n));
      if (n == 0 && blocks[i] != NULL) { /* realloc(p, 0) freed it */
        CHECK(p == NULL);
        blocks[i] = NULL;
        continue;
      }
      CHECK(p != NULL);
      if (p == NULL) continue;
      CHECK(aligned(p, 16));
      fill(p, n, (unsigned)i);
      blocks[i] = p;
      sizes[i] = n;
    }
  }
  for (int i = 0; i < kCount; ++i) {
    if (blocks[i] != NULL) CHECK(intact(blocks[i], sizes[i], (unsigned)i));
    free(blocks[i]);
  }
}

static void test_stats(void) {
  rulloc_malloc_stats s0 = dropin_stats();
  CHECK(s0.bucket_count >= 2);
  CHECK(s0.buckets[s0.bucket_count - 1].limit == SIZE_MAX);
  void* p = escape(malloc(3000));
  size_t usable = malloc_usable_size(p);
  rulloc_malloc_stats s1 = dropin_stats();
  CHECK(s1.allocations == s0.allocations + 1);
  CHECK(s1.bytes_in_use == s0.bytes_in_use + usable);
  CHECK(s1.peak_bytes_in_use >= s1.bytes_in_use);
  CHECK(s1.mapped_bytes >= s1.bytes_in_use);
  free(p);
  rulloc_malloc_stats s2 = dropin_stats();
  CHECK(s2.frees == s1.frees + 1);
  CHECK(s2.bytes_in_use == s0.bytes_in_use);
}

/* peak_bytes_in_use is "the most bytes_in_use has been" (rulloc/malloc.h):
 * a big block shows in it even when it lives briefly. */
static void test_peak(void) {
  rulloc_malloc_stats s2 = dropin_stats();
  void* big = escape(malloc(64 << 20));
  CHECK(big != NULL);
  size_t big_usable = malloc_usable_size(big);
  free(big);
  rulloc_malloc_stats s3 = dropin_stats();
  CHECK(s3.peak_bytes_in_use >= s2.bytes_in_use + big_usable);
}

/* malloc_trim gives memory back (rulloc/malloc.h: it empties the thread's
 * cache, unmaps empty regions, purges free pages); live blocks keep their
 * bytes, and reused memory is as good as new. */
static void test_trim(void) {
  enum { kCount = 1500 };
  static unsigned char* live[kCount];
  static unsigned char* dead[kCount];
  for (int i = 0; i < kCount; ++i) {
    size_t n = 100 + (size_t)i * 7 % 3000;
    live[i] = escape(malloc(n));
    dead[i] = escape(malloc(5000 + (size_t)i * 13 % 30000));
    REQUIRE(live[i] != NULL && dead[i] != NULL);
    fill(live[i], n, (unsigned)i);
    memset(dead[i], 0xDD, 5000);
  }
  for (int i = 0; i < kCount; ++i) free(dead[i]);
  rulloc_malloc_stats before = dropin_stats();
  CHECK(malloc_trim(0) == 1); /* something was given back */
  rulloc_malloc_stats after = dropin_stats();
  CHECK(after.mapped_bytes <= before.mapped_bytes);
  CHECK(after.bytes_in_use == before.bytes_in_use);
  size_t broken = 0;
  for (int i = 0; i < kCount; ++i) {
    broken += !intact(live[i], 100 + (size_t)i * 7 % 3000, (unsigned)i);
  }
  CHECK(broken == 0);
  /* The purged memory serves again: calloc'd blocks are zero, others keep
   * what is written. */
  size_t nonzero = 0;
  for (int i = 0; i < kCount; ++i) {
    size_t n = 5000 + (size_t)i * 13 % 30000;
    unsigned char* p = escape(calloc(1, n));
    REQUIRE(p != NULL);
    for (size_t k = 0; k < n; ++k) nonzero += p[k] != 0;
    dead[i] = p;
    fill(p, n, (unsigned)i + 7);
  }
  CHECK(nonzero == 0);
  for (int i = 0; i < kCount; ++i) {
    CHECK(intact(dead[i], 5000 + (size_t)i * 13 % 30000, (unsigned)i + 7));
    free(dead[i]);
    free(live[i]);
  }
  /* rulloc_trim, from librulloc.so (this program does not link rulloc). */
  size_t (*trim)(void);
  void* symbol = dlsym(RTLD_DEFAULT, "rulloc_trim");
  CHECK(symbol != NULL);
  if (symbol != NULL) {
    memcpy(&trim, &symbol, sizeof(trim));
    (void)trim();
  }
  void* again = escape(malloc(100000));
  CHECK(again != NULL);
  free(again);
}

typedef struct {
  const char* name;
  void (*run)(void);
} group;

static const group groups[] = {
    {"malloc_zero", test_malloc_zero},
    {"free_null", test_free_null},
    {"sizes", test_sizes_alignment_usable},
    {"calloc", test_calloc},
    {"enomem", test_enomem},
    {"realloc", test_realloc},
    {"posix_memalign", test_posix_memalign},
    {"aligned_alloc", test_aligned_alloc_memalign},
    {"valloc", test_valloc_pvalloc},
    {"usable_size", test_usable_size_is_writable},
    {"libc", test_libc_allocations},
    {"many_blocks", test_many_blocks},
    {"stats", test_stats},
    {"peak", test_peak},
    {"trim", test_trim},
};

/* With no argument every group runs; else only the one named. */
int main(int argc, char** argv) {
  require_rulloc();
  int ran = 0;
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); ++i) {
    if (argc > 1 && strcmp(argv[1], groups[i].name) != 0) continue;
    groups[i].run();
    ++ran;
  }
  REQUIRE(ran > 0);
  return dropin_finish(argc > 1 ? argv[1] : "semantics.c");
}
