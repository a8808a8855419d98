// Thread caches: each thread keeps free small blocks per size class and
// hands them out again without a lock or an atomic. Blocks come from the
// class pools in batches and go back in batches when a cache holds too
// many; a thread that exits gives everything back. Cached blocks are free
// blocks (they carry the canary), so freeing one again is still caught.
//
//   thread A cache              thread B cache
//   class 0: b -> b -> b        class 0: b
//   class 3: b                  class 5: b -> b
//        \                          /
//         +---- class pools -------+   (one lock per class, slabs)
#pragma once

#include <cstddef>

#include "heap/free_block.hpp"
#include "heap/size_classes.hpp"

namespace rulloc::heap {

struct ThreadCounters {
  std::size_t allocations;
  std::size_t frees;
  long long bytes;  // usable bytes allocated minus freed since last flush
};

struct ClassCache {
  FreeBlock* head;
  std::size_t count;
};

enum class CacheState : unsigned char { kUnused, kActive, kGone };

// Plain data in static TLS: no constructor, no destructor registration (which
// could call malloc), ready from the thread's first instruction.
struct ThreadCache {
  ClassCache classes[kClassCount];
  CacheState state;
  ThreadCounters counters;
};

extern __thread ThreadCache thread_cache
    __attribute__((tls_model("initial-exec")));

// Blocks a class keeps: up to 32 KiB worth, 8 to 256 blocks.
constexpr std::size_t cache_capacity(std::size_t size_class) noexcept {
  const std::size_t blocks = (32 * 1024) / class_size(size_class);
  return blocks < 8 ? 8 : (blocks > 256 ? 256 : blocks);
}

// Slow paths, out of line.
void* cache_refill(std::size_t size_class) noexcept;
void cache_overflow(std::size_t size_class, FreeBlock* block) noexcept;

// A block of `size_class`, or nullptr when the kernel gives no memory.
inline void* cache_allocate(std::size_t size_class) noexcept {
  ClassCache& cached = thread_cache.classes[size_class];
  FreeBlock* block = cached.head;
  if (block == nullptr) [[unlikely]]
    return cache_refill(size_class);
  cached.head = block->next;
  --cached.count;
  block->canary = 0;
  return block;
}

// Keeps a checked, freed block of `size_class`.
inline void cache_free(std::size_t size_class, FreeBlock* block) noexcept {
  ClassCache& cached = thread_cache.classes[size_class];
  if (cached.count >= cache_capacity(size_class) ||
      thread_cache.state != CacheState::kActive) [[unlikely]] {
    cache_overflow(size_class, block);
    return;
  }
  block->next = cached.head;
  block->canary = canary_of(block);
  cached.head = block;
  ++cached.count;
}

// This thread's counters since their last flush, which the caller adds to
// the process-wide ones.
ThreadCounters& cache_counters() noexcept;
// True once this thread's exit hook has run: its counters are no longer
// flushed for it.
inline bool cache_exited() noexcept {
  return thread_cache.state == CacheState::kGone;
}

// Once, before any thread uses a cache: what to call with counters when a
// thread's cache is flushed at exit.
void cache_init(void (*on_flush)(const ThreadCounters&)) noexcept;
// Gives this thread's cached blocks back to the pools.
void cache_flush() noexcept;

}  // namespace rulloc::heap
