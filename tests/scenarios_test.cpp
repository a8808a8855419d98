// The acceptance scenarios of the original Rust rulloc 0.1 (its own tests),
// one TEST each, with the exact numbers of a 64-bit build. The two
// multi-threaded scenarios live in stress_test.cpp.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Rulloc;

using Counts = std::array<std::size_t, 4>;

// The numbers below are the design's, measured with 4 KiB pages.
class Scenario : public ::testing::Test {
 protected:
  void SetUp() override {
    if (page() != 4096) GTEST_SKIP() << "page size is " << page();
  }
};

// ---------------------------------------------------------------------------
// Size needed for (size, align), observed from outside: the first block of a
// fresh region has its content at base + 88; the returned pointer is the next
// aligned address strictly after it; usable size = needed - that offset; and
// a second allocation in the same bucket gets the block right after it.
struct NeededCase {
  std::size_t size, align, needed, second_size;
};

TEST_F(Scenario, SizeNeededExamples) {
  const NeededCase cases[] = {
      {1, 8, 16, 1},          {1, 16, 24, 1},      {14, 16, 32, 1},
      {96, 16, 112, 1},       {1, 32, 40, 1},      {13, 32, 48, 1},
      {1024, 32, 1056, 1024}, {510, 64, 576, 510}, {4096, 4096, 8192, 1025},
      {1, 4096, 4104, 1},
  };
  for (const NeededCase& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "(" << c.size << ", " << c.align << ")");
    ASSERT_EQ(needed(c.size, c.align), c.needed);  // the formula itself
    Rulloc<> heap;
    Allocation a = heap.allocate(Layout{c.size, c.align});
    ASSERT_NE(a.ptr, nullptr);
    const bool moved = c.align > 8;
    const std::uintptr_t content =
        moved ? first_content_before(a.ptr) : addr(a.ptr);
    EXPECT_TRUE(is_first_content(reinterpret_cast<void*>(content)));
    EXPECT_EQ(addr(a.ptr), moved ? round_up(content + 1, c.align) : content);
    EXPECT_EQ(addr(a.ptr) % c.align, 0u);
    EXPECT_EQ(a.size + (addr(a.ptr) - content), c.needed);
    EXPECT_EQ(heap.usable_size(a.ptr), a.size);

    Allocation b = heap.allocate(Layout{c.second_size, 8});
    ASSERT_NE(b.ptr, nullptr);
    EXPECT_EQ(addr(b.ptr), content + c.needed + kBlockHeader);
    heap.deallocate(b.ptr);
    heap.deallocate(a.ptr);
    EXPECT_TRUE(empty(heap));
  }
}

// ---------------------------------------------------------------------------
// "Allocating 1 byte into an empty bucket maps a one-page region: the block
// sits right after the region header with content 16, and a free block of
// P-144 follows (2 blocks, 1 free)."
TEST_F(Scenario, OneByteMapsOnePageRegion) {
  Rulloc<> heap;
  Allocation a = heap.allocate(Layout{1, 8});
  ASSERT_NE(a.ptr, nullptr);
  EXPECT_TRUE(is_first_content(a.ptr));
  EXPECT_EQ(a.size, 16u);
  EXPECT_EQ(heap.usable_size(a.ptr), 16u);
  auto s = heap.stats();
  EXPECT_EQ(s[0].limit, 128u);
  EXPECT_EQ(s[0].regions, 1u);
  EXPECT_EQ(s[0].blocks, 2u);
  EXPECT_EQ(s[0].free_blocks, 1u);
  EXPECT_EQ(s[0].mapped_bytes, page());
  EXPECT_EQ(regions(s), (Counts{1, 0, 0, 0}));
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(a.ptr);
  EXPECT_TRUE(empty(heap));
}

