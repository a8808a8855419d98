// trim(): empty regions go back to the kernel, free pages are purged, and
// the heap stays intact and usable.
#include <gtest/gtest.h>

#include <cstring>

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

}  // namespace
