// grow, grow_zeroed and shrink: every in-place path, the moving path, the
// alignment changing in place, and the original's three realloc bugs, which
// must not come back. A size in another bucket always moves, so the heap has
// buckets {64, 4096}: the 100..440-byte blocks below all share bucket 1 and
// may be resized in place, and the rows start at the start of one region.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Rulloc;

constexpr std::size_t kSize = 200;
constexpr Layout k200{kSize, 8};

class Realloc : public ::testing::Test {
 protected:
  std::vector<void*> row(std::size_t n) {
    return rulloc_test::row(heap, n, kSize);
  }
  rulloc::BucketStats bucket() const { return heap.stats()[1]; }
  void expect_counts(std::size_t blocks, std::size_t free_blocks) {
    EXPECT_EQ(bucket().blocks, blocks);
    EXPECT_EQ(bucket().free_blocks, free_blocks);
    EXPECT_TRUE(consistent(heap));
  }
  void TearDown() override {
    for (void* p : live) heap.deallocate(p);
    EXPECT_TRUE(empty(heap));
  }

  Rulloc<2> heap{limits(64, 4096)};
  std::vector<void*> live;  // freed by TearDown
};

// --- grow in place ---------------------------------------------------------

TEST_F(Realloc, GrowWithinTheBlockStays) {
  Allocation a = heap.allocate(Layout{100, 8});
  ASSERT_EQ(a.size, 104u);  // rounded up to 8
  fill(a.ptr, 104, 1);
  auto before = heap.stats();
  Allocation g = heap.grow(a.ptr, Layout{100, 8}, Layout{104, 8});
  EXPECT_EQ(g.ptr, a.ptr);
  EXPECT_EQ(g.size, 104u);
  EXPECT_TRUE(intact(g.ptr, 104, 1));
  EXPECT_TRUE(same_stats(before, heap.stats()));
  live = {g.ptr};
}

