// The public faces of the allocator: std::pmr, StlAllocator, the default
// instance, the C API, bucket configurations, keep_empty_regions and dump.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <memory_resource>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rulloc/rulloc.h"
#include "test_util.hpp"

#if defined(__linux__)
#include <sys/mman.h>

#include <cerrno>
#endif

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Options;
using rulloc::Rulloc;

template <class Heap>
std::size_t used_blocks(const Heap& heap) {
  std::size_t used = 0;
  for (const auto& s : heap.stats()) used += s.blocks - s.free_blocks;
  return used;
}

// --- std::pmr --------------------------------------------------------------

TEST(Pmr, VectorAndString) {
  Rulloc<> heap;
  {
    std::pmr::vector<int> v(&heap);
    for (int i = 0; i < 10000; ++i) v.push_back(i * 3);
    std::pmr::string s(&heap);
    for (int i = 0; i < 1000; ++i) s += static_cast<char>('a' + i % 26);
    EXPECT_GT(used_blocks(heap), 0u);
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(v[i], i * 3);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(s[i], 'a' + i % 26);
    EXPECT_TRUE(consistent(heap));
  }
  EXPECT_TRUE(empty(heap));
}

TEST(Pmr, AlignedAllocateAndIsEqual) {
  Rulloc<> heap, other;
  std::pmr::memory_resource& resource = heap;
  void* p = resource.allocate(100, 64);
  EXPECT_EQ(addr(p) % 64, 0u);
  resource.deallocate(p, 100, 64);
  EXPECT_TRUE(resource.is_equal(heap));
  EXPECT_FALSE(resource.is_equal(other));
  EXPECT_TRUE(empty(heap));
}

// A pool on top of Rulloc: the pool carves small objects out of the chunks
// it asks Rulloc for, and release() gives every chunk back.
TEST(Pmr, UnsynchronizedPoolUpstream) {
  Rulloc<> heap;
  {
    std::pmr::unsynchronized_pool_resource pool(&heap);
    std::pmr::vector<std::pmr::string> words(&pool);
    for (int i = 0; i < 2000; ++i) {
      words.emplace_back(
          std::string(20 + i % 50, static_cast<char>('A' + i % 26)));
    }
    EXPECT_GT(used_blocks(heap), 0u);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_EQ(std::string_view(words[i]),
                std::string(20 + i % 50, static_cast<char>('A' + i % 26)));
    }
    EXPECT_TRUE(consistent(heap));
    words = std::pmr::vector<std::pmr::string>(&pool);
    pool.release();
    EXPECT_TRUE(empty(heap));
  }
  EXPECT_TRUE(empty(heap));
}

// --- StlAllocator ----------------------------------------------------------

TEST(StlAllocator, VectorAndMap) {
  Rulloc<> heap;
  {
    std::vector<int, rulloc::StlAllocator<int>> v{
        rulloc::StlAllocator<int>(&heap)};
    for (int i = 0; i < 5000; ++i) v.push_back(i);
    using Pair = std::pair<const int, std::string>;
    std::map<int, std::string, std::less<>, rulloc::StlAllocator<Pair>> m{
        rulloc::StlAllocator<Pair>(&heap)};
    for (int i = 0; i < 1000; ++i) m.emplace(i, std::to_string(i));
    EXPECT_GE(used_blocks(heap), 1000u);  // one node per map entry at least
    for (int i = 0; i < 5000; ++i) ASSERT_EQ(v[i], i);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(m.at(i), std::to_string(i));
    EXPECT_TRUE(consistent(heap));
  }
  EXPECT_TRUE(empty(heap));
}

TEST(StlAllocator, RebindAndEquality) {
  Rulloc<> heap, other;
  rulloc::StlAllocator<int> a(&heap);
  rulloc::StlAllocator<double> b(a);  // rebinding keeps the resource
  EXPECT_EQ(b.resource(), &heap);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == rulloc::StlAllocator<int>(&other));
  double* d = b.allocate(10);
  EXPECT_EQ(addr(d) % alignof(double), 0u);
  b.deallocate(d, 10);
  EXPECT_TRUE(empty(heap));
}

