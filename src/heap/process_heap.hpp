// The process-wide heap behind malloc and operator new: one engine with
// buckets tuned for general programs, built on first use without allocating,
// safe across fork(), with counters for RULLOC_SHOW_STATS.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rulloc/malloc.h"

namespace rulloc::heap {

// Every block malloc returns is aligned to this (glibc's guarantee on
// x86-64, which programs rely on for SSE loads).
inline constexpr std::size_t kMallocAlign = 16;

// `align` is a power of two (else nullptr); below kMallocAlign it is served
// at kMallocAlign. nullptr on failure (errno untouched: callers set it).
void* allocate(std::size_t size, std::size_t align, bool zeroed) noexcept;
void release(void* pointer) noexcept;
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
