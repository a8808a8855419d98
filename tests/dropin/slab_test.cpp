// The small blocks of the process heap through rulloc::heap: which pointers
// are slab blocks, aligned small blocks, thread caches given back at exit
// and across lanes, misuse reported. Each part on its own, in private
// instances, is tested in tests/heap. Runs in every build, sanitizers
// included.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/process_heap.hpp"
#include "heap/segments.hpp"
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

std::size_t slab_bytes() {
  rulloc_malloc_stats stats;
  heap::get_stats(&stats);
  return stats.slab_bytes;
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
  const std::size_t before = slab_bytes();
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
  EXPECT_LE(slab_bytes(), before + 2 * heap::kSlabBytes);
}

// A block freed by a thread of another lane is not handed out again by
// that thread (it would then write next to blocks the other thread still
// uses): it goes back to its own lane's pool, where its owner finds it.
TEST(ThreadCache, BlocksOfAnotherLaneGoBackToTheirOwnPool) {
  build_heap();
  ASSERT_GE(heap::lane_count(), 2u) << "CTest sets RULLOC_LANES=4";
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
        // Any segment's slab: the process heap knows segments by address.
        heap::Segments segments({});
        heap::Slab* slab = segments.take_slab(7);
        std::byte* start = heap::slab_start(slab);
        segments.give_back_slab(slab);
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