TEST(StlAllocator, DefaultIsTheDefaultInstance) {
  rulloc::StlAllocator<int> a;
  EXPECT_EQ(a.resource(), &rulloc::default_instance());
  const std::size_t before = used_blocks(rulloc::default_instance());
  {
    std::vector<int, rulloc::StlAllocator<int>> v(1000, 7);
    EXPECT_EQ(used_blocks(rulloc::default_instance()), before + 1);
    EXPECT_EQ(std::count(v.begin(), v.end(), 7), 1000);
  }
  EXPECT_EQ(used_blocks(rulloc::default_instance()), before);
}

// --- default instance ------------------------------------------------------

TEST(DefaultInstance, OneObjectThatWorks) {
  Rulloc<>& heap = rulloc::default_instance();
  EXPECT_EQ(&heap, &rulloc::default_instance());
  const std::size_t before = used_blocks(heap);
  Allocation a = heap.allocate(Layout{300, 32});
  ASSERT_NE(a.ptr, nullptr);
  EXPECT_EQ(addr(a.ptr) % 32, 0u);
  EXPECT_EQ(used_blocks(heap), before + 1);
  heap.deallocate(a.ptr);
  EXPECT_EQ(used_blocks(heap), before);
  EXPECT_TRUE(consistent(heap));
}

// --- C API -----------------------------------------------------------------

TEST(CApi, HeapWithCustomLimits) {
  const std::size_t limits[] = {32, 512};
  rulloc_heap* heap = rulloc_heap_create(limits, 2, 0);
  ASSERT_NE(heap, nullptr);
  rulloc_bucket_stats s[4];
  ASSERT_EQ(rulloc_heap_stats(heap, s, 4), 3u);
  EXPECT_EQ(s[0].limit, 32u);
  EXPECT_EQ(s[1].limit, 512u);
  EXPECT_EQ(s[2].limit, SIZE_MAX);

  // One block in each bucket.
  void* a = rulloc_alloc(heap, 20, 8);
  void* b = rulloc_alloc_zeroed(heap, 100, 16);
  void* c = rulloc_alloc(heap, 1000, 8);
  ASSERT_TRUE(a && b && c);
  rulloc_heap_stats(heap, s, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s[i].regions, 1u) << i;
  EXPECT_EQ(rulloc_usable_size(heap, a), 24u);
  EXPECT_EQ(addr(b) % 16, 0u);
  EXPECT_TRUE(all_zero(b, 0, 100));
  fill(a, 20, 1);

  // 20 -> 400 moves to the 512 bucket; 400 -> 300 shrinks in place.
  void* a2 = rulloc_realloc(heap, a, 400, 8);
  ASSERT_NE(a2, nullptr);
  EXPECT_TRUE(intact(a2, 20, 1));
  fill(a2, 400, 2);
  void* a3 = rulloc_realloc(heap, a2, 300, 8);
  EXPECT_EQ(a3, a2);
  EXPECT_TRUE(intact(a3, 300, 2));
  EXPECT_GE(rulloc_usable_size(heap, a3), 300u);
  EXPECT_EQ(rulloc_heap_check(heap), 1);

  rulloc_free(heap, a3);
  rulloc_free(heap, b);
  rulloc_free(heap, c);
  rulloc_free(heap, nullptr);
  rulloc_heap_stats(heap, s, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s[i].regions, 0u) << i;
  EXPECT_EQ(rulloc_heap_check(heap), 1);
  rulloc_heap_destroy(heap);
}

// Capacity smaller than the bucket count: fills what fits, returns the count.
TEST(CApi, StatsCapacity) {
  rulloc_heap* heap = rulloc_heap_create(nullptr, 0, 0);
  ASSERT_NE(heap, nullptr);
  rulloc_bucket_stats s[2] = {};
  EXPECT_EQ(rulloc_heap_stats(heap, s, 2), 4u);
  EXPECT_EQ(s[0].limit, 128u);
  EXPECT_EQ(s[1].limit, 1024u);
  rulloc_heap_destroy(heap);
}

// "heap == NULL means the process-wide default instance": the one C++ code
// reaches through rulloc::default_instance().
TEST(CApi, NullHeapIsTheDefaultInstance) {
  Rulloc<>& instance = rulloc::default_instance();
  const std::size_t before = used_blocks(instance);
  void* p = rulloc_alloc(nullptr, 100, 8);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(used_blocks(instance), before + 1);
  rulloc_bucket_stats s[4];
  ASSERT_EQ(rulloc_heap_stats(nullptr, s, 4), 4u);
  auto cpp = instance.stats();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s[i].limit, cpp[i].limit);
    EXPECT_EQ(s[i].blocks, cpp[i].blocks) << i;
  }
  EXPECT_EQ(rulloc_usable_size(nullptr, p), 104u);
  EXPECT_EQ(rulloc_heap_check(nullptr), 1);
  rulloc_free(nullptr, p);
  EXPECT_EQ(used_blocks(instance), before);
}

