// trim(): empty regions go back to the kernel, free pages are purged, and
// the heap stays intact and usable.
#include <gtest/gtest.h>

#include <cstring>

#include "misuse_report.hpp"
#include "test_util.hpp"

namespace {

using rulloc::Layout;
using rulloc::Options;
using rulloc::Rulloc;

TEST(Trim, UnmapsKeptEmptyRegions) {
  Rulloc<> heap(Options{2, 0});
  void* small = heap.allocate({64, 8}).ptr;
  void* large = heap.allocate({100000, 8}).ptr;
  ASSERT_NE(small, nullptr);
  ASSERT_NE(large, nullptr);
  heap.deallocate(small);
  heap.deallocate(large);
  auto kept = heap.stats();
  EXPECT_EQ(kept[0].regions, 1u);
  EXPECT_EQ(kept[3].regions, 1u);
  const std::size_t mapped = kept[0].mapped_bytes + kept[3].mapped_bytes;

  EXPECT_EQ(heap.trim(), mapped);
  for (const auto& bucket : heap.stats()) {
    EXPECT_EQ(bucket.regions, 0u);
    EXPECT_EQ(bucket.mapped_bytes, 0u);
  }
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;
  EXPECT_EQ(heap.trim(), 0u);
}

TEST(Trim, PurgesFreePagesAndKeepsLiveData) {
  Rulloc<> heap;
  const std::size_t page = rulloc_test::page();
  auto big = heap.allocate({16 * page, 8});
  ASSERT_NE(big.ptr, nullptr);
  // Shrinking inside the dynamic bucket (> 8192 bytes) stays in place and
  // leaves the rest as one free block.
  constexpr std::size_t kKept = 9000;
  auto tail = heap.shrink(big.ptr, {16 * page, 8}, {kKept, 8});
  ASSERT_EQ(tail.ptr, big.ptr);
  std::memset(tail.ptr, 0x5A, kKept);

  const std::size_t released = heap.trim();
  EXPECT_GE(released, 12 * page);
  EXPECT_EQ(released % page, 0u);
  for (std::size_t i = 0; i < kKept; ++i) {
    ASSERT_EQ(static_cast<unsigned char*>(tail.ptr)[i], 0x5A);
  }
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;

  // The purged pages serve allocations again, zeroed when asked.
  auto again = heap.allocate_zeroed({8 * page, 8});
  ASSERT_NE(again.ptr, nullptr);
  for (std::size_t i = 0; i < 8 * page; ++i) {
    ASSERT_EQ(static_cast<unsigned char*>(again.ptr)[i], 0);
  }
  heap.deallocate(again.ptr);
  heap.deallocate(tail.ptr);
  EXPECT_TRUE(heap.check(&error)) << error;
}

// trim_unused(), called now and then: a bucket nothing used since the last
// call is trimmed once; a busy one gives back the regions that stayed empty.
TEST(TrimUnused, TrimsABucketLeftAloneOnce) {
  Rulloc<> heap(Options{2, 0});
  void* large = heap.allocate({100000, 8}).ptr;
  ASSERT_NE(large, nullptr);
  heap.deallocate(large);
  const std::size_t mapped = heap.stats()[3].mapped_bytes;
  ASSERT_GT(mapped, 0u);

  EXPECT_EQ(heap.trim_unused(), 0u);  // it emptied since the last call
  EXPECT_EQ(heap.stats()[3].regions, 1u);
  EXPECT_EQ(heap.trim_unused(), mapped);  // left alone for a whole round
  EXPECT_EQ(heap.stats()[3].regions, 0u);
  EXPECT_EQ(heap.trim_unused(), 0u);
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;
}

TEST(TrimUnused, ABusyBucketGivesBackOnlyRegionsThatStayedEmpty) {
  Rulloc<> heap(Options{2, 0});
  auto live = heap.allocate({100000, 8});
  void* idle = heap.allocate({200000, 8}).ptr;
  void* cycled = heap.allocate({300000, 8}).ptr;
  ASSERT_NE(live.ptr, nullptr);
  ASSERT_NE(idle, nullptr);
  ASSERT_NE(cycled, nullptr);
  std::memset(live.ptr, 0x5A, live.size);
  heap.deallocate(idle);
  EXPECT_EQ(heap.trim_unused(), 0u);  // `idle` emptied in this round

  // The bucket stays busy: one block is freed and taken again, each round.
  heap.deallocate(cycled);
  cycled = heap.allocate({300000, 8}).ptr;
  ASSERT_NE(cycled, nullptr);
  const std::size_t before = heap.stats()[3].mapped_bytes;
  const std::size_t released = heap.trim_unused();
  EXPECT_GT(released, 200000u);
  EXPECT_EQ(heap.stats()[3].mapped_bytes, before - released);
  EXPECT_EQ(heap.stats()[3].regions, 2u);

  heap.deallocate(cycled);
  EXPECT_EQ(heap.trim_unused(), 0u);  // emptied in this round: kept
  EXPECT_EQ(heap.stats()[3].regions, 2u);
  EXPECT_GT(heap.trim_unused(), 300000u);  // then left alone
  EXPECT_EQ(heap.stats()[3].regions, 1u);

  for (std::size_t i = 0; i < live.size; ++i) {
    ASSERT_EQ(static_cast<unsigned char*>(live.ptr)[i], 0x5A);
  }
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;
  heap.deallocate(live.ptr);
}

// Of two kept empty regions, the one emptied last serves the next request,
// again and again, so the other stays empty long enough to be given back.
TEST(TrimUnused, TheRegionEmptiedLastServesFirst) {
  Rulloc<> heap(Options{2, 0});
  void* first = heap.allocate({200000, 8}).ptr;
  void* second = heap.allocate({200000, 8}).ptr;
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  heap.deallocate(first);
  heap.deallocate(second);
  for (int round = 0; round < 3; ++round) {
    void* again = heap.allocate({100000, 8}).ptr;
    EXPECT_EQ(again, second);
    heap.deallocate(again);
  }
  EXPECT_EQ(heap.stats()[3].regions, 2u);
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;
}

// The round an empty region records lies in its free block: it must not
// overwrite what tells a second free of an aligned block for what it is.
TEST(TrimUnusedDeathTest, ADoubleFreeInAKeptEmptyRegionIsStillReported) {
  for (std::size_t align : {16u, 64u, 4096u}) {
    Rulloc<> heap(Options{2, 0});
    void* block = heap.allocate({100000, align}).ptr;
    ASSERT_NE(block, nullptr);
    heap.deallocate(block);
    EXPECT_EQ(heap.trim_unused(), 0u);
    EXPECT_DEATH(
        {
          rulloc_test::announce(block);
          heap.deallocate(block);
        },
        rulloc_test::reports("deallocate", rulloc_test::kAlreadyFree));
  }
}

}  // namespace
