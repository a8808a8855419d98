// The small-block layers of the process heap, one by one: size classes,
// slab arithmetic, segments, class pools and thread caches (through
// rulloc::heap). Runs in every build, sanitizers included.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/process_heap.hpp"
#include "heap/random_order.hpp"
#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"

namespace {

namespace heap = rulloc::heap;

std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// Builds the process heap (and its secret) before any layer is used alone.
void build_heap() {
  heap::release(heap::allocate(1, heap::kMallocAlign, false));
}

TEST(SizeClasses, EverySizeGetsTheSmallestClassThatHoldsIt) {
  for (std::size_t c = 1; c < heap::kClassCount; ++c) {
    EXPECT_LT(heap::class_size(c - 1), heap::class_size(c));
    EXPECT_EQ(heap::class_size(c) % 16, 0u) << c;
  }
  for (std::size_t size = 0; size <= heap::kMaxSmallSize; ++size) {
    const std::size_t c = heap::class_for_request(size);
    ASSERT_LT(c, heap::kClassCount);
    ASSERT_GE(heap::class_size(c), size);
    if (c > 0) {
      ASSERT_LT(heap::class_size(c - 1), size) << size;
    }
    // Above 256 bytes, at most 25% of a block is slack.
    if (size > 256) {
      ASSERT_LE(heap::class_size(c) * 4, size * 5 + 64) << size;
    }
  }
}

TEST(SizeClasses, PowersOfTwoAreClasses) {
  for (std::size_t size = 16; size <= heap::kMaxSmallSize; size *= 2) {
    EXPECT_EQ(heap::class_size(heap::class_for_request(size)), size);
  }
}

TEST(Slab, BlockStartsAreExactlyTheMultiplesOfTheClassSize) {
  build_heap();
  for (std::size_t c = 0; c < heap::kClassCount; ++c) {
    heap::Slab* slab = heap::take_slab(c);
    ASSERT_NE(slab, nullptr);
    std::byte* start = heap::slab_start(slab);
    EXPECT_EQ(addr(start) % heap::kSlabBytes, 0u);
    EXPECT_EQ(heap::slab_of(start), slab);
    EXPECT_EQ(heap::slab_of(start + heap::kSlabBytes - 1), slab);
    const heap::SlabShape* shape = heap::shape_of(start + 5);
    ASSERT_EQ(shape, &heap::slab_shape(slab));
    const std::size_t size = heap::class_size(c);
    ASSERT_EQ(shape->block_size, size);
    ASSERT_EQ(shape->size_class, c);
    ASSERT_EQ(shape->capacity, heap::kSlabBytes / size);
    for (std::size_t offset = 0; offset < heap::kSlabBytes; ++offset) {
      const bool expected =
          offset % size == 0 && offset / size < shape->capacity;
      ASSERT_EQ(heap::is_block_start(*shape, start + offset), expected)
          << "class " << c << " offset " << offset;
    }
    heap::give_back_slab(slab);
    // A slab given back holds no block: no pointer passes.
    for (std::size_t offset = 0; offset < heap::kSlabBytes; offset += 16) {
      ASSERT_FALSE(heap::is_block_start(*shape, start + offset));
    }
  }
}

// Secure mode's carving order (random_order.hpp): every block once, each
// run in address order, and no run twice in a row while another has blocks.
TEST(RandomOrder, InterleavesRunsAtRandom) {
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  for (std::size_t n : {1u, 2u, 7u, 8u, 9u, 16u, 100u, 1365u, 4096u}) {
    std::vector<std::uint16_t> order(n);
    heap::interleave(state, order.data(), n);
    const std::size_t runs = n < heap::kOrderRuns ? n : heap::kOrderRuns;
    auto run_of = [&](std::size_t index) {
      std::size_t r = 0;
      while ((r + 1) * n / runs <= index) ++r;
      return r;
    };
    std::vector<bool> seen(n, false);
    std::vector<long> last_of_run(runs, -1);
    std::vector<std::size_t> left(runs, 0);
    for (std::size_t i = 0; i < n; ++i) ++left[run_of(i)];
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_LT(order[i], n);
      ASSERT_FALSE(seen[order[i]]) << "block " << order[i] << " twice";
      seen[order[i]] = true;
      const std::size_t r = run_of(order[i]);
      EXPECT_GT(static_cast<long>(order[i]), last_of_run[r]);
      last_of_run[r] = order[i];
      if (i > 0 && run_of(order[i - 1]) == r) {
        // Only once every other run is used up.
        for (std::size_t other = 0; other < runs; ++other) {
          if (other != r) {
            EXPECT_EQ(left[other], 0u) << "n " << n;
          }
        }
      }
      --left[r];
    }
  }
}