// --- bucket configurations -------------------------------------------------

TEST(Buckets, DefaultLimits) {
  EXPECT_EQ(rulloc::default_bucket_limits<3>(),
            (std::array<std::size_t, 3>{128, 1024, 8192}));
  EXPECT_EQ(rulloc::default_bucket_limits<5>(),
            (std::array<std::size_t, 5>{128, 1024, 8192, 65536, 524288}));
}

TEST(Buckets, OneFixedBucket) {
  Rulloc<1> heap;
  auto s = heap.stats();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].limit, 128u);
  EXPECT_EQ(s[1].limit, SIZE_MAX);
  void* a = heap.allocate(Layout{128, 8}).ptr;
  void* b = heap.allocate(Layout{129, 8}).ptr;
  EXPECT_EQ(regions(heap.stats()), (std::array<std::size_t, 2>{1, 1}));
  heap.deallocate(a);
  heap.deallocate(b);
  EXPECT_TRUE(empty(heap));
}

// A size goes to the first bucket whose limit is >= it; alignment plays no
// part.
TEST(Buckets, FiveCustomLimits) {
  Rulloc<5> heap(limits(16, 64, 256, 1024, 4096));
  struct Case {
    std::size_t size, align, bucket;
  };
  const Case cases[] = {{0, 8, 0},    {16, 8, 0},     {16, 4096, 0},
                        {17, 8, 1},   {64, 64, 1},    {65, 8, 2},
                        {256, 8, 2},  {1000, 8, 3},   {4096, 8, 4},
                        {4097, 8, 5}, {1 << 20, 8, 5}};
  for (const Case& c : cases) {
    auto before = regions(heap.stats());
    Allocation a = heap.allocate(Layout{c.size, c.align});
    ASSERT_NE(a.ptr, nullptr);
    auto after = regions(heap.stats());
    before[c.bucket] += 1;  // each bucket is empty: a new region appears
    EXPECT_EQ(after, before) << "size " << c.size << " align " << c.align;
    heap.deallocate(a.ptr);
    EXPECT_TRUE(empty(heap));
  }
}

// --- keep_empty_regions ----------------------------------------------------

// The original unmapped at once: allocate+free in a loop called mmap and
// munmap every time. With one empty region kept, the same block is reused.
TEST(KeepEmptyRegions, LoopReusesOneRegion) {
  Rulloc<> heap(Options{1, 0});
  void* first = heap.allocate(Layout{1, 8}).ptr;
  heap.deallocate(first);
  for (int i = 0; i < 100; ++i) {
    void* p = heap.allocate(Layout{1, 8}).ptr;
    ASSERT_EQ(p, first) << "iteration " << i;
    heap.deallocate(p);
  }
  auto s = heap.stats()[0];
  EXPECT_EQ(s.regions, 1u);
  EXPECT_EQ(s.blocks, 1u);
  EXPECT_EQ(s.free_blocks, 1u);
  EXPECT_EQ(s.mapped_bytes, page());
  EXPECT_TRUE(consistent(heap));
}

TEST(KeepEmptyRegions, ZeroUnmapsAtOnce) {
  Rulloc<> heap;
  void* p = heap.allocate(Layout{1, 8}).ptr;
  heap.deallocate(p);
  EXPECT_TRUE(empty(heap));
}

// Blocks of 8000 bytes fill a two-page region each: three regions; freeing
// all keeps two of them, and they are reused.
TEST(KeepEmptyRegions, KeepsAtMostTheLimit) {
  Rulloc<> heap(Options{2, 0});
  void* p[3];
  for (auto& q : p) q = heap.allocate(Layout{8000, 8}).ptr;
  EXPECT_EQ(heap.stats()[2].regions, 3u);
  for (auto& q : p) heap.deallocate(q);
  auto s = heap.stats()[2];
  EXPECT_EQ(s.regions, 2u);
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.free_blocks, 2u);
  EXPECT_EQ(s.mapped_bytes, 2 * 2 * page());
  EXPECT_TRUE(consistent(heap));

  void* again = heap.allocate(Layout{8000, 8}).ptr;
  EXPECT_EQ(heap.stats()[2].regions, 2u);
  heap.deallocate(again);
  EXPECT_EQ(heap.stats()[2].regions, 2u);
}