TEST_F(Realloc, GrowIntoFreeTailSplitsTheRest) {
  auto p = row(1);  // [0][free tail]
  Allocation g = heap.grow(p[0], k200, Layout{400, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 400u);
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  expect_counts(2, 1);
  // The rest of the tail starts right after the grown block.
  void* next = heap.allocate(k200).ptr;
  EXPECT_EQ(addr(next), addr(p[0]) + 400 + kBlockHeader);
  live = {g.ptr, next};
}

TEST_F(Realloc, GrowTakesPartOfNextAndSplits) {
  auto p = row(3);
  heap.deallocate(p[1]);
  // 200 + 40 + 200 = 440 available; 304 used; 136 left = header + 96.
  Allocation g = heap.grow(p[0], k200, Layout{300, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 304u);
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  expect_counts(4, 2);
  live = {g.ptr, p[2]};
}

// 40 bytes left over cannot hold a header and 16 bytes: the block keeps them.
TEST_F(Realloc, GrowKeepsLeftoverTooSmallToSplit) {
  auto p = row(3);
  heap.deallocate(p[1]);
  Allocation g = heap.grow(p[0], k200, Layout{400, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 440u);
  EXPECT_EQ(heap.usable_size(g.ptr), 440u);
  expect_counts(3, 1);
  live = {g.ptr, p[2]};
}

// The boundary: 56 bytes left over (a header and 16 bytes) become a block,
// 48 bytes do not.
TEST_F(Realloc, GrowSplitBoundary) {
  auto p = row(3);
  heap.deallocate(p[1]);
  Allocation g = heap.grow(p[0], k200, Layout{392, 8});  // 48 left over
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 440u);
  expect_counts(3, 1);
  Allocation s = heap.shrink(g.ptr, Layout{392, 8}, k200);
  EXPECT_EQ(s.ptr, p[0]);
  expect_counts(4, 2);                        // back to [0][free 200][2][tail]
  g = heap.grow(p[0], k200, Layout{384, 8});  // 56 left over
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 384u);
  expect_counts(4, 2);  // [0][free 16][2][tail]
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  live = {g.ptr, p[2]};
}

TEST_F(Realloc, ShrinkSplitBoundary) {
  auto p = row(2);
  Allocation s = heap.shrink(p[0], k200, Layout{152, 8});  // 48 left over
  EXPECT_EQ(s.ptr, p[0]);
  EXPECT_EQ(s.size, kSize);
  expect_counts(3, 1);
  s = heap.shrink(p[0], Layout{152, 8}, Layout{144, 8});  // 56 left over
  EXPECT_EQ(s.ptr, p[0]);
  EXPECT_EQ(s.size, 144u);
  expect_counts(4, 2);  // [0][free 16][1][tail]
  EXPECT_TRUE(intact(s.ptr, 144, 1));
  EXPECT_TRUE(intact(p[1], kSize, 2));
  live = {s.ptr, p[1]};
}

TEST_F(Realloc, GrowTakesPreviousAndSplits) {
  auto p = row(3);
  heap.deallocate(p[0]);
  Allocation g = heap.grow(p[1], k200, Layout{300, 8});
  EXPECT_EQ(g.ptr, p[0]);  // moved down into the previous block
  EXPECT_EQ(g.size, 304u);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  expect_counts(4, 2);
  live = {g.ptr, p[2]};
}

// Next comes before previous: no data has to move then.
TEST_F(Realloc, GrowPrefersNextOverPrevious) {
  auto p = row(4);
  heap.deallocate(p[0]);
  heap.deallocate(p[2]);
  Allocation g = heap.grow(p[1], k200, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[1]);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(intact(p[3], kSize, 4));
  expect_counts(4, 2);
  live = {g.ptr, p[3]};
}

TEST_F(Realloc, GrowToOtherBucketMoves) {
  Allocation a = heap.allocate(Layout{40, 8});  // bucket 0
  fill(a.ptr, 40, 9);
  Allocation g = heap.grow(a.ptr, Layout{40, 8}, Layout{500, 8});
  ASSERT_NE(g.ptr, nullptr);
  EXPECT_NE(g.ptr, a.ptr);
  EXPECT_TRUE(intact(g.ptr, 40, 9));
  // The old block was freed: its region, now empty, is gone.
  EXPECT_EQ(regions(heap.stats()), (std::array<std::size_t, 3>{0, 1, 0}));
  live = {g.ptr};
}

// Doubling from 8 bytes to 128 KiB and back, through every bucket.
TEST_F(Realloc, ManyStepsKeepData) {
  Layout l{8, 8};
  Allocation a = heap.allocate(l);
  fill(a.ptr, l.size, 5);
  for (std::size_t size = 16; size <= 128 * 1024; size *= 2) {
    Allocation g = heap.grow(a.ptr, l, Layout{size, 8});
    ASSERT_NE(g.ptr, nullptr) << size;
    ASSERT_TRUE(intact(g.ptr, l.size, 5)) << size;
    fill(g.ptr, size, 5);
    a = g;
    l = Layout{size, 8};
  }
  for (std::size_t size = l.size / 3; size >= 8; size /= 3) {
    Allocation s = heap.shrink(a.ptr, l, Layout{size, 8});
    ASSERT_NE(s.ptr, nullptr) << size;
    ASSERT_TRUE(intact(s.ptr, size, 5)) << size;
    a = s;
    l = Layout{size, 8};
  }
  EXPECT_TRUE(consistent(heap));
  live = {a.ptr};
}

// --- grow_zeroed -----------------------------------------------------------
// The bytes the caller had, [0, old.size), stay; [old.size, new.size) read 0
// even where the memory was dirty before.

TEST_F(Realloc, GrowZeroedInsideTheBlock) {
  Allocation b = heap.allocate(Layout{100, 8});  // usable 104
  fill(b.ptr, 104, 1);  // the caller may use all 104 bytes
  // Grows 96 -> 100 in place: [96, 100) zeroed, the bytes past 100 kept.
  Allocation g = heap.grow_zeroed(b.ptr, Layout{96, 8}, Layout{100, 8});
  EXPECT_EQ(g.ptr, b.ptr);
  EXPECT_TRUE(intact(g.ptr, 96, 1));
  EXPECT_TRUE(all_zero(g.ptr, 96, 100));
  EXPECT_EQ(first_mismatch(g.ptr, 104, 1, 100), 104u);
  live = {g.ptr};
}

TEST_F(Realloc, GrowZeroedTakingNext) {
  auto p = row(3);
  heap.deallocate(p[1]);  // its bytes (and its header) are dirty
  // The old layout may be smaller than the block: [197, 200) is zeroed too.
  Allocation g = heap.grow_zeroed(p[0], Layout{197, 8}, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_TRUE(intact(g.ptr, 197, 1));
  EXPECT_TRUE(all_zero(g.ptr, 197, 440));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  live = {g.ptr, p[2]};
}

TEST_F(Realloc, GrowZeroedTakingPrevious) {
  auto p = row(3);
  heap.deallocate(p[0]);
  Allocation g = heap.grow_zeroed(p[1], k200, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(all_zero(g.ptr, kSize, 440));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  live = {g.ptr, p[2]};
}

TEST_F(Realloc, GrowZeroedMovingToDirtyMemory) {
  // A block of 500 bytes is written and freed, with a guard keeping its
  // region mapped: the next 500-byte block reuses that dirty memory.
  void* guard = heap.allocate(k200).ptr;
  Allocation dirty = heap.allocate(Layout{500, 8});
  fill(dirty.ptr, 500, 4);
  heap.deallocate(dirty.ptr);

  Allocation a = heap.allocate(Layout{40, 8});  // bucket 0
  fill(a.ptr, 40, 6);
  Allocation g = heap.grow_zeroed(a.ptr, Layout{40, 8}, Layout{500, 8});
  ASSERT_NE(g.ptr, nullptr);
  EXPECT_EQ(g.ptr, dirty.ptr);
  EXPECT_TRUE(intact(g.ptr, 40, 6));
  EXPECT_TRUE(all_zero(g.ptr, 40, 500));
  live = {guard, g.ptr};
}

// --- alignment changing in place -------------------------------------------

TEST_F(Realloc, GrowToLargerAlignmentInPlace) {
  auto p = row(1);  // the first block: content at base + 88
  const std::uintptr_t content = addr(p[0]);
  Allocation g = heap.grow(p[0], k200, Layout{kSize, 64});
  ASSERT_NE(g.ptr, nullptr);
  EXPECT_EQ(addr(g.ptr) % 64, 0u);
  EXPECT_GT(addr(g.ptr), content);
  EXPECT_LE(addr(g.ptr), content + 64);
  EXPECT_EQ(g.size, needed(kSize, 64) - (addr(g.ptr) - content));
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  expect_counts(2, 1);
  live = {g.ptr};
}

TEST_F(Realloc, ShrinkToSmallerAlignmentInPlace) {
  Allocation a = heap.allocate(Layout{kSize, 64});
  ASSERT_NE(a.ptr, nullptr);
  fill(a.ptr, kSize, 2);
  const std::uintptr_t content = first_content_before(a.ptr);
  Allocation s = heap.shrink(a.ptr, Layout{kSize, 64}, Layout{100, 8});
  ASSERT_NE(s.ptr, nullptr);
  EXPECT_EQ(addr(s.ptr) % 8, 0u);
  EXPECT_GE(addr(s.ptr), content);  // still in the same block
  EXPECT_LE(addr(s.ptr), addr(a.ptr));
  EXPECT_GE(s.size, 100u);
  EXPECT_TRUE(intact(s.ptr, 100, 2));
  expect_counts(2, 1);  // the tail went back to the free rest of the region
  live = {s.ptr};
}

TEST_F(Realloc, ShrinkToLargerAlignmentInPlace) {
  auto p = row(1);
  const std::uintptr_t content = addr(p[0]);
  Allocation s = heap.shrink(p[0], k200, Layout{150, 32});  // needs 184
  ASSERT_NE(s.ptr, nullptr);
  EXPECT_EQ(addr(s.ptr) % 32, 0u);
  EXPECT_GT(addr(s.ptr), content);
  EXPECT_LE(addr(s.ptr), content + 32);
  EXPECT_GE(s.size, 150u);
  EXPECT_TRUE(intact(s.ptr, 150, 1));
  EXPECT_EQ(bucket().blocks, 2u);
  live = {s.ptr};
}

// --- shrink ----------------------------------------------------------------

TEST_F(Realloc, ShrinkMergesTailWithFreeNext) {
  auto p = row(3);
  heap.deallocate(p[1]);
  Allocation s = heap.shrink(p[0], k200, Layout{100, 8});
  EXPECT_EQ(s.ptr, p[0]);
  EXPECT_EQ(s.size, 104u);
  // [0: 104][free: 56 + 40 + 200][2][free tail]: one free block, not two.
  expect_counts(4, 2);
  // All of it is contiguous and free: growing back takes it whole.
  Allocation g = heap.grow(s.ptr, Layout{100, 8}, Layout{440, 8});
  EXPECT_EQ(g.ptr, p[0]);
  EXPECT_EQ(g.size, 440u);
  expect_counts(3, 1);
  EXPECT_TRUE(intact(g.ptr, 100, 1));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  live = {g.ptr, p[2]};
}

TEST_F(Realloc, ShrinkToSameSizeChangesNothing) {
  auto p = row(2);
  auto before = heap.stats();
  Allocation s = heap.shrink(p[0], k200, k200);
  EXPECT_EQ(s.ptr, p[0]);
  EXPECT_EQ(s.size, kSize);
  EXPECT_TRUE(same_stats(before, heap.stats()));
  live = {p[0], p[1]};
}

// --- the original's bugs ---------------------------------------------------

// Its realloc called grow for 200 -> 100 and wrote a header over the next
// block's data. Here 200 and 100 share a bucket: a shrink in place.
TEST_F(Realloc, Realloc200To100LeavesNextBlockAlone) {
  auto p = row(2);
  Allocation r = heap.reallocate(p[0], k200, Layout{100, 8});
  EXPECT_EQ(r.ptr, p[0]);
  EXPECT_EQ(r.size, 104u);
  EXPECT_TRUE(intact(r.ptr, 100, 1));
  EXPECT_TRUE(intact(p[1], kSize, 2));
  expect_counts(4, 2);  // [0][free 56][1][free tail]
  live = {r.ptr, p[1]};
}

// With the default buckets 200 -> 100 changes bucket and moves.
TEST(ReallocDefaultBuckets, Realloc200To100LeavesNextBlockAlone) {
  Rulloc<> heap;
  auto p = row(heap, 2, kSize);
  Allocation r = heap.reallocate(p[0], k200, Layout{100, 8});
  ASSERT_NE(r.ptr, nullptr);
  EXPECT_TRUE(intact(r.ptr, 100, 1));
  EXPECT_TRUE(intact(p[1], kSize, 2));
  EXPECT_EQ(regions(heap.stats()), (std::array<std::size_t, 4>{1, 1, 0, 0}));
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(r.ptr);
  heap.deallocate(p[1]);
  EXPECT_TRUE(empty(heap));
}

// Its grow merged the next block without checking that it was free.
TEST_F(Realloc, GrowDoesNotSwallowUsedNext) {
  auto p = row(2);
  Allocation g = heap.grow(p[0], k200, Layout{440, 8});
  ASSERT_NE(g.ptr, nullptr);
  EXPECT_NE(g.ptr, p[0]);
  EXPECT_NE(g.ptr, p[1]);
  EXPECT_TRUE(intact(g.ptr, kSize, 1));
  EXPECT_TRUE(intact(p[1], kSize, 2));
  // It moved to the free tail; the old place is free: [free][1][g][tail].
  EXPECT_EQ(addr(g.ptr), addr(p[1]) + kSize + kBlockHeader);
  expect_counts(4, 2);
  live = {g.ptr, p[1]};
}

TEST_F(Realloc, GrowDoesNotSwallowUsedNeighbours) {
  auto p = row(3);
  Allocation g = heap.grow(p[1], k200, Layout{440, 8});
  ASSERT_NE(g.ptr, nullptr);
  EXPECT_NE(g.ptr, p[0]);
  EXPECT_NE(g.ptr, p[1]);
  EXPECT_TRUE(intact(g.ptr, kSize, 2));
  EXPECT_TRUE(intact(p[0], kSize, 1));
  EXPECT_TRUE(intact(p[2], kSize, 3));
  EXPECT_TRUE(consistent(heap));
  live = {p[0], g.ptr, p[2]};
}

// Its shrink merged the cut tail with the next block even when in use.
TEST_F(Realloc, ShrinkDoesNotMergeWithUsedNext) {
  auto p = row(2);
  // 16 bytes over: too few for a block, and the next block is in use.
  Allocation s = heap.shrink(p[0], k200, Layout{184, 8});
  EXPECT_EQ(s.ptr, p[0]);
  EXPECT_EQ(s.size, kSize);
  EXPECT_EQ(heap.usable_size(s.ptr), kSize);
  EXPECT_TRUE(intact(s.ptr, 184, 1));
  EXPECT_TRUE(intact(p[1], kSize, 2));
  expect_counts(3, 1);
  live = {s.ptr, p[1]};
}

}  // namespace
