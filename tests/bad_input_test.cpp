// Requests rulloc must refuse without changing anything, the C++ and C ways
// failure is reported, and the misuse it must catch (double free, pointers it
// never returned), which stops the program with a message naming the pointer.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <memory_resource>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "misuse_report.hpp"
#include "rulloc/rulloc.h"
#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Rulloc;

// More than any 64-bit address space can map, without overflowing.
constexpr std::size_t kHuge = std::size_t{1} << 52;

::testing::AssertionResult failed(Allocation a) {
  if (a.ptr == nullptr && a.size == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got {" << a.ptr << ", " << a.size << "}, expected {nullptr, 0}";
}

// A heap with live blocks in three buckets, each filled with a pattern; every
// test checks that a refused request left all of it exactly as it was.
class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    small = heap.allocate(Layout{100, 8});
    medium = heap.allocate(Layout{400, 64});
    large = heap.allocate(Layout{20000, 8});
    ASSERT_TRUE(small.ptr && medium.ptr && large.ptr);
    fill(small.ptr, small.size, 1);
    fill(medium.ptr, medium.size, 2);
    fill(large.ptr, large.size, 3);
    before = heap.stats();
  }
  void TearDown() override {
    EXPECT_TRUE(same_stats(before, heap.stats()));
    EXPECT_TRUE(consistent(heap));
    EXPECT_TRUE(intact(small.ptr, small.size, 1));
    EXPECT_TRUE(intact(medium.ptr, medium.size, 2));
    EXPECT_TRUE(intact(large.ptr, large.size, 3));
    EXPECT_EQ(heap.usable_size(small.ptr), small.size);
    EXPECT_EQ(heap.usable_size(medium.ptr), medium.size);
    for (Allocation a : {small, medium, large}) heap.deallocate(a.ptr);
    EXPECT_TRUE(empty(heap));
  }

  Rulloc<> heap;
  Allocation small{}, medium{}, large{};
  std::array<rulloc::BucketStats, 4> before{};
};

TEST_F(BadInput, AllocateSizeOverflow) {
  for (std::size_t size :
       {SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 100, SIZE_MAX / 2, kHuge}) {
    EXPECT_TRUE(failed(heap.allocate(Layout{size, 8}))) << size;
    EXPECT_TRUE(failed(heap.allocate_zeroed(Layout{size, 8}))) << size;
    EXPECT_TRUE(failed(heap.allocate(Layout{size, 4096}))) << size;
  }
  // The alignment pushes the size needed past SIZE_MAX.
  EXPECT_TRUE(
      failed(heap.allocate(Layout{SIZE_MAX / 2 + 8, SIZE_MAX / 2 + 1})));
  EXPECT_TRUE(failed(heap.allocate(Layout{16, std::size_t{1} << 63})));
}

TEST_F(BadInput, AllocateBadAlignment) {
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{24},
                            std::size_t{100}, std::size_t{4097}, SIZE_MAX}) {
    EXPECT_TRUE(failed(heap.allocate(Layout{16, align}))) << align;
    EXPECT_TRUE(failed(heap.allocate_zeroed(Layout{16, align}))) << align;
  }
}

TEST_F(BadInput, GrowRefusals) {
  const Layout old{small.size, 8};
  // Smaller is not a grow.
  EXPECT_TRUE(failed(heap.grow(small.ptr, old, Layout{old.size - 8, 8})));
  EXPECT_TRUE(failed(heap.grow(small.ptr, old, Layout{0, 8})));
  // Sizes nothing can hold, in the same and in other buckets.
  for (std::size_t size : {SIZE_MAX, SIZE_MAX - 7, kHuge}) {
    EXPECT_TRUE(failed(heap.grow(small.ptr, old, Layout{size, 8}))) << size;
    EXPECT_TRUE(failed(heap.grow_zeroed(small.ptr, old, Layout{size, 8})));
    EXPECT_TRUE(
        failed(heap.grow(large.ptr, Layout{large.size, 8}, Layout{size, 8})));
    EXPECT_TRUE(failed(
        heap.reallocate(large.ptr, Layout{large.size, 8}, Layout{size, 8})));
  }
  for (std::size_t align : {std::size_t{0}, std::size_t{12}, SIZE_MAX}) {
    EXPECT_TRUE(failed(heap.grow(small.ptr, old, Layout{200, align})));
    EXPECT_TRUE(failed(heap.grow(medium.ptr, Layout{medium.size, 64},
                                 Layout{medium.size, align})));
  }
}

