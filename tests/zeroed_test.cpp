// allocate_zeroed (calloc) writes only what may not read as zero: a fresh
// region's pages and pages purged by MADV_DONTNEED are left as they are,
// every byte a reused block may hold is cleared. Each case fills the memory
// first, so a zeroing left out fails it.
#include <gtest/gtest.h>

#include <cstring>

#include "test_util.hpp"

namespace {

using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Options;
using rulloc::Rulloc;

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

// One bucket up to 1 MiB, 8 MiB regions, so blocks share regions, are split
// from free blocks and merge with their free neighbours.
Rulloc<1> make_heap() {
  Options options;
  options.keep_empty_regions = 1;
  options.min_region_bytes = 8 * kMiB;
  options.segregated_free_lists = true;
  return Rulloc<1>({kMiB}, options);
}

bool all_zero(const void* pointer, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(pointer);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

void* filled(Rulloc<1>& heap, std::size_t size, int byte) {
  Allocation a = heap.allocate({size, 8});
  EXPECT_NE(a.ptr, nullptr);
  std::memset(a.ptr, byte, a.size);
  return a.ptr;
}

TEST(Zeroed, FreshRegion) {
  Rulloc<1> heap = make_heap();
  Allocation a = heap.allocate_zeroed({600 * kKiB, 8});
  ASSERT_NE(a.ptr, nullptr);
  EXPECT_TRUE(all_zero(a.ptr, a.size));
  // The rest of the fresh region, split off, serves the next one.
  Allocation b = heap.allocate_zeroed({900 * kKiB, 8});
  EXPECT_TRUE(all_zero(b.ptr, b.size));
}

TEST(Zeroed, ReusedDirtyBlockIsCleared) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);  // the region stays
  void* dirty = filled(heap, 600 * kKiB, 0xAB);
  heap.deallocate(dirty);
  Allocation again = heap.allocate_zeroed({600 * kKiB, 8});
  EXPECT_EQ(again.ptr, dirty);
  EXPECT_TRUE(all_zero(again.ptr, again.size));
  heap.deallocate(keep);
}

TEST(Zeroed, PurgedBlockAndItsSplitRest) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);
  void* big = filled(heap, 900 * kKiB, 0xAB);
  void* after = filled(heap, 64, 0x22);  // big stays one block
  heap.deallocate(big);
  ASSERT_GT(heap.trim(), 800 * kKiB);
  // A written block cut from the purged one, then a zeroed one from its
  // rest: the rest's pages are still purged, the header page is not.
  void* front = filled(heap, 200 * kKiB, 0xCD);
  EXPECT_EQ(front, big);
  Allocation rest = heap.allocate_zeroed({300 * kKiB, 8});
  EXPECT_TRUE(all_zero(rest.ptr, rest.size));
  std::memset(rest.ptr, 0xEF, rest.size);
  // Aligned, from what is left of the purged block.
  Allocation aligned = heap.allocate_zeroed({200 * kKiB, 4096});
  EXPECT_TRUE(all_zero(aligned.ptr, aligned.size));
  std::memset(aligned.ptr, 0x5A, aligned.size);
  for (void* p : {front, rest.ptr, aligned.ptr}) heap.deallocate(p);
  heap.deallocate(after);
  heap.deallocate(keep);
  std::string error;
  EXPECT_TRUE(heap.check(&error)) << error;
}

TEST(Zeroed, DirtyBlockMergedWithPurgedOneIsCleared) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);
  void* big = filled(heap, 900 * kKiB, 0xAB);
  void* after = filled(heap, 64, 0x22);
  heap.deallocate(big);
  ASSERT_GT(heap.trim(), 800 * kKiB);
  // Written, then freed into its purged neighbour: the merged block holds
  // the written bytes again.
  void* front = filled(heap, 200 * kKiB, 0xCD);
  heap.deallocate(front);
  Allocation whole = heap.allocate_zeroed({900 * kKiB, 8});
  EXPECT_EQ(whole.ptr, big);
  EXPECT_TRUE(all_zero(whole.ptr, whole.size));
  heap.deallocate(whole.ptr);
  heap.deallocate(after);
  heap.deallocate(keep);
}

TEST(Zeroed, DirtyBlockFreedAfterPurgedOneIsCleared) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);
  void* first = filled(heap, 300 * kKiB, 0xAB);
  void* second = filled(heap, 300 * kKiB, 0xCD);
  void* after = filled(heap, 64, 0x22);
  heap.deallocate(first);
  ASSERT_GT(heap.trim(), 200 * kKiB);
  // The purged block before takes in the written one.
  heap.deallocate(second);
  Allocation whole = heap.allocate_zeroed({600 * kKiB, 8});
  EXPECT_EQ(whole.ptr, first);
  EXPECT_TRUE(all_zero(whole.ptr, whole.size));
  heap.deallocate(whole.ptr);
  heap.deallocate(after);
  heap.deallocate(keep);
}

TEST(Zeroed, BlockPurgedByTrimUnused) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);
  void* stale = filled(heap, 700 * kKiB, 0xAB);
  void* after = filled(heap, 64, 0x22);
  heap.deallocate(stale);
  // Busy between the calls, so the bucket is not trimmed as unused: only
  // the block that stayed free since the first call is purged.
  heap.trim_unused();
  heap.deallocate(filled(heap, 64, 0x33));
  EXPECT_GE(heap.trim_unused(), 600 * kKiB);
  Allocation again = heap.allocate_zeroed({700 * kKiB, 8});
  EXPECT_EQ(again.ptr, stale);
  EXPECT_TRUE(all_zero(again.ptr, again.size));
  heap.deallocate(again.ptr);
  heap.deallocate(after);
  heap.deallocate(keep);
}

TEST(Zeroed, GrowZeroedClearsTheGrownPart) {
  Rulloc<1> heap = make_heap();
  void* keep = filled(heap, 64, 0x11);
  void* grown = filled(heap, 100 * kKiB, 0xAB);
  void* next = filled(heap, 300 * kKiB, 0xCD);
  heap.deallocate(next);  // dirty, right after `grown`
  Allocation g = heap.grow_zeroed(grown, {100 * kKiB, 8}, {350 * kKiB, 8});
  ASSERT_EQ(g.ptr, grown);
  EXPECT_TRUE(all_zero(static_cast<char*>(g.ptr) + 100 * kKiB, 250 * kKiB));
  heap.deallocate(g.ptr);
  heap.deallocate(keep);
}

}  // namespace
