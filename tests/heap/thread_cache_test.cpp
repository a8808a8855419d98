// Thread caches (heap/thread_cache.hpp) on private pools: refills that
// start small and double up to half the limit, a full class giving back
// the half freed longest ago, the outbox for blocks of other lanes,
// counters flushed every flush_every events, lanes chosen and limited,
// exit giving everything back, and threads that free each other's blocks.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"
#include "parts.hpp"

namespace {

namespace heap = rulloc::heap;
using heap::testing::Message;
using heap::testing::PrivatePools;

constexpr std::size_t kClass = 0;  // 16 bytes

// 1 KiB per class: 64 blocks of 16 bytes; refills of 4, 8, 16, 32.
constexpr heap::CacheConfig kSmall{
    .bytes_per_class = 1024, .first_refill = 4, .flush_every = 8};

// Counters never due: the fast paths go on until a class is empty or full.
constexpr heap::CacheConfig kNoFlush{
    .bytes_per_class = 1024, .first_refill = 4, .flush_every = 1u << 30};

// A ThreadCache as the process heap's starts: all zero.
struct Cache : heap::ThreadCache {
  Cache() : heap::ThreadCache{} {}
};

struct Parts {
  explicit Parts(std::size_t lanes, heap::CacheConfig config = kSmall)
      : pools({.lanes = lanes}), caches(pools.pools, config) {}
  PrivatePools pools;
  heap::ThreadCaches caches;
  std::size_t slabs_in_use() { return pools.segments.stats().slabs_in_use; }
};

// As the process heap does: the fast path, else the slow one, and the
// counters flushed when the fast path says they are due.
void* pop(Parts& p, heap::ThreadCache& cache, std::size_t c = kClass) {
  void* block = cache.pop(c);
  if (block == nullptr) return p.caches.pop_slow(cache, c);
  if (cache.counters_due()) p.caches.flush_counters(cache);
  return block;
}

void push(Parts& p, heap::ThreadCache& cache, void* pointer) {
  auto* block = static_cast<heap::FreeBlock*>(pointer);
  const heap::SlabShape* shape = heap::shape_of(block);
  if (!cache.push(shape->size_class, shape->lane, block)) {
    p.caches.push_slow(cache, shape->size_class, shape->lane, block);
  } else if (cache.counters_due()) {
    p.caches.flush_counters(cache);
  }
}

TEST(ThreadCache, NothingIsCachedBeforeTheFirstSlowPath) {
  Parts p(1);
  Cache cache;
  EXPECT_EQ(cache.pop(kClass), nullptr);
  EXPECT_EQ(p.caches.live_threads(), 0);
  void* block = pop(p, cache);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(p.caches.live_threads(), 1);
  EXPECT_EQ(cache.classes[kClass].limit, 64u);
  EXPECT_EQ(p.caches.capacity(kClass), 64u);
  EXPECT_EQ(p.caches.capacity(heap::kClassCount - 1), 2u);  // at least 2
  push(p, cache, block);
  p.caches.exit(cache);
}

TEST(ThreadCache, RefillsStartSmallAndDoubleUpToHalfTheLimit) {
  Parts p(1, kNoFlush);
  Cache cache;
  std::vector<void*> out;
  for (std::uint32_t expected : {4u, 8u, 16u, 32u, 32u}) {
    ASSERT_EQ(cache.classes[kClass].count, 0u);
    ASSERT_EQ(cache.pop(kClass), nullptr);  // empty: the slow path
    out.push_back(p.caches.pop_slow(cache, kClass));
    // The refill took `expected` blocks, one of them handed out.
    EXPECT_EQ(cache.classes[kClass].count, expected - 1);
    while (void* block = cache.pop(kClass)) out.push_back(block);
  }
  EXPECT_EQ(out.size(), 4u + 8 + 16 + 32 + 32);
  for (void* block : out) push(p, cache, block);
  p.caches.exit(cache);
}

// A first refill takes at most first_refill_bytes' worth (at least one
// block): a thread with a few big blocks of many classes carves no more.
TEST(ThreadCache, TheFirstRefillTakesAtMostFirstRefillBytes) {
  Parts p(1, {.bytes_per_class = 32 * 1024,
              .first_refill = 16,
              .first_refill_bytes = 512,
              .flush_every = 1u << 30});
  Cache cache;
  // 16 blocks of 16 bytes; 2 of 256 bytes; 1 of 1 KiB, then 2, then 4.
  const std::pair<std::size_t, std::vector<std::uint32_t>> cases[] = {
      {0, {16}}, {15, {2, 4}}, {23, {1, 2, 4}}};
  ASSERT_EQ(heap::class_size(15), 256u);
  ASSERT_EQ(heap::class_size(23), 1024u);
  std::vector<void*> out;
  for (const auto& [size_class, refills] : cases) {
    for (std::uint32_t expected : refills) {
      ASSERT_EQ(cache.pop(size_class), nullptr);
      out.push_back(p.caches.pop_slow(cache, size_class));
      EXPECT_EQ(cache.classes[size_class].count, expected - 1)
          << "class " << heap::class_size(size_class) << " B";
      while (void* block = cache.pop(size_class)) out.push_back(block);
    }
  }
  for (void* block : out) push(p, cache, block);
  p.caches.exit(cache);
}

// Fresh blocks are carved at most carve_bytes at a time (16 blocks of 16
// bytes here), so a class touches no more memory than it uses plus that;
// blocks given back are still handed out a whole slab list at a time.
TEST(ThreadCache, RefillsCarveAtMostCarveBytesButTakeFreeListsWhole) {
  Parts p(1, {.bytes_per_class = 4096,
              .first_refill = 4,
              .carve_bytes = 256,
              .flush_every = 1u << 30});
  Cache cache;
  std::vector<void*> out;
  for (std::uint32_t expected : {4u, 8u, 16u, 16u, 16u}) {
    ASSERT_EQ(cache.pop(kClass), nullptr);
    out.push_back(p.caches.pop_slow(cache, kClass));
    EXPECT_EQ(cache.classes[kClass].count, expected - 1);
    while (void* block = cache.pop(kClass)) out.push_back(block);
  }
  const heap::Slab* slab = heap::slab_of(out.front());
  EXPECT_EQ(slab->carved, out.size());  // nothing carved beyond them
  // Back to the pool, then out again: 60 free blocks in one refill.
  for (void* block : out) push(p, cache, block);
  p.caches.flush(cache);
  ASSERT_EQ(cache.pop(kClass), nullptr);
  out.assign(1, p.caches.pop_slow(cache, kClass));
  EXPECT_EQ(cache.classes[kClass].count, 59u);
  EXPECT_EQ(slab->carved, 60u);
  while (void* block = cache.pop(kClass)) out.push_back(block);
  for (void* block : out) push(p, cache, block);
  p.caches.exit(cache);
}

TEST(ThreadCache, AFullClassGivesHalfBack) {
  Parts p(1, kNoFlush);
  Cache cache;
  std::vector<void*> out;
  for (int i = 0; i < 100; ++i) out.push_back(pop(p, cache));
  while (cache.classes[kClass].count > 0) {
    out.push_back(pop(p, cache));
  }
  for (void* block : out) {
    const std::uint32_t before = cache.classes[kClass].count;
    push(p, cache, block);
    ASSERT_LE(cache.classes[kClass].count, 64u);
    if (before == 64) {
      EXPECT_EQ(cache.classes[kClass].count, 33u);  // 32 went back, 1 came
    }
  }
  Message message;
  EXPECT_TRUE(heap::ThreadCaches::check(cache, message.out)) << message.str();
  p.caches.exit(cache);
  EXPECT_EQ(cache.classes[kClass].count, 0u);
}

// What goes back is what was freed longest ago: the blocks kept are the
// ones freed last (still in the CPU's cache), and a batch freed in order
// leaves the slabs of its first blocks empty.
TEST(ThreadCache, AFullClassKeepsTheBlocksFreedLast) {
  Parts p(1, kNoFlush);
  Cache cache;
  std::vector<void*> out;
  for (int i = 0; i < 100; ++i) out.push_back(pop(p, cache));
  while (cache.classes[kClass].count > 0) out.push_back(pop(p, cache));
  ASSERT_GE(out.size(), 65u);
  for (std::size_t i = 0; i < 65; ++i) push(p, cache, out[i]);
  std::set<void*> kept;
  for (heap::FreeBlock* b = cache.classes[kClass].head; b != nullptr;
       b = heap::next_of(b)) {
    kept.insert(b);
  }
  EXPECT_EQ(kept, std::set<void*>(out.begin() + 32, out.begin() + 65));
  for (std::size_t i = 65; i < out.size(); ++i) push(p, cache, out[i]);
  p.caches.exit(cache);
}

TEST(ThreadCache, BlocksOfAnotherLaneWaitInTheOutbox) {
  Parts p(2);
  Cache owner, other;
  void* first = pop(p, owner);
  pop(p, other);  // sets it up: the least used lane is the other one
  ASSERT_EQ(owner.lane, 0u);
  ASSERT_EQ(other.lane, 1u);
  EXPECT_EQ(p.caches.lane_users(0), 1u);
  EXPECT_EQ(p.caches.lane_users(1), 1u);
  auto* block = static_cast<heap::FreeBlock*>(first);
  EXPECT_FALSE(other.push(kClass, 0, block));  // not its lane
  p.caches.push_slow(other, kClass, 0, block);
  EXPECT_EQ(other.outbox[kClass].count, 1u);
  EXPECT_EQ(other.outbox[kClass].head, block);
  // Never handed out by the other thread.
  std::vector<void*> taken;
  for (int i = 0; i < 200; ++i) {
    void* b = pop(p, other);
    EXPECT_NE(b, first);
    taken.push_back(b);
  }
  Message message;
  EXPECT_TRUE(heap::ThreadCaches::check(other, message.out)) << message.str();
  // Half a cache of them goes back at once, to the owner's pool.
  std::vector<void*> owners;
  for (int i = 0; i < 40; ++i) owners.push_back(pop(p, owner));
  for (void* b : owners) {
    p.caches.push_slow(other, kClass, 0, static_cast<heap::FreeBlock*>(b));
    ASSERT_LT(other.outbox[kClass].count, 32u);
  }
  p.caches.exit(other);  // the rest of the outbox too
  EXPECT_EQ(other.outbox[kClass].count, 0u);
  // The owner's lane finds its block again in its pool.
  bool found = false;
  for (int i = 0; i < 2000 && !found; ++i) {
    heap::FreeBlock* chain = nullptr;
    if (p.pools.pools.take(0, kClass, 1, &chain) == 0) break;
    found = chain == block;
  }
  EXPECT_TRUE(found);
  p.caches.exit(owner);
}

// What the caches added to the heap's counters (CacheConfig::add_counters).
struct HeapCounters {
  static inline std::atomic<std::size_t> allocations{0}, frees{0};
  static inline std::atomic<long long> bytes{0};
  static void reset() {
    allocations = 0;
    frees = 0;
    bytes = 0;
  }
  static heap::CacheConfig added_by(heap::CacheConfig config) {
    config.add_counters = [](const heap::ThreadCounters& c) {
      allocations += c.allocations;
      frees += c.frees;
      bytes += c.bytes;
    };
    return config;
  }
};

TEST(ThreadCache, CountersGoToTheHeapEveryFlushEvery) {
  HeapCounters::reset();
  Parts p(1, HeapCounters::added_by(kSmall));
  Cache cache;
  std::vector<void*> out;
  // Counted in the cache until 8 are due; the 8th adds them to the heap's.
  for (int i = 0; i < 7; ++i) out.push_back(pop(p, cache));
  EXPECT_EQ(HeapCounters::allocations.load(), 0u);
  EXPECT_EQ(heap::ThreadCaches::pending(cache).allocations, 7u);
  EXPECT_EQ(heap::ThreadCaches::pending(cache).bytes, 7 * 16);
  out.push_back(pop(p, cache));
  EXPECT_EQ(HeapCounters::allocations.load(), 8u);
  EXPECT_EQ(HeapCounters::bytes.load(), 8 * 16);
  EXPECT_EQ(heap::ThreadCaches::pending(cache).allocations, 0u);
  out.push_back(pop(p, cache));
  // 1 allocation and 7 frees make the next 8.
  for (std::size_t i = 0; i < 7; ++i) push(p, cache, out[i]);
  EXPECT_EQ(HeapCounters::allocations.load(), 9u);
  EXPECT_EQ(HeapCounters::frees.load(), 7u);
  EXPECT_EQ(HeapCounters::bytes.load(), 2 * 16);
  push(p, cache, out[7]);
  EXPECT_EQ(heap::ThreadCaches::pending(cache).frees, 1u);
  EXPECT_EQ(heap::ThreadCaches::pending(cache).bytes, -16);
  push(p, cache, out[8]);
  p.caches.flush_counters(cache);
  EXPECT_EQ(HeapCounters::allocations.load(), 9u);
  EXPECT_EQ(HeapCounters::frees.load(), 9u);
  EXPECT_EQ(HeapCounters::bytes.load(), 0);
  // Cached bytes are published with the counters.
  EXPECT_EQ(p.caches.cached_bytes(), cache.classes[kClass].count * 16u);
  p.caches.exit(cache);
  EXPECT_EQ(p.caches.cached_bytes(), 0u);
}

// The fast paths count only events; allocations, frees and bytes follow
// from the blocks each thread took, gave back and holds, also when one
// thread frees another's blocks (its outbox), after an exit, and with the
// engine's blocks counted apart.
TEST(ThreadCache, CountersFollowTheBlocksAcrossLanesAndExits) {
  HeapCounters::reset();
  Parts p(2, HeapCounters::added_by(kNoFlush));
  Cache owner, other;
  std::vector<void*> out;
  for (int i = 0; i < 100; ++i) out.push_back(pop(p, owner, i % 3));
  ASSERT_NE(p.caches.lane_of(other), owner.lane);
  for (void* b : out) push(p, other, b);    // all to its outbox
  p.caches.count_event(other, 4096, true);  // an engine block
  EXPECT_EQ(heap::ThreadCaches::pending(owner).allocations, 100u);
  EXPECT_EQ(heap::ThreadCaches::pending(owner).frees, 0u);
  EXPECT_EQ(heap::ThreadCaches::pending(owner).bytes,
            (34 + 33 * 2 + 33 * 3) * 16);
  EXPECT_EQ(heap::ThreadCaches::pending(other).allocations, 1u);
  EXPECT_EQ(heap::ThreadCaches::pending(other).frees, 100u);
  EXPECT_EQ(heap::ThreadCaches::pending(other).bytes,
            4096 - (34 + 33 * 2 + 33 * 3) * 16);
  p.caches.flush_counters(owner);
  p.caches.exit(other);  // gives its outbox back, flushes
  EXPECT_EQ(HeapCounters::allocations.load(), 101u);
  EXPECT_EQ(HeapCounters::frees.load(), 100u);
  EXPECT_EQ(HeapCounters::bytes.load(), 4096);
  // After its exit every call is counted and flushed at once.
  void* late = pop(p, other);
  EXPECT_EQ(HeapCounters::allocations.load(), 102u);
  EXPECT_EQ(HeapCounters::bytes.load(), 4096 + 16);
  push(p, other, late);
  p.caches.count_event(other, -4096, false);
  EXPECT_EQ(HeapCounters::frees.load(), 102u);
  EXPECT_EQ(HeapCounters::bytes.load(), 0);
  p.caches.exit(owner);
  EXPECT_EQ(HeapCounters::allocations.load(), 102u);
  EXPECT_EQ(HeapCounters::frees.load(), 102u);
}

TEST(ThreadCache, NewThreadsTakeTheLeastUsedOfTheLanesAllowed) {
  Parts p(4);
  std::vector<Cache> caches(8);
  for (Cache& cache : caches) EXPECT_LT(p.caches.lane_of(cache), 4u);
  for (std::size_t lane = 0; lane < 4; ++lane) {
    EXPECT_EQ(p.caches.lane_users(lane), 2u) << lane;
  }
  p.caches.set_lanes(1);  // mallopt(M_ARENA_MAX, 1)
  Cache late;
  EXPECT_EQ(p.caches.lane_of(late), 0u);
  EXPECT_EQ(p.caches.lane_users(0), 3u);
  p.caches.set_lanes(0);
  EXPECT_EQ(p.caches.lanes_in_use(), 1u);
  p.caches.set_lanes(100);
  EXPECT_EQ(p.caches.lanes_in_use(), 4u);
  for (Cache& cache : caches) p.caches.exit(cache);
  p.caches.exit(late);
  for (std::size_t lane = 0; lane < 4; ++lane) {
    EXPECT_EQ(p.caches.lane_users(lane), 0u);
  }
  EXPECT_EQ(p.caches.live_threads(), 0);
}

TEST(ThreadCache, ExitGivesEverythingBackAndLaterCallsGoStraightThrough) {
  Parts p(2);
  Cache cache;
  std::vector<void*> out;
  for (std::size_t c = 0; c < 8; ++c) {
    for (int i = 0; i < 50; ++i) {
      out.push_back(pop(p, cache, c));
    }
  }
  for (void* b : out) push(p, cache, b);
  EXPECT_GT(p.slabs_in_use(), 0u);
  p.caches.exit(cache);
  EXPECT_EQ(cache.state, heap::CacheState::kGone);
  EXPECT_EQ(p.caches.live_threads(), 0);
  p.pools.pools.trim();
  EXPECT_EQ(p.slabs_in_use(), 0u);
  // After its exit a thread still allocates and frees, one block at a time.
  void* late = pop(p, cache);
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(cache.classes[kClass].count, 0u);
  EXPECT_EQ(cache.pop(kClass), nullptr);
  push(p, cache, late);
  EXPECT_EQ(cache.classes[kClass].count, 0u);
  p.pools.pools.trim();
  EXPECT_EQ(p.slabs_in_use(), 0u);
}

// Threads of their own caches on two lanes free each other's blocks, then
// exit: every block is back in its slab and every slab empty.
TEST(ThreadCache, ThreadsFreeEachOthersBlocksThenExit) {
  Parts p(2);
  std::mutex handed_lock;
  std::vector<void*> handed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Cache cache;
      for (int round = 0; round < 100; ++round) {
        std::vector<void*> mine;
        for (int i = 0; i < 100; ++i) {
          const std::size_t c = static_cast<std::size_t>(t + i) % 6;
          void* b = pop(p, cache, c);
          ASSERT_NE(b, nullptr);
          mine.push_back(b);
        }
        std::vector<void*> theirs;
        {
          std::lock_guard guard(handed_lock);
          theirs.swap(handed);
          handed.insert(handed.end(), mine.begin() + 50, mine.end());
        }
        mine.resize(50);
        for (void* b : mine) push(p, cache, b);
        for (void* b : theirs) push(p, cache, b);
      }
      Message message;
      EXPECT_TRUE(heap::ThreadCaches::check(cache, message.out))
          << message.str();
      p.caches.exit(cache);
    });
  }
  for (std::thread& thread : threads) thread.join();
  Cache last;
  for (void* b : handed) push(p, last, b);
  p.caches.exit(last);
  EXPECT_EQ(p.caches.live_threads(), 0);
  Message message;
  EXPECT_TRUE(p.pools.pools.check(message.out)) << message.str();
  p.pools.pools.trim();
  EXPECT_EQ(p.slabs_in_use(), 0u);
}

}  // namespace