TEST_F(BadInput, ShrinkRefusals) {
  const Layout old{medium.size, 64};
  // Larger is not a shrink.
  EXPECT_TRUE(failed(heap.shrink(medium.ptr, old, Layout{old.size + 8, 64})));
  EXPECT_TRUE(failed(heap.shrink(medium.ptr, old, Layout{SIZE_MAX, 64})));
  for (std::size_t align : {std::size_t{0}, std::size_t{48}, SIZE_MAX}) {
    EXPECT_TRUE(failed(heap.shrink(medium.ptr, old, Layout{100, align})));
  }
  // Enough room for the size, none for an alignment that is too large.
  EXPECT_TRUE(
      failed(heap.shrink(medium.ptr, old, Layout{100, std::size_t{1} << 63})));
}

// A failed grow in the same bucket must not have merged anything on its way:
// the block has free neighbours on both sides, whose bytes together are still
// far too few. Every block of this heap but the tiniest is in the dynamic
// bucket, where a grow to a huge size stays in the bucket.
TEST(FailedGrow, KeepsFreeNeighboursApart) {
  Rulloc<1> heap(limits(16));
  auto p = row(heap, 4, 200);
  heap.deallocate(p[0]);
  heap.deallocate(p[2]);
  const auto before = heap.stats();
  EXPECT_EQ(before[1].blocks, 5u);
  EXPECT_EQ(before[1].free_blocks, 3u);
  for (std::size_t size : {kHuge, SIZE_MAX / 2, SIZE_MAX - 8}) {
    EXPECT_TRUE(failed(heap.grow(p[1], Layout{200, 8}, Layout{size, 8})));
    EXPECT_TRUE(
        failed(heap.grow_zeroed(p[1], Layout{200, 8}, Layout{size, 8})));
    EXPECT_TRUE(failed(heap.grow(p[1], Layout{200, 8}, Layout{200, kHuge})));
    EXPECT_TRUE(same_stats(before, heap.stats()));
  }
  EXPECT_TRUE(intact(p[1], 200, 2));
  EXPECT_TRUE(intact(p[3], 200, 4));
  EXPECT_EQ(heap.usable_size(p[1]), 200u);
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(p[1]);
  heap.deallocate(p[3]);
  EXPECT_TRUE(empty(heap));
}

// Not a bad input: size 0 gets a real, distinct block that can be freed.
TEST(EdgeInput, ZeroSizeIsValidAndUnique) {
  Rulloc<> heap;
  std::set<void*> seen;
  std::vector<void*> live;
  for (std::size_t align : {1, 8, 16, 256}) {
    for (int i = 0; i < 4; ++i) {
      Allocation a = heap.allocate(Layout{0, align});
      ASSERT_NE(a.ptr, nullptr);
      EXPECT_EQ(addr(a.ptr) % align, 0u);
      EXPECT_TRUE(seen.insert(a.ptr).second) << "pointer handed out twice";
      live.push_back(a.ptr);
    }
  }
  EXPECT_TRUE(consistent(heap));
  for (void* p : live) heap.deallocate(p);
  EXPECT_TRUE(empty(heap));
}

// Freeing nullptr is allowed and does nothing, like free(NULL).
TEST(EdgeInput, DeallocateNullIsNoOp) {
  Rulloc<> heap;
  heap.deallocate(nullptr);
  EXPECT_EQ(heap.usable_size(nullptr), 0u);
  EXPECT_TRUE(empty(heap));
}