// The free block's size P-144 is only observable from its own bucket: with a
// single 4096 limit bucket, exactly P-144 bytes fit right after the first
// block without mapping, and one byte more does not.
TEST_F(Scenario, FreeBlockAfterOneByteIsPMinus144) {
  Rulloc<1> heap(limits(4096));
  Allocation a = heap.allocate(Layout{1, 8});
  ASSERT_NE(a.ptr, nullptr);
  Allocation b = heap.allocate(Layout{page() - 144, 8});
  ASSERT_NE(b.ptr, nullptr);
  EXPECT_EQ(addr(b.ptr), addr(a.ptr) + 16 + kBlockHeader);
  EXPECT_EQ(b.size, page() - 144);
  auto s = heap.stats();
  EXPECT_EQ(s[0].regions, 1u);
  EXPECT_EQ(s[0].blocks, 2u);
  EXPECT_EQ(s[0].free_blocks, 0u);
  heap.deallocate(b.ptr);

  Allocation c = heap.allocate(Layout{page() - 144 + 1, 8});
  ASSERT_NE(c.ptr, nullptr);
  EXPECT_EQ(heap.stats()[0].regions, 2u);
  heap.deallocate(c.ptr);
  heap.deallocate(a.ptr);
  EXPECT_TRUE(empty(heap));
}

// ---------------------------------------------------------------------------
// "Freeing the middle of three blocks and then its neighbours merges
// everything and unmaps the region; after the last free there are 0 regions,
// 0 free blocks."
TEST_F(Scenario, FreeMiddleThenNeighboursUnmaps) {
  // Both orders of freeing the neighbours: previous first, then next first.
  for (bool prev_first : {true, false}) {
    SCOPED_TRACE(prev_first ? "previous neighbour first" : "next first");
    Rulloc<> heap;
    void* p[3];
    for (auto& q : p) {
      q = heap.allocate(Layout{16, 8}).ptr;
      ASSERT_NE(q, nullptr);
    }
    // Three 16-byte blocks in a row, then the free rest of the page.
    EXPECT_TRUE(is_first_content(p[0]));
    EXPECT_EQ(addr(p[1]), addr(p[0]) + 56);
    EXPECT_EQ(addr(p[2]), addr(p[1]) + 56);
    EXPECT_EQ(heap.stats()[0].blocks, 4u);
    EXPECT_EQ(heap.stats()[0].free_blocks, 1u);

    heap.deallocate(p[1]);
    EXPECT_EQ(heap.stats()[0].blocks, 4u);
    EXPECT_EQ(heap.stats()[0].free_blocks, 2u);
    EXPECT_TRUE(consistent(heap));

    heap.deallocate(prev_first ? p[0] : p[2]);
    auto s = heap.stats()[0];
    EXPECT_EQ(s.regions, 1u);
    // Previous first: [0+1 free][2][rest free]. Next first: [0][1+2+rest].
    EXPECT_EQ(s.blocks, prev_first ? 3u : 2u);
    EXPECT_EQ(s.free_blocks, prev_first ? 2u : 1u);
    EXPECT_TRUE(consistent(heap));

    heap.deallocate(prev_first ? p[2] : p[0]);
    s = heap.stats()[0];
    EXPECT_EQ(s.regions, 0u);
    EXPECT_EQ(s.blocks, 0u);
    EXPECT_EQ(s.free_blocks, 0u);
    EXPECT_EQ(s.mapped_bytes, 0u);
    EXPECT_TRUE(empty(heap));
    EXPECT_TRUE(consistent(heap));
  }
}

// ---------------------------------------------------------------------------
// "Every alignment 16..8192 times sizes {1,2,4,8,10,20,512,1000,2048,4096}:
// aligned, contents kept, 0 regions at the end."
TEST_F(Scenario, EveryAlignmentTimesSizes) {
  const std::size_t sizes[] = {1, 2, 4, 8, 10, 20, 512, 1000, 2048, 4096};
  Rulloc<> heap;
  for (std::size_t align = 16; align <= 8192; align *= 2) {
    SCOPED_TRACE(::testing::Message() << "align " << align);
    std::vector<Allocation> live;
    unsigned seed = 0;
    for (std::size_t size : sizes) {
      Allocation a = heap.allocate(Layout{size, align});
      ASSERT_NE(a.ptr, nullptr) << "size " << size;
      EXPECT_EQ(addr(a.ptr) % align, 0u) << "size " << size;
      EXPECT_GE(a.size, size);
      fill(a.ptr, size, ++seed);
      live.push_back(a);
    }
    EXPECT_TRUE(consistent(heap));
    seed = 0;
    for (std::size_t i = 0; i < live.size(); ++i) {
      EXPECT_TRUE(intact(live[i].ptr, sizes[i], ++seed)) << "size " << sizes[i];
    }
    for (const Allocation& a : live) heap.deallocate(a.ptr);
    EXPECT_TRUE(empty(heap));
  }
}

