/* The process allocator: what librulloc.so (and librulloc-malloc.a) add on
 * top of the standard malloc family. */
#ifndef RULLOC_MALLOC_H
#define RULLOC_MALLOC_H

#include <stddef.h>

#include "rulloc/rulloc.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* mallopt(RULLOC_M_PURGE_DELAY_MS, ms): the purge delay from now on (1 to
 * 86400000 ms; 0 and "off" only by RULLOC_PURGE_DELAY_MS, which shapes the
 * heap as it is built). Returns 1, or 0 for a value out of range. */
#define RULLOC_M_PURGE_DELAY_MS (-101)

#ifdef __cplusplus
}
#endif

#endif /* RULLOC_MALLOC_H */
