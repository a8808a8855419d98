// The process-wide heap behind malloc and operator new: one engine with
// buckets tuned for general programs, built on first use without allocating,
// safe across fork(), with counters for RULLOC_SHOW_STATS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "heap/secure.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"
#include "platform/per_thread.hpp"
#include "rulloc/malloc.h"

namespace rulloc::heap {

// Every block malloc returns is aligned to this (glibc's guarantee on
// x86-64, which programs rely on for SSE loads).
inline constexpr std::size_t kMallocAlign = 16;

// The fast paths of allocate() and release(), inline so that malloc and
// free (and new and delete) hold them whole, with or without link-time
// optimisation; everything else is out of line in process_heap.cpp.
namespace detail {

// Each thread's cache (thread_cache.hpp), one copy per thread
// (platform/per_thread.hpp).
extern RULLOC_PER_THREAD ThreadCache per_thread_cache;
inline ThreadCache& thread_cache() noexcept {
  return platform::this_thread(per_thread_cache);
}

[[gnu::noinline]] void* allocate_small_slow(std::size_t size_class,
                                            std::size_t size,
                                            bool zeroed) noexcept;
[[gnu::noinline]] void* allocate_other(std::size_t size, std::size_t align,
                                       bool zeroed) noexcept;
[[gnu::noinline]] void release_small_slow(const SlabShape* slab,
                                          FreeBlock* block) noexcept;
[[gnu::noinline]] void release_other(void* pointer) noexcept;
// Flushes the thread's counters (due after a fast path), then returns
// `block`: called last, so the fast paths around it keep no registers.
[[gnu::noinline]] void* flush_counters_then(void* block) noexcept;
// Stops the program for a pointer into a slab that is not a block in use.
[[gnu::cold, gnu::noinline]] void report_small_misuse(
    const SlabShape* slab, const void* pointer, const char* operation) noexcept;

}  // namespace detail

// `pointer`, which lies in `slab`, as a block in use; anything else stops
// the program.
[[gnu::always_inline]] inline FreeBlock* checked_small_block(
    const SlabShape* slab, const void* pointer,
    const char* operation) noexcept {
  auto* block = static_cast<FreeBlock*>(const_cast<void*>(pointer));
  if constexpr (kUnchecked) return block;
  if (!is_block_start(*slab, pointer) || looks_free(block)) [[unlikely]] {
    detail::report_small_misuse(slab, pointer, operation);
  }
  return block;
}

[[gnu::always_inline]] inline void* allocate_small(std::size_t size_class,
                                                   std::size_t size,
                                                   bool zeroed) noexcept {
  ThreadCache& cache = detail::thread_cache();
  void* block = cache.pop(size_class);
  if (block == nullptr) [[unlikely]] {
    return detail::allocate_small_slow(size_class, size, zeroed);
  }
  if (zeroed) std::memset(block, 0, size);
  if (cache.counters_due()) [[unlikely]] {
    return detail::flush_counters_then(block);
  }
  return block;
}

[[gnu::always_inline]] inline void release_small(const SlabShape* slab,
                                                 void* pointer) noexcept {
  FreeBlock* block = checked_small_block(slab, pointer, "free");
  ThreadCache& cache = detail::thread_cache();
  if (!cache.push(slab->size_class, slab->lane, block)) [[unlikely]] {
    detail::release_small_slow(slab, block);
  } else if (cache.counters_due()) [[unlikely]] {
    detail::flush_counters_then(nullptr);
  }
}

// `align` is a power of two (else nullptr); below kMallocAlign it is served
// at kMallocAlign. nullptr on failure, with errno = ENOMEM when memory ran
// out.
[[gnu::always_inline]] inline void* allocate(std::size_t size,
                                             std::size_t align,
                                             bool zeroed) noexcept {
  if (align == kMallocAlign && size <= kMaxSmallSize) [[likely]] {
    return allocate_small(class_for_request(size), size, zeroed);
  }
  return detail::allocate_other(size, align, zeroed);
}

[[gnu::always_inline]] inline void release(void* pointer) noexcept {
  // No segment lies at address 0, so nullptr goes the other way.
  if (in_segment(pointer)) [[likely]] {
    release_small(&shape_in_segment(pointer), pointer);
    return;
  }
  detail::release_other(pointer);
}
// Resizes to `size` keeping min(old, new) bytes, aligned to kMallocAlign.
// nullptr on failure, and `pointer` stays valid.
void* reallocate(void* pointer, std::size_t size) noexcept;
std::size_t usable_size(const void* pointer) noexcept;
// Whether `pointer` lies in memory of rulloc's (a slab, an engine region, a
// region given back lately), so that release() takes it or reports its
// misuse; false for blocks of another heap (the C runtime's on Windows).
bool owns(const void* pointer) noexcept;

std::size_t trim() noexcept;

// Before the program creates a thread (the override's pthread_create): the
// one place that starts the purger in a threaded process (purger.hpp).
void before_thread_create() noexcept;
// Purge rounds completed so far.
std::uint64_t purge_rounds() noexcept;
// mallopt()'s settings that mean something here; false when out of range.
bool set_purge_delay(long ms) noexcept;
// M_ARENA_MAX: threads set up from now on keep to the first `count` lanes.
void set_lanes(std::size_t count) noexcept;
// The lanes the heap was built with: one per CPU (at most kMaxLanes), or
// the option lanes.
std::size_t lane_count() noexcept;
// The calling thread's lane (it takes the least used one as it starts).
std::size_t thread_lane() noexcept;
// Blocks of at least `bytes` get a region of their own (M_MMAP_THRESHOLD).
void set_mmap_threshold(std::size_t bytes) noexcept;
// Free slabs beyond `bytes` are purged at once; -1: none is (options.hpp's
// trim_threshold, M_TRIM_THRESHOLD).
void set_trim_threshold(long long bytes) noexcept;

void get_stats(rulloc_malloc_stats* out) noexcept;
void print_stats() noexcept;

// The live heap, on demand (inspect.cpp; rulloc/malloc.h describes them):
// 0 when every invariant holds, else the first violation in `error`; the
// heap drawn to a descriptor; the figures and the map as JSON, the length
// they need.
int check(char* error, std::size_t size) noexcept;
void dump(int descriptor) noexcept;
std::size_t stats_json(char* buffer, std::size_t size) noexcept;
std::size_t map_json(char* buffer, std::size_t size) noexcept;

}  // namespace rulloc::heap