// --- C++ exceptions --------------------------------------------------------

TEST(Exceptions, PmrAllocateThrowsBadAlloc) {
  Rulloc<> heap;
  std::pmr::memory_resource& resource = heap;
  EXPECT_THROW((void)resource.allocate(kHuge, 8), std::bad_alloc);
  // Through a volatile, so GCC at -O0 does not reject the constant.
  const volatile std::size_t largest = SIZE_MAX;
  EXPECT_THROW((void)resource.allocate(largest, 8), std::bad_alloc);
  std::pmr::vector<char> v(&heap);
  EXPECT_THROW(v.reserve(kHuge), std::bad_alloc);
  EXPECT_TRUE(empty(heap));
}

TEST(Exceptions, StlAllocatorThrows) {
  Rulloc<> heap;
  rulloc::StlAllocator<std::uint64_t> alloc(&heap);
  // n * sizeof(T) would overflow.
  EXPECT_THROW((void)alloc.allocate(SIZE_MAX / 4), std::bad_array_new_length);
  EXPECT_THROW((void)alloc.allocate(kHuge / 8), std::bad_alloc);
  std::vector<std::uint64_t, rulloc::StlAllocator<std::uint64_t>> v(alloc);
  EXPECT_THROW(v.reserve(kHuge / 8), std::bad_alloc);
  EXPECT_TRUE(empty(heap));
}

// --- C API: NULL and errno -------------------------------------------------

class CBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    heap = rulloc_heap_create(nullptr, 0, 0);
    ASSERT_NE(heap, nullptr);
    p = rulloc_alloc(heap, 300, 16);
    ASSERT_NE(p, nullptr);
    fill(p, 300, 4);
    count = rulloc_heap_stats(heap, before, 4);
  }
  void TearDown() override {
    rulloc_bucket_stats after[4];
    ASSERT_EQ(rulloc_heap_stats(heap, after, 4), count);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_EQ(after[i].regions, before[i].regions) << i;
      EXPECT_EQ(after[i].blocks, before[i].blocks) << i;
      EXPECT_EQ(after[i].free_blocks, before[i].free_blocks) << i;
      EXPECT_EQ(after[i].mapped_bytes, before[i].mapped_bytes) << i;
    }
    EXPECT_TRUE(intact(p, 300, 4));
    EXPECT_EQ(rulloc_heap_check(heap), 1);
    rulloc_free(heap, p);
    rulloc_heap_destroy(heap);
  }
  // Calls f with errno cleared; expects NULL and the given errno.
  template <class F>
  void expect_error(F f, int error) {
    errno = 0;
    void* result = f();
    EXPECT_EQ(result, nullptr);
    EXPECT_EQ(errno, error);
  }

  rulloc_heap* heap = nullptr;
  void* p = nullptr;
  rulloc_bucket_stats before[4];
  std::size_t count = 0;
};

TEST_F(CBadInput, AllocTooLargeIsEnomem) {
  for (std::size_t size : {SIZE_MAX, SIZE_MAX - 7, kHuge}) {
    expect_error([&] { return rulloc_alloc(heap, size, 8); }, ENOMEM);
    expect_error([&] { return rulloc_alloc_zeroed(heap, size, 8); }, ENOMEM);
  }
}

TEST_F(CBadInput, AllocBadAlignmentIsEinval) {
  for (std::size_t align : {std::size_t{0}, std::size_t{3}, std::size_t{24}}) {
    expect_error([&] { return rulloc_alloc(heap, 16, align); }, EINVAL);
    expect_error([&] { return rulloc_alloc_zeroed(heap, 16, align); }, EINVAL);
  }
}

TEST_F(CBadInput, ReallocFailureKeepsOldBlock) {
  expect_error([&] { return rulloc_realloc(heap, p, SIZE_MAX, 16); }, ENOMEM);
  expect_error([&] { return rulloc_realloc(heap, p, kHuge, 16); }, ENOMEM);
  expect_error([&] { return rulloc_realloc(heap, p, 600, 0); }, EINVAL);
  expect_error([&] { return rulloc_realloc(heap, p, 100, 3); }, EINVAL);
}

