/* rulloc C API: allocator objects and a process-wide default instance.
 * None of these replace malloc; the drop-in library does that separately. */
#ifndef RULLOC_RULLOC_H
#define RULLOC_RULLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rulloc_heap rulloc_heap;

typedef struct rulloc_bucket_stats {
  size_t limit;
  size_t regions;
  size_t blocks;
  size_t free_blocks;
  size_t mapped_bytes;
} rulloc_bucket_stats;

/* A heap with `count` fixed buckets of the given limits plus a dynamic one.
 * `limits` may be NULL for the default {128, 1024, 8192} (count ignored).
 * Returns NULL when out of memory or when count exceeds RULLOC_MAX_BUCKETS. */
#define RULLOC_MAX_BUCKETS 64
rulloc_heap* rulloc_heap_create(const size_t* limits, size_t count,
                                size_t keep_empty_regions);
void rulloc_heap_destroy(rulloc_heap* heap);

/* heap == NULL means the process-wide default instance.
 * Failures return NULL (and set errno to ENOMEM or EINVAL); the heap is
 * unchanged. `align` must be a power of two. */
void* rulloc_alloc(rulloc_heap* heap, size_t size, size_t align);
void* rulloc_alloc_zeroed(rulloc_heap* heap, size_t size, size_t align);
/* Moves or resizes in place; on failure returns NULL and `ptr` stays valid.
 * The alignment of the block is `align`. */
void* rulloc_realloc(rulloc_heap* heap, void* ptr, size_t new_size,
                     size_t align);
void rulloc_free(rulloc_heap* heap, void* ptr);
size_t rulloc_usable_size(rulloc_heap* heap, const void* ptr);

/* Fills up to `capacity` entries, the dynamic bucket last; returns the number
 * of buckets of the heap. */
size_t rulloc_heap_stats(rulloc_heap* heap, rulloc_bucket_stats* out,
                         size_t capacity);
/* 1 when every invariant holds, else 0. */
int rulloc_heap_check(rulloc_heap* heap);

#ifdef __cplusplus
}
#endif

#endif /* RULLOC_RULLOC_H */
