// Thread caches: each thread keeps free small blocks per size class and
// hands them out again without a lock or an atomic. Blocks come from the
// class pools of the thread's lane in batches and go back in batches when
// a cache holds too many; a thread that exits gives everything back.
// Cached blocks are free blocks (they carry the canary), so freeing one
// again is still caught.
//
// A thread keeps only blocks of its own lane. A block of another lane (an
// object another thread allocated) waits in the outbox and goes back to its
// own pool with the next batch: reusing it here would have this thread
// write next to blocks the other thread still uses (passive false sharing).
//
//   thread A (lane 0)           thread B (lane 1)
//   class 0: b -> b -> b        class 0: b       outbox 0: a -> a
//   class 3: b                  class 5: b -> b      (lane 0 blocks)
//        \                          /
//         +--- lane pools ----------+   (one lock per class and lane)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/text.hpp"
#include "heap/free_block.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "platform/per_thread.hpp"

namespace rulloc::heap {

struct ThreadCounters {
  std::size_t allocations;
  std::size_t frees;
  long long bytes;  // usable bytes allocated minus freed since last flush
};

struct ClassCache {
  FreeBlock* head;
  std::uint32_t count;
  // Blocks the class may hold: 0 until the cache is set up and after the
  // thread's exit hook, so a single compare sends those cases to the slow
  // path.
  std::uint32_t limit;
};

enum class CacheState : unsigned char { kUnused, kActive, kGone };

// Plain data in static TLS (one copy per thread): no constructor, no destructor
// registration (which could call malloc), ready from the thread's first
// instruction.
struct ThreadCache {
  ClassCache classes[kClassCount];
  ThreadCounters counters;
  std::uint32_t events;       // counted since the last flush of the counters
  std::uint32_t flush_after;  // 0 until set up and after the exit hook
  CacheState state;
  std::uint8_t lane;  // the lane of pools (and engine buckets) it uses
  // Per class: freed blocks of other lanes, on their way back.
  ClassCache outbox[kClassCount];
  // Per class: how many blocks the next refill takes. It starts small (set
  // up with the cache) and doubles up to half the class's limit, so a
  // short-lived thread does not carve (and give back) a thousand blocks for
  // its first few.
  std::uint16_t refill[kClassCount];
  // Bytes of blocks in `classes` and `outbox` as last added to the
  // process-wide figure (cache_bytes()), at the last flush of the counters.
  long long published_bytes;
};

// Each thread's copy of it (platform/per_thread.hpp): reached only through
// thread_cache().
extern RULLOC_PER_THREAD ThreadCache per_thread_cache;
inline ThreadCache& thread_cache() noexcept {
  return platform::this_thread(per_thread_cache);
}

// Blocks a class keeps: kCacheBytesPerClass worth, at least 2 blocks, at
// most 2048.
inline constexpr std::size_t kCacheBytesPerClass = 32 * 1024;
constexpr std::size_t cache_capacity(std::size_t size_class) noexcept {
  const std::size_t blocks = kCacheBytesPerClass / class_size(size_class);
  return blocks < 2 ? 2 : (blocks > 2048 ? 2048 : blocks);
}

// The fast paths below touch only this thread's cache and counters, and
// call nothing: anything unusual (empty or full class, counters due, cache
// not set up) makes them return nullptr / false, and the caller then takes
// the matching slow path, out of line.

// Secure mode: a free block whose canary changed was written after free.
inline void check_untouched(const FreeBlock* block) noexcept {
  if (!looks_free(block)) [[unlikely]] {
    base::report_misuse("malloc", block, "free block written after free");
  }
}

// A free block of `size_class` (counted as `bytes` allocated), or nullptr.
inline void* cache_pop(std::size_t size_class, std::uint32_t bytes) noexcept {
  ThreadCache& cache = thread_cache();
  ClassCache& cached = cache.classes[size_class];
  FreeBlock* block = cached.head;
  if (block == nullptr || cache.events >= cache.flush_after) [[unlikely]] {
    return nullptr;
  }
  FreeBlock* next = next_of(block);
  cached.head = next;
  // The next malloc of this class reads that block's link, and the program
  // then writes it: fetching it now hides a cache miss (mostly a block
  // another thread freed).
  __builtin_prefetch(next, 1);
  --cached.count;
  if constexpr (kSecure) check_untouched(block);
  block->canary = 0;
  ++cache.events;
  ++cache.counters.allocations;
  cache.counters.bytes += bytes;
  return block;
}

// Keeps a checked, freed block of `size_class` from a slab of `lane`
// (counted as `bytes` freed), or returns false.
inline bool cache_push(std::size_t size_class, std::size_t lane,
                       FreeBlock* block, std::uint32_t bytes) noexcept {
  ThreadCache& cache = thread_cache();
  ClassCache& cached = cache.classes[size_class];
  if (cached.count >= cached.limit || cache.events >= cache.flush_after ||
      lane != cache.lane) [[unlikely]] {
    return false;
  }
  set_next(block, cached.head);
  block->canary = canary_of(block);
  cached.head = block;
  ++cached.count;
  ++cache.events;
  ++cache.counters.frees;
  cache.counters.bytes -= bytes;
  return true;
}

// The slow paths: cache_pop() and cache_push() for any case. Blocks come
// from and go to the class pools in batches; nullptr when the kernel gives
// no memory.
void* cache_pop_slow(std::size_t size_class, std::uint32_t bytes) noexcept;
void cache_push_slow(std::size_t size_class, std::size_t lane, FreeBlock* block,
                     std::uint32_t bytes) noexcept;

// The lane of this thread: a thread takes the least used lane as it sets its
// caches up (lane 0 when it cannot be set up).
std::size_t thread_lane_slow() noexcept;
inline std::size_t thread_lane() noexcept {
  if (thread_cache().state != CacheState::kActive) [[unlikely]] {
    return thread_lane_slow();
  }
  return thread_cache().lane;
}

// Counts an allocation or free done outside the cache (engine blocks).
void count_event(long long bytes, bool allocation) noexcept;

// Once, before any thread uses a cache: what to call with counters to add
// them to the process-wide ones.
void cache_init(void (*on_flush)(const ThreadCounters&)) noexcept;
// Adds this thread's counters to the process-wide ones now.
void flush_counters() noexcept;
// Threads that allocated and have not exited (threads that never allocated
// are not counted). The purger leaves when none is left, so that a program
// whose last thread calls pthread_exit() still ends.
long cache_live_threads() noexcept;
// Threads set up from now on take one of the first `lanes` lanes (1 to
// kLanes; mallopt's M_ARENA_MAX).
void cache_set_lanes(std::size_t lanes) noexcept;
// In a child after fork(): only the calling thread came along.
void cache_after_fork_in_child() noexcept;
// Forgets what this thread counted since the last flush.
void discard_counters() noexcept;
// Gives this thread's cached blocks back to the pools.
void cache_flush() noexcept;

// The live heap, on demand (heap/inspect.cpp). Bytes of free blocks held
// in all threads' caches and outboxes, as each thread last reported them
// (with its counters: every 1024 of its calls, and at its exit).
std::size_t cache_bytes() noexcept;
// Threads on `lane` now.
unsigned cache_lane_users(std::size_t lane) noexcept;
// Checks the calling thread's own cache and outbox (another thread's is
// out of reach: it changes without a lock; cache_checks.hpp asks that
// thread to check its own): each list as long as counted, every block a
// free block (its canary) at a block start of a slab of its class, of the
// thread's lane in `classes`. A violation names the cache as `whose`
// ("this thread's") cache or outbox, its lane and class.
bool check_own_cache(base::Text& error, const char* whose) noexcept;

}  // namespace rulloc::heap
