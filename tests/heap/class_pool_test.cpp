// Class pools (heap/class_pool.hpp) in private instances: batches taken and
// given back to their own slabs, lanes kept apart, empty slabs kept or
// trimmed, what is left when segments run out, and threads of two lanes
// trading blocks.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "parts.hpp"

namespace {

namespace heap = rulloc::heap;
using heap::testing::blocks_of;
using heap::testing::Message;
using heap::testing::PrivatePools;

constexpr std::size_t kClass = 5;  // 96 bytes

std::size_t per_slab(std::size_t size_class) {
  return heap::kSlabBytes / heap::class_size(size_class);
}

std::size_t slabs_in_use(PrivatePools& p) {
  return p.segments.stats().slabs_in_use;
}

TEST(ClassPools, LanesAreWithinOneAndTheMaximum) {
  PrivatePools none({.lanes = 0});
  EXPECT_EQ(none.pools.lanes(), 1u);
  PrivatePools many({.lanes = 1000});
  EXPECT_EQ(many.pools.lanes(), heap::kMaxLanes);
  PrivatePools three({.lanes = 3});
  EXPECT_EQ(three.pools.lanes(), 3u);
}

TEST(ClassPools, BatchesComeFromSlabsAndGoBackToThem) {
  PrivatePools p({.lanes = 1, .keep_empty = 1});
  const std::size_t want = 3 * per_slab(kClass);  // three slabs
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, want, &chain), want);
  EXPECT_EQ(blocks_of(chain, kClass).size(), want);
  EXPECT_EQ(slabs_in_use(p), 3u);
  Message taken;
  EXPECT_TRUE(p.pools.check(taken.out)) << taken.str();
  p.pools.give(chain);
  // Every slab emptied: all but the one the pool keeps went back.
  EXPECT_EQ(slabs_in_use(p), 1u);
  p.pools.trim();
  EXPECT_EQ(slabs_in_use(p), 0u);
  // Taken again, blocks come from a slab given back (its pages kept).
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 10, &again), 10u);
  EXPECT_EQ(p.segments.stats().segments, 1u);
  p.pools.give(again);
  Message given;
  EXPECT_TRUE(p.pools.check(given.out)) << given.str();
}

TEST(ClassPools, KeepEmptyIsHowManyEmptySlabsStay) {
  for (std::size_t keep : {0u, 2u}) {
    PrivatePools p({.lanes = 1, .keep_empty = keep});
    heap::FreeBlock* chain = nullptr;
    const std::size_t want = 4 * per_slab(kClass);
    ASSERT_EQ(p.pools.take(0, kClass, want, &chain), want);
    p.pools.give(chain);
    EXPECT_EQ(slabs_in_use(p), keep);
    p.pools.trim();
    EXPECT_EQ(slabs_in_use(p), 0u);
  }
}

TEST(ClassPools, LanesNeverShareASlab) {
  PrivatePools p({.lanes = 2});
  heap::FreeBlock* zero = nullptr;
  heap::FreeBlock* one = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 50, &zero), 50u);
  ASSERT_EQ(p.pools.take(1, kClass, 50, &one), 50u);
  std::set<heap::Slab*> slabs_zero, slabs_one;
  for (heap::FreeBlock* b : blocks_of(zero, kClass)) {
    EXPECT_EQ(heap::shape_of(b)->lane, 0u);
    slabs_zero.insert(heap::slab_of(b));
  }
  for (heap::FreeBlock* b : blocks_of(one, kClass)) {
    EXPECT_EQ(heap::shape_of(b)->lane, 1u);
    slabs_one.insert(heap::slab_of(b));
  }
  for (heap::Slab* slab : slabs_zero) EXPECT_EQ(slabs_one.count(slab), 0u);
  // One chain of both lanes goes back, each block to its own lane's pool:
  // lane 1 hands out only its own blocks again.
  heap::FreeBlock* last = zero;
  while (heap::next_of(last) != nullptr) last = heap::next_of(last);
  heap::set_next(last, one);
  p.pools.give(zero);
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(1, kClass, 50, &again), 50u);
  for (heap::FreeBlock* b : blocks_of(again, kClass)) {
    EXPECT_EQ(slabs_one.count(heap::slab_of(b)), 1u);
  }
  p.pools.give(again);
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
}

TEST(ClassPools, TakeGivesWhatIsLeftWhenSegmentsRunOut) {
  PrivatePools p({.lanes = 1}, {.max_segments = 1});
  constexpr std::size_t kLargest = heap::kClassCount - 1;  // 2 per slab
  const std::size_t all = (heap::kSlabsPerSegment - 1) * per_slab(kLargest);
  heap::FreeBlock* chain = nullptr;
  EXPECT_EQ(p.pools.take(0, kLargest, all + 10, &chain), all);
  heap::FreeBlock* more = nullptr;
  EXPECT_EQ(p.pools.take(0, kLargest, 1, &more), 0u);
  EXPECT_EQ(more, nullptr);
  p.pools.give(chain);
  EXPECT_EQ(p.pools.take(0, kLargest, 1, &more), 1u);
  p.pools.give(more);
}

TEST(ClassPools, CheckNamesABrokenSlab) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 3, &chain), 3u);
  heap::Slab* slab = heap::slab_of(chain);
  --slab->used;  // one fewer in use than the blocks out
  Message broken;
  EXPECT_FALSE(p.pools.check(broken.out));
  EXPECT_NE(broken.str().find("in use + free != blocks carved"),
            std::string::npos)
      << broken.str();
  ++slab->used;
  p.pools.give(chain);
}

// Threads of two lanes take batches, hand half of each to a thread of the
// other lane, and give back what they got: every block goes back to its
// own pool, whoever gives it.
TEST(ClassPools, ThreadsOfTwoLanesTradeBlocks) {
  PrivatePools p({.lanes = 2});
  std::mutex traded_lock;
  std::vector<heap::FreeBlock*> traded;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::size_t lane = t % 2;
      for (int round = 0; round < 200; ++round) {
        const std::size_t size_class = (t + round) % 8;
        heap::FreeBlock* chain = nullptr;
        const std::size_t n = p.pools.take(lane, size_class, 32, &chain);
        ASSERT_EQ(n, 32u);
        heap::FreeBlock* keep = nullptr;
        std::vector<heap::FreeBlock*> blocks;
        while (chain != nullptr) {
          heap::FreeBlock* next = heap::next_of(chain);
          ASSERT_EQ(heap::shape_of(chain)->lane, lane);
          blocks.push_back(chain);
          chain = next;
        }
        for (std::size_t i = 0; i < blocks.size(); ++i) {
          if (i % 2 == 0) {
            heap::set_next(blocks[i], keep);
            keep = blocks[i];
          } else {
            std::lock_guard guard(traded_lock);
            traded.push_back(blocks[i]);
          }
        }
        p.pools.give(keep);
        std::vector<heap::FreeBlock*> mine;
        {
          std::lock_guard guard(traded_lock);
          mine.swap(traded);
        }
        for (heap::FreeBlock* b : mine) {
          heap::set_next(b, nullptr);
          p.pools.give(b);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (heap::FreeBlock* b : traded) {
    heap::set_next(b, nullptr);
    p.pools.give(b);
  }
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
  p.pools.trim();
  EXPECT_EQ(slabs_in_use(p), 0u);
}

}  // namespace