#if defined(__linux__)
// msync fails with ENOMEM on a range that is not mapped.
bool mapped(std::uintptr_t base) {
  return msync(reinterpret_cast<void*>(base), page(), MS_ASYNC) == 0 ||
         errno != ENOMEM;
}

TEST(KeepEmptyRegions, DestructorReturnsKeptRegions) {
  auto heap = std::make_unique<Rulloc<>>(Options{4, 0});
  void* p = heap->allocate(Layout{1, 8}).ptr;
  const std::uintptr_t base = addr(p) - kFirstContent;
  heap->deallocate(p);
  EXPECT_EQ(heap->stats()[0].regions, 1u);
  EXPECT_TRUE(mapped(base));
  heap.reset();
  EXPECT_FALSE(mapped(base));
}
#endif

// --- region_blocks ---------------------------------------------------------

// A floor of four blocks of the bucket's limit per region: four blocks at
// the limit share one region, and a block freed there serves the next one
// without a new region. Without it each takes a region of its own.
TEST(RegionBlocks, BigBlocksShareRegions) {
  constexpr std::size_t kLimit = 256 * 1024;
  Options options;
  options.region_blocks = 4;
  Rulloc<2> heap({4096, kLimit}, options);
  void* p[4];
  for (auto& q : p) {
    q = heap.allocate(Layout{kLimit - 1024, 8}).ptr;
    ASSERT_NE(q, nullptr);
  }
  auto s = heap.stats()[1];
  EXPECT_EQ(s.regions, 1u);
  EXPECT_GE(s.mapped_bytes, 4 * kLimit);
  heap.deallocate(p[1]);
  void* again = heap.allocate(Layout{kLimit - 2048, 8}).ptr;
  EXPECT_EQ(again, p[1]);
  EXPECT_EQ(heap.stats()[1].regions, 1u);
  // The small bucket's regions follow its own limit: one page.
  void* small = heap.allocate(Layout{100, 8}).ptr;
  EXPECT_LE(heap.stats()[0].mapped_bytes, 4 * 4096u);
  heap.deallocate(small);
  heap.deallocate(again);
  for (void* q : {p[0], p[2], p[3]}) heap.deallocate(q);
  EXPECT_TRUE(consistent(heap));
  EXPECT_TRUE(empty(heap));

  Rulloc<2> plain({4096, kLimit});
  void* a = plain.allocate(Layout{kLimit - 1024, 8}).ptr;
  void* b = plain.allocate(Layout{kLimit - 1024, 8}).ptr;
  EXPECT_EQ(plain.stats()[1].regions, 2u);
  plain.deallocate(a);
  plain.deallocate(b);
}

// --- dump ------------------------------------------------------------------
// The exact drawing is free; it must show every bucket, every region and
// whether blocks are used or free.

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(Dump, ShowsBucketsRegionsAndBlocks) {
  Rulloc<> heap;
  std::ostringstream empty_dump;
  heap.dump(empty_dump);
  const std::string before = empty_dump.str();
  EXPECT_FALSE(before.empty());
  for (const char* limit : {"128", "1024", "8192"}) {
    EXPECT_NE(before.find(limit), std::string::npos) << limit;
  }

  void* a = heap.allocate(Layout{1, 8}).ptr;
  void* b = heap.allocate(Layout{5000, 8}).ptr;
  std::ostringstream out;
  heap.dump(out);
  const std::string after = lower(out.str());
  EXPECT_NE(after, lower(before));
  EXPECT_NE(after.find("used"), std::string::npos);
  EXPECT_NE(after.find("free"), std::string::npos);
  for (void* p : {a, b}) {
    std::ostringstream region;
    region << reinterpret_cast<void*>(addr(p) - kFirstContent);
    EXPECT_NE(after.find(lower(region.str())), std::string::npos)
        << "region " << region.str() << " missing from\n"
        << out.str();
  }
  heap.deallocate(a);
  heap.deallocate(b);
}

}  // namespace