TEST(RandomOrder, DependsOnTheState) {
  // Seeded from the addresses of two variables, as a pool seeds from its own.
  std::uint64_t one = 0, two = 0;
  one = heap::seed_order(&one);
  two = heap::seed_order(&two);
  std::uint16_t first[64], second[64];
  heap::interleave(one, first, 64);
  heap::interleave(two, second, 64);
  EXPECT_NE(std::memcmp(first, second, sizeof(first)), 0);
  // A state moves on: the next batch comes in another order.
  heap::interleave(one, second, 64);
  EXPECT_NE(std::memcmp(first, second, sizeof(first)), 0);
}

TEST(Segments, OnlySegmentAddressesHaveSlabs) {
  build_heap();
  int local = 0;
  static int global = 0;
  EXPECT_EQ(heap::shape_of(&local), nullptr);
  EXPECT_EQ(heap::shape_of(&global), nullptr);
  EXPECT_EQ(heap::shape_of(nullptr), nullptr);
  EXPECT_EQ(heap::shape_of(reinterpret_cast<void*>(~std::uintptr_t{0} - 15)),
            nullptr);
  void* big = heap::allocate(1 << 20, heap::kMallocAlign, false);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(heap::shape_of(big), nullptr);  // an engine block
  heap::release(big);
  void* small = heap::allocate(100, heap::kMallocAlign, false);
  ASSERT_NE(heap::shape_of(small), nullptr);
  heap::release(small);
}

TEST(Segments, FreeSlabsAreReusedThenPurged) {
  build_heap();
  const heap::SegmentStats before = heap::segment_stats();
  std::vector<heap::Slab*> slabs;
  for (int i = 0; i < 100; ++i) {  // more than one segment holds
    heap::Slab* slab = heap::take_slab(3);
    ASSERT_NE(slab, nullptr);
    std::memset(heap::slab_start(slab), 0xAB, heap::kSlabBytes);
    slabs.push_back(slab);
  }
  EXPECT_EQ(heap::segment_stats().slabs_in_use, before.slabs_in_use + 100);
  EXPECT_GE(heap::segment_stats().segments, before.segments + 1);
  std::set<std::byte*> starts;
  for (heap::Slab* slab : slabs) starts.insert(heap::slab_start(slab));
  EXPECT_EQ(starts.size(), 100u);
  for (heap::Slab* slab : slabs) heap::give_back_slab(slab);
  EXPECT_EQ(heap::segment_stats().slabs_in_use, before.slabs_in_use);
  // Some were purged on the way (beyond the few kept with their pages);
  // purging now takes the rest, and purged memory reads as zero.
  heap::purge_free_slabs();
  EXPECT_EQ(heap::purge_free_slabs(), 0u);
  for (std::byte* start : starts) EXPECT_EQ(start[100], std::byte{0});
  // Taking slabs again reuses the same addresses: no new segment.
  const std::size_t segments = heap::segment_stats().segments;
  heap::Slab* again = heap::take_slab(3);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(heap::segment_stats().segments, segments);
  heap::give_back_slab(again);
}

TEST(ClassPool, BlocksComeBackToTheirSlabs) {
  build_heap();
  constexpr std::size_t kClass = 5;  // 96 bytes
  const std::size_t size = heap::class_size(kClass);
  const std::size_t slabs_before = heap::segment_stats().slabs_in_use;
  heap::FreeBlock* chain = nullptr;
  const std::size_t want = 3 * (heap::kSlabBytes / size);  // three slabs
  ASSERT_EQ(heap::pool_take(0, kClass, want, &chain), want);
  std::set<heap::FreeBlock*> blocks;
  for (heap::FreeBlock* b = chain; b != nullptr; b = heap::next_of(b)) {
    ASSERT_TRUE(blocks.insert(b).second) << "a block handed out twice";
    const heap::SlabShape* shape = heap::shape_of(b);
    ASSERT_NE(shape, nullptr);
    EXPECT_EQ(shape->block_size, size);
    EXPECT_TRUE(heap::is_block_start(*shape, b));
    EXPECT_TRUE(heap::looks_free(b));  // pool blocks carry the canary
  }
  EXPECT_EQ(blocks.size(), want);
  EXPECT_GE(heap::segment_stats().slabs_in_use, slabs_before + 3);
  heap::pool_give(chain);
  // Every slab emptied: all but the one the pool keeps went back.
  EXPECT_LE(heap::segment_stats().slabs_in_use, slabs_before + 1);
  heap::pool_trim();
  EXPECT_LE(heap::segment_stats().slabs_in_use, slabs_before);
  // Taken again, blocks come from the same addresses.
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(heap::pool_take(0, kClass, 10, &again), 10u);
  for (heap::FreeBlock* b = again; b != nullptr; b = heap::next_of(b)) {
    EXPECT_TRUE(heap::shape_of(b) != nullptr);
  }
  heap::pool_give(again);
}