TEST(CHeapCreate, TooManyBucketsIsRefused) {
  std::vector<std::size_t> limits(RULLOC_MAX_BUCKETS + 1);
  for (std::size_t i = 0; i < limits.size(); ++i) limits[i] = 16 * (i + 1);
  errno = 0;
  EXPECT_EQ(rulloc_heap_create(limits.data(), limits.size(), 0), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // The largest allowed count works.
  rulloc_heap* heap = rulloc_heap_create(limits.data(), RULLOC_MAX_BUCKETS, 0);
  ASSERT_NE(heap, nullptr);
  rulloc_bucket_stats stats[RULLOC_MAX_BUCKETS + 1];
  EXPECT_EQ(rulloc_heap_stats(heap, stats, RULLOC_MAX_BUCKETS + 1),
            std::size_t{RULLOC_MAX_BUCKETS + 1});
  rulloc_heap_destroy(heap);
}

// --- misuse: death tests ---------------------------------------------------
// Each must print the exact report (tests/misuse_report.hpp): the operation,
// the pointer the child announced and the problem.

class Misuse : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  Rulloc<> heap;
};

TEST_F(Misuse, DoubleFree) {
  void* a = heap.allocate(Layout{64, 8}).ptr;
  void* b = heap.allocate(Layout{64, 8}).ptr;  // keeps the region mapped
  heap.deallocate(a);
  EXPECT_DEATH(
      {
        announce(a);
        heap.deallocate(a);
      },
      reports("deallocate", kAlreadyFree));
  heap.deallocate(b);
}

// The second free hits a block that was merged into its free neighbour.
TEST_F(Misuse, DoubleFreeOfMergedBlock) {
  void* a = heap.allocate(Layout{64, 8}).ptr;
  void* b = heap.allocate(Layout{64, 8}).ptr;
  void* c = heap.allocate(Layout{64, 8}).ptr;
  heap.deallocate(a);
  heap.deallocate(b);  // merges into a
  EXPECT_DEATH(
      {
        announce(b);
        heap.deallocate(b);
      },
      reports("deallocate", kAlreadyFree));
  heap.deallocate(c);
}

TEST_F(Misuse, DoubleFreeOfAlignedBlock) {
  void* a = heap.allocate(Layout{100, 256}).ptr;
  void* b = heap.allocate(Layout{100, 8}).ptr;
  heap.deallocate(a);
  EXPECT_DEATH(
      {
        announce(a);
        heap.deallocate(a);
      },
      reports("deallocate", kAlreadyFree));
  heap.deallocate(b);
}

// A heap buffer with made-up content, in the middle so the bytes a header
// would occupy below the pointer are readable.
TEST_F(Misuse, ForeignPointerWithPattern) {
  auto buffer = std::make_unique<std::uint64_t[]>(64);
  for (int i = 0; i < 64; ++i) buffer[i] = 0xABABABABABABABABull;
  void* foreign = &buffer[32];
  EXPECT_DEATH(
      {
        announce(foreign);
        heap.deallocate(foreign);
      },
      reports("deallocate", kNotOurs));
}

TEST_F(Misuse, ForeignPointerZeroed) {
  auto buffer = std::make_unique<std::uint64_t[]>(64);  // zero-initialised
  void* foreign = &buffer[32];
  EXPECT_DEATH(
      {
        announce(foreign);
        heap.deallocate(foreign);
      },
      reports("deallocate", kNotOurs));
}

// The words below the pointer point back into the buffer, like a back
// pointer would, at a fake header that is not one.
TEST_F(Misuse, ForeignPointerWithFakeBackPointer) {
  auto buffer = std::make_unique<std::uint64_t[]>(64);
  for (int i = 0; i < 64; ++i) buffer[i] = addr(&buffer[0]);
  void* foreign = &buffer[32];
  EXPECT_DEATH(
      {
        announce(foreign);
        heap.deallocate(foreign);
      },
      reports("deallocate", kNotOurs));
}

