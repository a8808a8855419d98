// The free list of a bucket: first fit from its head, new free blocks
// appended at its tail, and free blocks merged with free neighbours. One
// bucket of limit 4096 holds every block here; after a row of 200-byte
// blocks, a "plug" takes the rest of the page so that only the blocks a test
// frees are on the list.
#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Rulloc;

constexpr std::size_t kSize = 200;
constexpr Layout k200{kSize, 8};

class FreeList : public ::testing::Test {
 protected:
  void SetUp() override {
    if (page() != 4096) GTEST_SKIP() << "page size is " << page();
  }
  // n blocks of 200 bytes and the plug after them: a full one-page region.
  std::vector<void*> full_row(std::size_t n) {
    auto p = row(heap, n, kSize);
    const std::size_t rest =
        page() - kFirstContent - n * (kSize + kBlockHeader);
    plug = heap.allocate(Layout{rest, 8}).ptr;
    EXPECT_EQ(addr(plug), addr(p.back()) + kSize + kBlockHeader);
    expect_counts(n + 1, 0);
    return p;
  }
  void expect_counts(std::size_t blocks, std::size_t free_blocks) {
    auto s = heap.stats()[0];
    EXPECT_EQ(s.regions, 1u);
    EXPECT_EQ(s.blocks, blocks);
    EXPECT_EQ(s.free_blocks, free_blocks);
    EXPECT_TRUE(consistent(heap));
  }

  Rulloc<1> heap{limits(4096)};
  void* plug = nullptr;
};

// Free the middle block, then its previous, then its next neighbour: one
// free block of 3 * 200 + 2 * 40 bytes remains, and is handed out whole.
TEST_F(FreeList, MergedNeighboursAreReusedWhole) {
  auto p = full_row(4);
  heap.deallocate(p[1]);
  expect_counts(5, 1);
  heap.deallocate(p[0]);  // merges with its next neighbour
  expect_counts(4, 1);
  heap.deallocate(p[2]);  // merges with its previous neighbour
  expect_counts(3, 1);
  Allocation a = heap.allocate(Layout{680, 8});
  EXPECT_EQ(a.ptr, p[0]);
  EXPECT_EQ(a.size, 680u);
  expect_counts(3, 0);
  EXPECT_TRUE(intact(p[3], kSize, 4));
}

// A block freed between two free blocks merges with both at once.
TEST_F(FreeList, FreeBetweenTwoFreeBlocksMergesBoth) {
  auto p = full_row(4);
  heap.deallocate(p[0]);
  heap.deallocate(p[2]);
  expect_counts(5, 2);
  heap.deallocate(p[1]);
  expect_counts(3, 1);
  EXPECT_EQ(heap.allocate(Layout{680, 8}).ptr, p[0]);
}

// Freed later means further back in the list: the block freed first is found
// first, even at a higher address.
TEST_F(FreeList, NewFreeBlocksGoToTheTail) {
  auto p = full_row(5);
  heap.deallocate(p[3]);
  heap.deallocate(p[1]);
  expect_counts(6, 2);
  EXPECT_EQ(heap.allocate(k200).ptr, p[3]);
  EXPECT_EQ(heap.allocate(k200).ptr, p[1]);
  expect_counts(6, 0);
}

// First fit, not best fit: a 200-byte request takes the first block on the
// list that is large enough (440 bytes, split) rather than an exact fit
// further back. The split-off rest is a new free block, so it goes last.
TEST_F(FreeList, FirstFitFromTheHead) {
  auto p = full_row(5);
  heap.deallocate(p[0]);
  heap.deallocate(p[1]);  // merges into p[0]: one 440-byte block
  heap.deallocate(p[3]);
  expect_counts(5, 2);

  EXPECT_EQ(heap.allocate(k200).ptr, p[0]);
  expect_counts(6, 2);  // [0][rest of 0+1][2][3][4][plug]
  EXPECT_EQ(heap.allocate(k200).ptr, p[3]);
  EXPECT_EQ(heap.allocate(k200).ptr, p[1]);  // the rest starts where 1 did
  expect_counts(6, 0);
  EXPECT_TRUE(intact(p[2], kSize, 3));
  EXPECT_TRUE(intact(p[4], kSize, 5));
}

// A free block too small for the request is skipped, not split or used.
TEST_F(FreeList, TooSmallBlocksAreSkipped) {
  auto p = full_row(5);
  heap.deallocate(p[1]);
  heap.deallocate(p[3]);
  Allocation a = heap.allocate(Layout{kSize + 8, 8});
  ASSERT_NE(a.ptr, nullptr);
  EXPECT_NE(a.ptr, p[1]);
  EXPECT_NE(a.ptr, p[3]);
  EXPECT_EQ(heap.stats()[0].regions, 2u);  // a new region was needed
  EXPECT_EQ(heap.allocate(k200).ptr, p[1]);
  EXPECT_EQ(heap.allocate(k200).ptr, p[3]);
}

// A block that fits exactly, or leaves less than a header plus 16 bytes, is
// handed out whole: the caller gets the extra bytes as usable size.
TEST_F(FreeList, LeftoverTooSmallIsHandedOut) {
  auto p = full_row(3);
  heap.deallocate(p[1]);
  Allocation a = heap.allocate(Layout{160, 8});  // 40 bytes left: no split
  EXPECT_EQ(a.ptr, p[1]);
  EXPECT_EQ(a.size, kSize);
  expect_counts(4, 0);
  heap.deallocate(a.ptr);
  Allocation b = heap.allocate(Layout{144, 8});  // 56 left: a 16-byte block
  EXPECT_EQ(b.ptr, p[1]);
  EXPECT_EQ(b.size, 144u);
  expect_counts(5, 1);
}

}  // namespace
