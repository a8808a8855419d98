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

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "base/text.hpp"
#include "heap/class_pool.hpp"
#include "heap/free_block.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {

struct ThreadCounters {
  std::size_t allocations;
  std::size_t frees;
  long long bytes;  // usable bytes allocated minus freed
};

struct ClassCache {
  FreeBlock* head;
  std::uint32_t count;
  // Blocks the class may hold: 0 until the cache is set up and after the
  // thread's exit, so a single compare sends those cases to the slow path.
  std::uint32_t limit;
};

// Blocks of other lanes a thread freed, per class, on their way back.
struct Outbox {
  FreeBlock* head;
  std::uint32_t count;
};

enum class CacheState : unsigned char { kUnused, kActive, kGone };

// One thread's cache: plain data, all zero until it is set up, so the
// process heap keeps one copy per thread (platform/per_thread.hpp: no
// constructor, no destructor registration, which could call malloc; ready
// from the thread's first instruction). Its fast paths, pop() and push(),
// touch only the cache itself and call nothing: an empty or full class, a
// block of another lane or a cache not set up makes them return nullptr /
// false, and the caller then takes the matching slow path of its
// ThreadCaches, out of line; when counters_due() after one, the caller
// hands the cache to ThreadCaches::flush_counters().
//
// The fast paths count nothing but events: how many blocks of each class
// the thread has in use follows from what it took from the pools, gave
// back and holds (`taken`, the lists' counts), so a flush works out the
// allocations, frees and bytes since the last one (ThreadCaches::pending).
struct ThreadCache {
  ClassCache classes[kClassCount];
  // Events (allocations and frees) left before the counters are due; 0
  // until the cache is set up.
  std::uint32_t events_left;
  std::uint32_t events_budget;  // what events_left was set to at the flush
  CacheState state;
  std::uint8_t lane;  // the lane of pools (and engine buckets) it uses
  Outbox outbox[kClassCount];
  // Per class: how many blocks the next refill takes. It starts small (set
  // up with the cache) and doubles up to half the class's limit, so a
  // short-lived thread does not carve (and give back) a thousand blocks for
  // its first few.
  std::uint16_t refill[kClassCount];
  // Per class: blocks taken from the pools minus blocks given back to them
  // (its own and other threads' blocks). Minus the blocks in `classes` and
  // `outbox`: the class's blocks this thread has in use (negative when it
  // freed more of other threads' blocks than it allocated).
  long long taken[kClassCount];
  // Engine blocks, counted one by one (ThreadCaches::count_event).
  ThreadCounters counters;
  // At the last flush: the blocks and bytes in use worked out from
  // `taken`, and the bytes held in `classes` and `outbox`, as added to the
  // heap's figures.
  long long published_blocks;
  long long published_small_bytes;
  long long published_bytes;

  // A free block of `size_class`, or nullptr.
  [[gnu::always_inline]] void* pop(std::size_t size_class) noexcept {
    ClassCache& cached = classes[size_class];
    FreeBlock* block = cached.head;
    if (block == nullptr) [[unlikely]] {
      return nullptr;
    }
    FreeBlock* next = next_of(block);
    cached.head = next;
    // The next malloc of this class reads that block's link, and the
    // program then writes it: fetching it now hides a cache miss (mostly a
    // block another thread freed).
    __builtin_prefetch(next, 1);
    --cached.count;
    check_untouched(block);
    block->canary = 0;
    --events_left;
    return block;
  }

  // Keeps a checked, freed block of `size_class` from a slab of `lane`, or
  // returns false.
  [[gnu::always_inline]] bool push(std::size_t size_class,
                                   std::size_t block_lane,
                                   FreeBlock* block) noexcept {
    ClassCache& cached = classes[size_class];
    if (cached.count >= cached.limit || block_lane != lane) [[unlikely]] {
      return false;
    }
    set_next(block, cached.head);
    cached.head = block;
    ++cached.count;
    block->canary = canary_of(block);
    --events_left;
    return true;
  }

  // After a pop() or push(): the counters are due for a flush.
  bool counters_due() const noexcept { return events_left == 0; }
};

struct CacheConfig {
  // Blocks a class keeps: this many bytes' worth, at least 2 blocks, at
  // most 2048.
  std::size_t bytes_per_class = 32 * 1024;
  // A thread's first refill of a class takes this many blocks (or half the
  // class's limit, when smaller).
  std::uint32_t first_refill = 16;
  // ... and at most this many bytes' worth (at least one block): a thread
  // that uses a few big blocks of many classes carves no more.
  std::size_t first_refill_bytes = SIZE_MAX;
  // A refill carves fresh blocks (writing to their memory) up to this many
  // bytes' worth, at least one block: blocks carved and not yet used stay
  // resident in the cache, a page or two per class instead of up to half
  // the class's limit.
  std::size_t carve_bytes = 4096;
  // Counters go to the process-wide ones every this many events, so the
  // fast path touches no shared cache line.
  std::uint32_t flush_every = 1024;
  // What to call with a thread's counters to add them to the heap's
  // (nullptr: they are dropped).
  void (*add_counters)(const ThreadCounters&) = nullptr;
  // Called once as each thread's cache is set up (the process heap arranges
  // for exit() at the thread's exit there); nullptr: nothing.
  void (*on_setup)(ThreadCache* cache) = nullptr;
  // Called at the end of each flush of a cache's counters, which its own
  // thread does between two operations on it (the process heap answers
  // another thread's rulloc_check there, cache_checks.hpp); nullptr:
  // nothing.
  void (*after_flush)(ThreadCache* cache) = nullptr;
};