// ---------------------------------------------------------------------------
// "Shrinking a 4008-byte block to half keeps it in place (block content
// 2008); the next allocation gets exactly 1960 bytes."
TEST_F(Scenario, ShrinkHalfOfFullPageBlock) {
  Rulloc<> heap;
  // 4008 = P - 88: the region is one page holding one block, no free block.
  Allocation a = heap.allocate(Layout{4008, 8});
  ASSERT_NE(a.ptr, nullptr);
  EXPECT_TRUE(is_first_content(a.ptr));
  EXPECT_EQ(a.size, 4008u);
  EXPECT_EQ(heap.stats()[2].blocks, 1u);
  EXPECT_EQ(heap.stats()[2].free_blocks, 0u);
  EXPECT_EQ(heap.stats()[2].mapped_bytes, page());
  fill(a.ptr, 4008, 1);

  Allocation s = heap.shrink(a.ptr, Layout{4008, 8}, Layout{2004, 8});
  EXPECT_EQ(s.ptr, a.ptr);
  EXPECT_EQ(s.size, 2008u);
  EXPECT_EQ(heap.usable_size(s.ptr), 2008u);
  EXPECT_TRUE(intact(s.ptr, 2004, 1));
  EXPECT_EQ(heap.stats()[2].blocks, 2u);
  EXPECT_EQ(heap.stats()[2].free_blocks, 1u);
  EXPECT_TRUE(consistent(heap));

  // 4008 - 2008 - 40 = 1960: exactly the tail, in the same region.
  Allocation b = heap.allocate(Layout{1960, 8});
  ASSERT_NE(b.ptr, nullptr);
  EXPECT_EQ(addr(b.ptr), addr(a.ptr) + 2008 + kBlockHeader);
  EXPECT_EQ(b.size, 1960u);
  auto st = heap.stats()[2];
  EXPECT_EQ(st.regions, 1u);
  EXPECT_EQ(st.blocks, 2u);
  EXPECT_EQ(st.free_blocks, 0u);
  EXPECT_TRUE(intact(s.ptr, 2004, 1));

  heap.deallocate(b.ptr);
  heap.deallocate(s.ptr);
  EXPECT_TRUE(empty(heap));
}

// ---------------------------------------------------------------------------
// "Growing in place by taking in the next, the previous, or both free blocks:
// block and free-block counts exact, data moved to the first block's address."
// Blocks of 200 bytes go to the 1024 bucket (index 1); the region has room
// for all of them and a free tail.
class GrowInPlace : public Scenario {
 protected:
  static constexpr std::size_t kSize = 200;

  std::vector<void*> row(std::size_t n) {
    return rulloc_test::row(heap, n, kSize);
  }
  rulloc::BucketStats bucket() const { return heap.stats()[1]; }

  Rulloc<> heap;
};

TEST_F(GrowInPlace, TakesNextFreeBlock) {
  auto p = row(3);  // [0][1][2][free tail]
  heap.deallocate(p[1]);
  EXPECT_EQ(bucket().blocks, 4u);
  EXPECT_EQ(bucket().free_blocks, 2u);

  // 200 + 40 + 200: block 0 takes block 1 whole.
  Allocation g = heap.grow(p[0], Layout{kSize, 8}, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 440u);
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  EXPECT_EQ(bucket().blocks, 3u);
  EXPECT_EQ(bucket().free_blocks, 1u);
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(g.ptr);
  heap.deallocate(p[2]);
  EXPECT_TRUE(empty(heap));
}