TEST(ThreadCache, AlignedSmallBlocksComeFromSlabs) {
  for (std::size_t align = 32; align <= heap::kMaxSmallSize; align *= 2) {
    for (std::size_t size : {std::size_t{1}, align / 2, align, align + 1}) {
      if (size > heap::kMaxSmallSize) continue;
      void* p = heap::allocate(size, align, false);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(addr(p) % align, 0u) << size << " @ " << align;
      EXPECT_NE(heap::shape_of(p), nullptr);
      EXPECT_GE(heap::usable_size(p), size);
      std::memset(p, 0x5A, size);
      heap::release(p);
    }
  }
}

TEST(ThreadCache, ExitedThreadsGiveTheirBlocksBack) {
  build_heap();
  heap::trim();
  const std::size_t before = heap::segment_stats().slabs_in_use;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([] {
        std::vector<void*> blocks;
        for (int i = 0; i < 2000; ++i) {
          blocks.push_back(
              heap::allocate(16 + (i % 64) * 16, heap::kMallocAlign, false));
        }
        for (std::size_t i = 0; i < blocks.size(); i += 2) {
          heap::release(blocks[i]);
        }
        for (std::size_t i = 1; i < blocks.size(); i += 2) {
          heap::release(blocks[i]);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }
  heap::trim();
  // All blocks are back in their slabs: every slab is empty and given back.
  EXPECT_LE(heap::segment_stats().slabs_in_use, before + 2);
}

// A block freed by a thread of another lane is not handed out again by
// that thread (it would then write next to blocks the other thread still
// uses): it goes back to its own lane's pool, where its owner finds it.
TEST(ThreadCache, BlocksOfAnotherLaneGoBackToTheirOwnPool) {
  build_heap();
  constexpr std::size_t kSize = 48;
  void* object = heap::allocate(kSize, heap::kMallocAlign, false);
  ASSERT_NE(object, nullptr);
  const std::size_t owner_lane = heap::thread_lane();
  std::size_t other_lane = owner_lane;
  bool handed_out_again = false;
  std::thread other([&] {
    other_lane = heap::thread_lane();  // a second live thread: another lane
    heap::release(object);
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) {
      void* block = heap::allocate(kSize, heap::kMallocAlign, false);
      handed_out_again = handed_out_again || block == object;
      blocks.push_back(block);
    }
    for (void* block : blocks) heap::release(block);
  });
  other.join();
  EXPECT_NE(other_lane, owner_lane);
  EXPECT_FALSE(handed_out_again);
  // The exiting thread gave it back to this thread's pool: taking every
  // block this thread's cache and pool hold for the class finds it again.
  std::vector<void*> blocks;
  bool found = false;
  for (int i = 0; i < 5000 && !found; ++i) {
    void* block = heap::allocate(kSize, heap::kMallocAlign, false);
    found = block == object;
    blocks.push_back(block);
  }
  EXPECT_TRUE(found);
  for (void* block : blocks) heap::release(block);
}

// The pointer as %p prints it (0x... with glibc, 16 digits on Windows),
// matched by patterns that GoogleTest's simple regular expressions (its
// only kind on Windows) read too.
using ThreadCacheDeathTest = testing::Test;

TEST(ThreadCacheDeathTest, DoubleFreeOfACachedBlockIsReported) {
  EXPECT_DEATH(
      {
        void* p = heap::allocate(40, heap::kMallocAlign, false);
        heap::release(p);
        heap::release(p);
      },
      "rulloc: free\\(.+\\): double free");
}

TEST(ThreadCacheDeathTest, InteriorPointerIsReported) {
  EXPECT_DEATH(
      {
        auto* p =
            static_cast<char*>(heap::allocate(64, heap::kMallocAlign, false));
        heap::release(p + 16);
      },
      "rulloc: free\\(.+\\): not a pointer rulloc returned");
}

TEST(ThreadCacheDeathTest, FreeIntoASlabGivenBackIsReported) {
  EXPECT_DEATH(
      {
        heap::Slab* slab = heap::take_slab(7);
        std::byte* start = heap::slab_start(slab);
        heap::give_back_slab(slab);
        heap::release(start + heap::class_size(7));
      },
      "rulloc: free\\(.+\\): no block lives there");
}

TEST(ThreadCacheDeathTest, ReallocOfAFreedBlockIsReported) {
  EXPECT_DEATH(
      {
        void* p = heap::allocate(300, heap::kMallocAlign, false);
        heap::release(p);
        heap::reallocate(p, 600);
      },
      "rulloc: realloc\\(.+\\): block already free");
}

}  // namespace