// A pointer into the middle of a live block was never returned either.
TEST_F(Misuse, InteriorPointer) {
  Allocation a = heap.allocate_zeroed(Layout{256, 8});
  void* inside = static_cast<char*>(a.ptr) + 64;
  EXPECT_DEATH(
      {
        announce(inside);
        heap.deallocate(inside);
      },
      reports("deallocate", kNotOurs));
  heap.deallocate(a.ptr);
}

// Not 8-aligned: no block content starts there.
TEST_F(Misuse, MisalignedPointer) {
  Allocation a = heap.allocate(Layout{64, 8});
  void* odd = static_cast<char*>(a.ptr) + 1;
  EXPECT_DEATH(
      {
        announce(odd);
        heap.deallocate(odd);
      },
      reports("deallocate", kNotOurs));
  heap.deallocate(a.ptr);
}

// Resizing a freed block is caught like freeing it twice.
TEST_F(Misuse, GrowAfterFree) {
  void* a = heap.allocate(Layout{64, 8}).ptr;
  void* b = heap.allocate(Layout{64, 8}).ptr;
  heap.deallocate(a);
  EXPECT_DEATH(
      {
        announce(a);
        (void)heap.grow(a, Layout{64, 8}, Layout{100, 8});
      },
      reports("grow", kUsedAfterFree));
  heap.deallocate(b);
}

// A large block's region is retired when the block is freed. Other large
// blocks mapped and freed afterwards must not land on its range (it stays
// reserved while among the last retired regions), so freeing it again is
// reported rather than freeing whatever lives there now.
TEST_F(Misuse, DoubleFreeOfLargeBlockAfterItsRegionWasUnmapped) {
  constexpr std::size_t kLarge = 1 << 20;
  void* keep = heap.allocate(Layout{kLarge, 8}).ptr;
  void* freed = heap.allocate(Layout{kLarge, 8}).ptr;
  heap.deallocate(freed);
  std::vector<void*> live;
  for (int i = 0; i < 20; ++i) {
    void* p = heap.allocate(Layout{kLarge, 8}).ptr;
    ASSERT_NE(p, nullptr);
    if (i % 2 == 0) {
      heap.deallocate(p);  // one more retired region: 11 in all
    } else {
      live.push_back(p);
    }
  }
  for (void* p : live) {
    EXPECT_TRUE(addr(p) + kLarge <= addr(freed) ||
                addr(freed) + kLarge <= addr(p))
        << "a new region took the retired range";
  }
  EXPECT_DEATH(
      {
        announce(freed);
        heap.deallocate(freed);
      },
      reports("deallocate", kUnmapped));
  for (void* p : live) heap.deallocate(p);
  heap.deallocate(keep);
}

// Any block of a retired region is caught, not only one at its start: two
// blocks share a region, both are freed (the region is unmapped), then the
// second one, which lies past the first, is freed again. Also a block
// aligned to 1 KiB, whose pointer lies well inside the region's first page.
TEST_F(Misuse, DoubleFreeOfAnyBlockOfAnUnmappedRegion) {
  void* first = heap.allocate(Layout{100, 8}).ptr;
  void* second = heap.allocate(Layout{100, 8}).ptr;
  ASSERT_NE(second, nullptr);
  heap.deallocate(first);
  heap.deallocate(second);
  EXPECT_DEATH(
      {
        announce(second);
        heap.deallocate(second);
      },
      reports("deallocate", kUnmapped));
  void* aligned = heap.allocate(Layout{3000, 1024}).ptr;
  ASSERT_NE(aligned, nullptr);
  heap.deallocate(aligned);
  EXPECT_DEATH(
      {
        announce(aligned);
        heap.deallocate(aligned);
      },
      reports("deallocate", kUnmapped));
}

}  // namespace