// The thread caches of one heap: their slow paths, which move blocks to and
// from the class pools in batches, and what all its threads share (lanes'
// users, live threads, bytes cached). Blocks are handed out nullptr when
// the kernel gives no memory.
class ThreadCaches {
 public:
  ThreadCaches(ClassPools& pools, CacheConfig config) noexcept
      : pools_(pools), config_(config), lanes_in_use_(pools.lanes()) {}
  ThreadCaches(const ThreadCaches&) = delete;
  ThreadCaches& operator=(const ThreadCaches&) = delete;

  ClassPools& pools() const noexcept { return pools_; }
  // Blocks class `size_class` keeps.
  std::uint32_t capacity(std::size_t size_class) const noexcept;

  // ThreadCache::pop() and push() for any case (counters included).
  void* pop_slow(ThreadCache& cache, std::size_t size_class) noexcept;
  void push_slow(ThreadCache& cache, std::size_t size_class, std::size_t lane,
                 FreeBlock* block) noexcept;

  // The lane of `cache`: a thread takes the least used lane as it sets its
  // cache up (lane 0 when it cannot be set up).
  std::size_t lane_of(ThreadCache& cache) noexcept {
    if (cache.state != CacheState::kActive) [[unlikely]] {
      return lane_slow(cache);
    }
    return cache.lane;
  }

  // Counts an allocation or free done outside the cache (engine blocks).
  void count_event(ThreadCache& cache, long long bytes,
                   bool allocation) noexcept;
  // What the cache counted since the last flush.
  static ThreadCounters pending(const ThreadCache& cache) noexcept;
  // Adds the cache's counters to the heap's now.
  void flush_counters(ThreadCache& cache) noexcept;
  // Forgets what the cache counted since the last flush.
  static void discard_counters(ThreadCache& cache) noexcept;
  // Gives the cached blocks back to the pools.
  void flush(ThreadCache& cache) noexcept;
  // The thread's exit: everything back to the pools, its lane left, its
  // counters flushed; from then on its blocks and counts go straight
  // through (one block at a time).
  void exit(ThreadCache& cache) noexcept;

  // Threads that allocated and have not exited (threads that never
  // allocated are not counted).
  long live_threads() const noexcept {
    return live_threads_.load(std::memory_order_relaxed);
  }
  // Threads set up from now on take one of the first `lanes` lanes (1 to
  // pools().lanes(); mallopt's M_ARENA_MAX).
  void set_lanes(std::size_t lanes) noexcept;
  std::size_t lanes_in_use() const noexcept {
    return lanes_in_use_.load(std::memory_order_relaxed);
  }
  // In a child after fork(): only `survivor`'s thread came along.
  void after_fork_in_child(const ThreadCache& survivor) noexcept;

  // The live heap, on demand (heap/inspect.cpp). Bytes of free blocks held
  // in all threads' caches and outboxes, as each thread last reported them
  // (with its counters: every flush_every of its calls, and at its exit).
  std::size_t cached_bytes() const noexcept;
  // Threads on `lane` now.
  unsigned lane_users(std::size_t lane) const noexcept;
  // Checks one cache and outbox, which must be the calling thread's
  // (another thread's changes without a lock): each list as long as
  // counted, every block a free block (its canary) at a block start of a
  // slab of its class, of the cache's lane in `classes`. A violation names
  // the cache as `whose` ("this thread's") cache or outbox, its lane and
  // class.
  static bool check(const ThreadCache& cache, base::Text& error,
                    const char* whose = "this thread's") noexcept;

 private:
  bool ready(ThreadCache& cache) noexcept;
  // Blocks the first refill of the class takes.
  std::uint32_t first_refill(std::size_t size_class,
                             std::uint32_t limit) const noexcept;
  // Fresh blocks one refill of the class may carve.
  std::size_t carve_limit(std::size_t size_class) const noexcept;
  void event_done(ThreadCache& cache) noexcept;
  std::size_t lane_slow(ThreadCache& cache) noexcept;
  std::uint8_t join_lane() noexcept;
  // Gives the blocks of a class cache after the `keep` freed last, or the
  // whole outbox of a class, back to the pools.
  void give_back(ThreadCache& cache, std::size_t size_class,
                 std::size_t keep) noexcept;
  void give_outbox(ThreadCache& cache, std::size_t size_class) noexcept;

  ClassPools& pools_;
  const CacheConfig config_;
  // Threads whose cache is set up and whose exit has not come yet.
  std::atomic<long> live_threads_{0};
  // Threads on each lane. A new thread takes the least used lane, so a
  // program that replaces its threads keeps to as few lanes (and as few
  // half-used slabs) as it has threads at a time.
  std::atomic<unsigned> lane_users_[kMaxLanes] = {};
  // How many lanes new threads choose from (mallopt's M_ARENA_MAX).
  std::atomic<std::size_t> lanes_in_use_;
  // Bytes in every thread's cache and outbox, as last published.
  std::atomic<long long> cached_bytes_{0};
};

}  // namespace rulloc::heap
