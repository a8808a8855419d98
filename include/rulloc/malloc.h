/* The process allocator: what librulloc.so (and librulloc-malloc.a) add on
 * top of the standard malloc family. */
#ifndef RULLOC_MALLOC_H
#define RULLOC_MALLOC_H

#include <stddef.h>

#include "rulloc/rulloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The process allocator's malloc family under rulloc's names, for programs
 * that keep their C library's malloc and link librulloc_heap_api.a (or any
 * of the libraries above): the same heap, thread caches and purger as
 * malloc() gets from librulloc.so. Their semantics are malloc's, calloc's,
 * aligned_alloc's (any power-of-two `align`, else NULL and EINVAL),
 * realloc's, free's and malloc_usable_size's; a failure returns NULL with
 * errno ENOMEM. rulloc_realloc and rulloc_free are the object heaps' of
 * rulloc.h, hence the longer names. A block must go back through these, or
 * through free() where rulloc is the program's malloc. */
void* rulloc_malloc(size_t size);
void* rulloc_calloc(size_t count, size_t size);
void* rulloc_aligned_malloc(size_t align, size_t size);
void* rulloc_malloc_realloc(void* ptr, size_t size);
void rulloc_malloc_free(void* ptr);
size_t rulloc_malloc_usable_size(const void* ptr);

typedef struct rulloc_malloc_stats {
  size_t allocations;       /* successful allocations, reallocations included */
  size_t frees;             /* blocks given back */
  size_t bytes_in_use;      /* usable bytes of live blocks */
  size_t peak_bytes_in_use; /* the most bytes_in_use has been */
  size_t mapped_bytes;      /* bytes of slabs in use and engine regions */
  size_t slab_bytes;        /* bytes of slabs in use (small blocks) */
  size_t segment_bytes;     /* address space reserved for slabs */
  size_t bucket_count;      /* engine buckets in `buckets`, dynamic last */
  rulloc_bucket_stats buckets[RULLOC_MAX_BUCKETS + 1];
} rulloc_malloc_stats;

/* Fills `out` with the process allocator's figures; returns 0. Each thread
 * adds its counts every few hundred operations (big blocks at once), so the
 * figures may lag other running threads by that much. */
int rulloc_get_malloc_stats(rulloc_malloc_stats* out);
/* Writes the figures to stderr, as RULLOC_SHOW_STATS=1 does at exit. */
void rulloc_print_malloc_stats(void);

/* Gives memory back to the kernel now: empties the calling thread's cache,
 * unmaps empty regions and purges whole free pages. Returns the bytes given
 * back. malloc_trim() does the same. */
size_t rulloc_trim(void);

/* Purge rounds completed so far (one every half RULLOC_PURGE_DELAY_MS, by
 * the purger's thread or by the program's own frees): memory freed before
 * round N is back with the kernel by round N + 2. For tests and tools that
 * wait for the purger rather than for a clock. */
unsigned long long rulloc_purge_rounds(void);

/* The live heap, on demand. Each may be called while other threads
 * allocate and free: every lock is taken only for the part it guards, one
 * at a time, and nothing is allocated.
 *
 * rulloc_check() verifies every invariant of the process heap that can be
 * verified while other threads run: every segment's header (slab shapes
 * against their size classes, free and dirty bitmaps, the totals), every
 * slab in use (blocks in use + free = carved, its free list inside it, at
 * block starts, each block once and carrying the free canary; in secure
 * mode the encoded links decoded), every class pool's list (slabs of its
 * class and lane, counts), the calling thread's own cache, every other
 * thread's cache (each checks its own when asked, at its next flush of
 * counters, within 1024 of its calls: this waits up to 50 ms for them, and
 * a thread that makes no call meanwhile stays unchecked), and every engine
 * bucket as Rulloc::check() does. Returns 0 when all holds, else
 * non-zero with the first violation written to `error` (NUL-terminated,
 * cut to `size`). RULLOC_CHECK_AT_EXIT=1 runs it at exit: "rulloc: heap
 * check at exit: sound" on stderr, or the violation and abort(). */
int rulloc_check(char* error, size_t size);
/* Draws the process heap on descriptor `fd` as Rulloc::dump() draws an
 * object allocator: every segment and its slabs (class, lane, blocks used,
 * free and uncarved; free slabs and how many are purged), the lanes, the
 * bytes in thread caches and outboxes, every engine bucket's regions and
 * blocks. RULLOC_DUMP_SIGNAL=SIGUSR2 (a name or a number) draws it on
 * stderr whenever that signal comes; there only try-locks are used, and a
 * part whose lock is held is drawn as "busy". */
void rulloc_dump(int fd);
/* The figures as one JSON object, written into `buffer` as snprintf does
 * (at most size - 1 bytes and a NUL); returns the length it needs.
 * Includes an account of resident memory: bytes in use, in thread caches,
 * free in slabs and engine regions, metadata, purged, and the kernel's
 * resident set with the part left unexplained. RULLOC_SHOW_STATS=json
 * prints it on stderr at exit. */
size_t rulloc_stats_json(char* buffer, size_t size);
/* The heap's layout as one JSON object, for a picture of it (the script
 * tools/rulloc-map draws one): every segment and each of its slabs (class,
 * lane, blocks used, free and uncarved; free slabs with their pages or
 * purged), the lanes' threads, the thread caches' total, every engine
 * bucket's regions with their blocks (offset, bytes, free, bytes purged).
 * Written as rulloc_stats_json() writes, with the same locks as
 * rulloc_dump(). It grows with the heap (about 100 bytes per slab and 20
 * per engine block), and the heap changes between two calls (the buffer
 * is an allocation too): ask with (NULL, 0), allocate what it returns and
 * room to spare, and call again while the result is not below the size.
 * RULLOC_MAP_FILE=path writes it to `path` at exit and on the
 * RULLOC_DUMP_SIGNAL signal (there with try-locks: a part whose lock is
 * held is marked "busy"); %p in the path is replaced by the process id,
 * %n by the snapshot's number (1, 2, ...). */
size_t rulloc_map_json(char* buffer, size_t size);

/* mallopt(RULLOC_M_PURGE_DELAY_MS, ms): the purge delay from now on (1 to
 * 86400000 ms; 0 and "off" only by RULLOC_PURGE_DELAY_MS, which shapes the
 * heap as it is built). Returns 1, or 0 for a value out of range. */
#define RULLOC_M_PURGE_DELAY_MS (-101)

#ifdef __cplusplus
}
#endif

#endif /* RULLOC_MALLOC_H */