TEST_F(GrowInPlace, TakesPreviousFreeBlock) {
  auto p = row(3);  // [0][1][2][free tail]; block 1's next is in use
  heap.deallocate(p[0]);
  EXPECT_EQ(bucket().blocks, 4u);
  EXPECT_EQ(bucket().free_blocks, 2u);

  Allocation g = heap.grow(p[1], Layout{kSize, 8}, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[0]);  // the data moved down to the first block
  EXPECT_EQ(g.size, 440u);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  EXPECT_EQ(bucket().blocks, 3u);
  EXPECT_EQ(bucket().free_blocks, 1u);
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(g.ptr);
  heap.deallocate(p[2]);
  EXPECT_TRUE(empty(heap));
}

TEST_F(GrowInPlace, TakesBothFreeNeighbours) {
  auto p = row(4);  // [0][1][2][3][free tail]
  heap.deallocate(p[0]);
  heap.deallocate(p[2]);
  EXPECT_EQ(bucket().blocks, 5u);
  EXPECT_EQ(bucket().free_blocks, 3u);

  // 3 * 200 + 2 * 40: neither neighbour alone is enough.
  Allocation g = heap.grow(p[1], Layout{kSize, 8}, Layout{680, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 680u);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(intact(p[3], kSize, 4));
  EXPECT_EQ(bucket().blocks, 3u);
  EXPECT_EQ(bucket().free_blocks, 1u);
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(g.ptr);
  heap.deallocate(p[3]);
  EXPECT_TRUE(empty(heap));
}

// ---------------------------------------------------------------------------
// "Buckets [8, 16, 24]: regions per bucket go 100 -> 110 -> 111 while
// allocating 8, 16, 24 bytes, and 011 -> 001 -> 000 while freeing; a 152-byte
// request goes to the dynamic bucket; realloc 8 -> 16 -> 24 moves the data
// across buckets and keeps it."
class TinyBuckets : public Scenario {
 protected:
  Rulloc<3> heap{limits(8, 16, 24)};
};

TEST_F(TinyBuckets, RegionsPerBucket) {
  auto s = heap.stats();
  EXPECT_EQ(s[0].limit, 8u);
  EXPECT_EQ(s[1].limit, 16u);
  EXPECT_EQ(s[2].limit, 24u);
  EXPECT_EQ(s[3].limit, SIZE_MAX);

  void* a = heap.allocate(Layout{8, 8}).ptr;
  EXPECT_EQ(regions(heap.stats()), (Counts{1, 0, 0, 0}));
  void* b = heap.allocate(Layout{16, 8}).ptr;
  EXPECT_EQ(regions(heap.stats()), (Counts{1, 1, 0, 0}));
  void* c = heap.allocate(Layout{24, 8}).ptr;
  EXPECT_EQ(regions(heap.stats()), (Counts{1, 1, 1, 0}));
  ASSERT_TRUE(a && b && c);

  heap.deallocate(a);
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 1, 1, 0}));
  heap.deallocate(b);
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 0, 1, 0}));
  heap.deallocate(c);
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 0, 0, 0}));
  EXPECT_TRUE(empty(heap));
}

TEST_F(TinyBuckets, LargeRequestGoesToDynamicBucket) {
  void* p = heap.allocate(Layout{152, 8}).ptr;
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 0, 0, 1}));
  heap.deallocate(p);
  EXPECT_TRUE(empty(heap));
}

TEST_F(TinyBuckets, ReallocMovesAcrossBuckets) {
  Allocation a = heap.allocate(Layout{8, 8});
  ASSERT_NE(a.ptr, nullptr);
  fill(a.ptr, 8, 7);

  Allocation b = heap.reallocate(a.ptr, Layout{8, 8}, Layout{16, 8});
  ASSERT_NE(b.ptr, nullptr);
  EXPECT_NE(b.ptr, a.ptr);
  EXPECT_TRUE(intact(b.ptr, 8, 7));
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 1, 0, 0}));
  fill(b.ptr, 16, 8);

  Allocation c = heap.reallocate(b.ptr, Layout{16, 8}, Layout{24, 8});
  ASSERT_NE(c.ptr, nullptr);
  EXPECT_NE(c.ptr, b.ptr);
  EXPECT_TRUE(intact(c.ptr, 16, 8));
  EXPECT_EQ(regions(heap.stats()), (Counts{0, 0, 1, 0}));
  EXPECT_TRUE(consistent(heap));

  heap.deallocate(c.ptr);
  EXPECT_TRUE(empty(heap));
}

}  // namespace
