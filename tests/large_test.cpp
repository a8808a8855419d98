// Large blocks: the dynamic bucket's cache of emptied regions
// (Options::large_cache_bytes) and growth by remapping
// (Options::remap_large_regions).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "misuse_report.hpp"
#include "platform/faults.hpp"
#include "test_util.hpp"

namespace {

using namespace rulloc_test;
namespace faults = rulloc::platform::faults;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Options;
using rulloc::Rulloc;

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kDynamic = 3;  // Rulloc<>: 128, 1024, 8192, dynamic

Options cache_options(std::size_t cap, bool remap = false,
                      std::size_t max_age_ms = 60000) {
  Options options;
  options.large_cache_bytes = cap;
  options.large_cache_ms = max_age_ms;
  options.remap_large_regions = remap;
  return options;
}

// What the dynamic bucket maps for a block of `size` bytes (align 8).
std::size_t region_length(std::size_t size) {
  return round_up(kFirstContent + round_up(size, 8), page());
}

bool remap_supported() {
#ifdef _WIN32
  return false;
#else
  return true;
#endif
}

struct Disarm {
  ~Disarm() { faults::disarm(); }
};

TEST(LargeCache, FreedRegionServesTheNextRequestOfItsLength) {
  Rulloc<> heap(cache_options(64 * kMiB));
  void* first = heap.allocate({kMiB, 8}).ptr;
  ASSERT_NE(first, nullptr);
  heap.deallocate(first);
  auto cached = heap.stats()[kDynamic];
  EXPECT_EQ(cached.regions, 1u);
  EXPECT_EQ(cached.free_blocks, 1u);
  EXPECT_EQ(cached.mapped_bytes, region_length(kMiB));
  EXPECT_TRUE(consistent(heap));

  // Within 1/8 of its length: the same region, no new mapping.
  Allocation again = heap.allocate_zeroed({kMiB - kMiB / 16, 8});
  ASSERT_NE(again.ptr, nullptr);
  EXPECT_EQ(again.ptr, first);
  EXPECT_TRUE(all_zero(again.ptr, 0, again.size));
  EXPECT_EQ(heap.stats()[kDynamic].regions, 1u);
  EXPECT_EQ(heap.stats()[kDynamic].mapped_bytes, region_length(kMiB));
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(again.ptr);

  // Half its length is too far off: a region of its own.
  void* half = heap.allocate({kMiB / 2, 8}).ptr;
  ASSERT_NE(half, nullptr);
  EXPECT_NE(half, first);
  EXPECT_EQ(heap.stats()[kDynamic].regions, 2u);
  heap.deallocate(half);
  EXPECT_TRUE(consistent(heap));
}

TEST(LargeCache, TakesTheSmallestRegionThatFits) {
  Rulloc<> heap(cache_options(64 * kMiB));
  const std::size_t sizes[] = {2 * kMiB, kMiB + kMiB / 16, kMiB, 3 * kMiB};
  std::vector<void*> blocks;
  for (std::size_t size : sizes) blocks.push_back(heap.allocate({size, 8}).ptr);
  for (void* p : blocks) heap.deallocate(p);
  EXPECT_EQ(heap.stats()[kDynamic].regions, 4u);
  EXPECT_EQ(heap.allocate({kMiB, 8}).ptr, blocks[2]);
  EXPECT_EQ(heap.allocate({kMiB + 1000, 8}).ptr, blocks[1]);
  EXPECT_EQ(heap.allocate({2 * kMiB - 4096, 8}).ptr, blocks[0]);
  EXPECT_TRUE(consistent(heap));
}

TEST(LargeCache, StaysUnderItsCap) {
  const std::size_t cap = 3 * region_length(kMiB);
  Rulloc<> heap(cache_options(cap));
  std::vector<void*> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(heap.allocate({kMiB, 8}).ptr);
  std::size_t live = blocks.size();
  for (void* p : blocks) {
    heap.deallocate(p);
    --live;
    const std::size_t cached =
        heap.stats()[kDynamic].mapped_bytes - live * region_length(kMiB);
    EXPECT_LE(cached, cap);
    EXPECT_TRUE(consistent(heap));
  }
  EXPECT_EQ(heap.stats()[kDynamic].regions, 3u);
  // The newest stay: the oldest gave way.
  EXPECT_EQ(heap.allocate({kMiB, 8}).ptr, blocks[3]);

  // A region larger than the whole cap is unmapped at once.
  void* huge = heap.allocate({4 * kMiB, 8}).ptr;
  ASSERT_NE(huge, nullptr);
  const std::size_t before = heap.stats()[kDynamic].mapped_bytes;
  heap.deallocate(huge);
  EXPECT_EQ(heap.stats()[kDynamic].mapped_bytes,
            before - region_length(4 * kMiB));
  EXPECT_TRUE(consistent(heap));
}

TEST(LargeCache, RegionsThatWaitTooLongAreUnmapped) {
  Rulloc<> heap(cache_options(64 * kMiB, false, 20));
  void* old_block = heap.allocate({kMiB, 8}).ptr;
  void* new_block = heap.allocate({2 * kMiB, 8}).ptr;
  heap.deallocate(old_block);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  heap.deallocate(new_block);  // caching it expires the old one
  const auto stats = heap.stats()[kDynamic];
  EXPECT_EQ(stats.regions, 1u);
  EXPECT_EQ(stats.mapped_bytes, region_length(2 * kMiB));
  EXPECT_TRUE(consistent(heap));
}

TEST(LargeCache, TrimGivesCachedRegionsBack) {
  Rulloc<> heap(cache_options(64 * kMiB));
  void* a = heap.allocate({kMiB, 8}).ptr;
  void* b = heap.allocate({3 * kMiB, 8}).ptr;
  heap.deallocate(a);
  heap.deallocate(b);
  EXPECT_EQ(heap.trim(), region_length(kMiB) + region_length(3 * kMiB));
  EXPECT_TRUE(empty(heap));
  EXPECT_TRUE(consistent(heap));
  EXPECT_EQ(heap.trim(), 0u);
}

TEST(LargeCache, DefaultOptionsCacheNothing) {
  Rulloc<> heap;
  void* a = heap.allocate({kMiB, 8}).ptr;
  heap.deallocate(a);
  EXPECT_TRUE(empty(heap));
}

TEST(LargeRemap, GrowthKeepsContents) {
  Rulloc<> heap(cache_options(0, true));
  for (std::size_t align : {std::size_t{8}, std::size_t{4096}}) {
    Allocation a = heap.allocate({kMiB, align});
    ASSERT_NE(a.ptr, nullptr);
    fill(a.ptr, kMiB, 7);
    // A shrink leaves a free tail in the region first.
    Allocation shrunk = heap.shrink(a.ptr, {kMiB, align}, {kMiB / 2, align});
    ASSERT_EQ(shrunk.ptr, a.ptr);
    Allocation grown =
        heap.grow(shrunk.ptr, {kMiB / 2, align}, {40 * kMiB, align});
    ASSERT_NE(grown.ptr, nullptr);
    EXPECT_GE(grown.size, 40 * kMiB);
    EXPECT_EQ(addr(grown.ptr) % align, 0u);
    EXPECT_TRUE(intact(grown.ptr, kMiB / 2, 7));
    EXPECT_EQ(heap.stats()[kDynamic].regions, 1u);
    EXPECT_TRUE(consistent(heap));
    fill(grown.ptr, 40 * kMiB, 8);  // every new byte is writable
    Allocation again = heap.grow(grown.ptr, {40 * kMiB, align},
                                 {41 * kMiB, std::size_t{65536}});
    ASSERT_NE(again.ptr, nullptr);
    EXPECT_EQ(addr(again.ptr) % 65536, 0u);
    EXPECT_TRUE(intact(again.ptr, 40 * kMiB, 8));
    EXPECT_TRUE(consistent(heap));
    heap.deallocate(again.ptr);
  }
  EXPECT_TRUE(empty(heap));
}

// With remap, a cached region of another length is resized to fit.
TEST(LargeRemap, CachedRegionIsResizedForAnyRequest) {
  if (!remap_supported()) GTEST_SKIP() << "no remap on this platform";
  Rulloc<> heap(cache_options(64 * kMiB, true));
  void* a = heap.allocate({kMiB, 8}).ptr;
  fill(a, kMiB, 3);
  heap.deallocate(a);
  Allocation bigger = heap.allocate_zeroed({8 * kMiB, 8});
  ASSERT_NE(bigger.ptr, nullptr);
  EXPECT_TRUE(all_zero(bigger.ptr, 0, bigger.size));
  EXPECT_EQ(heap.stats()[kDynamic].regions, 1u);
  EXPECT_EQ(heap.stats()[kDynamic].mapped_bytes, region_length(8 * kMiB));
  heap.deallocate(bigger.ptr);
  // A larger one is cut: the rest stays cached, its pages still resident.
  Allocation smaller = heap.allocate({kMiB / 4, 8});
  ASSERT_EQ(smaller.ptr, bigger.ptr);
  auto stats = heap.stats()[kDynamic];
  EXPECT_EQ(stats.regions, 2u);
  EXPECT_EQ(stats.free_blocks, 2u);  // the cached rest, the page's tail
  EXPECT_EQ(stats.mapped_bytes, region_length(8 * kMiB));
  EXPECT_TRUE(consistent(heap));
  Allocation rest = heap.allocate({6 * kMiB, 8});
  EXPECT_EQ(addr(rest.ptr), addr(smaller.ptr) + region_length(kMiB / 4));
  fill(rest.ptr, 6 * kMiB, 4);
  fill(smaller.ptr, kMiB / 4, 5);
  EXPECT_TRUE(intact(rest.ptr, 6 * kMiB, 4));
  heap.deallocate(smaller.ptr);
  heap.deallocate(rest.ptr);
  EXPECT_TRUE(consistent(heap));
  EXPECT_EQ(heap.trim(), region_length(8 * kMiB));
  EXPECT_TRUE(empty(heap));
}

TEST(LargeFaults, RefusedRemapFallsBackToAMove) {
  Disarm disarm;
  Rulloc<> heap(cache_options(0, true));
  Allocation a = heap.allocate({kMiB, 8});
  ASSERT_NE(a.ptr, nullptr);
  fill(a.ptr, kMiB, 5);
  faults::fail_one_map_after(0);
  Allocation grown = heap.grow(a.ptr, {kMiB, 8}, {4 * kMiB, 8});
  faults::disarm();
  ASSERT_NE(grown.ptr, nullptr);
  EXPECT_TRUE(intact(grown.ptr, kMiB, 5));
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(grown.ptr);
  EXPECT_TRUE(empty(heap));
}

TEST(LargeFaults, RefusedRemapAndMapLeaveTheBlockAsItWas) {
  Disarm disarm;
  Rulloc<> heap(cache_options(0, true));
  Allocation a = heap.allocate({kMiB, 8});
  ASSERT_NE(a.ptr, nullptr);
  fill(a.ptr, kMiB, 6);
  Allocation shrunk = heap.shrink(a.ptr, {kMiB, 8}, {kMiB / 2, 8});
  const auto before = heap.stats();
  faults::fail_maps_after(0);
  Allocation grown = heap.grow(shrunk.ptr, {kMiB / 2, 8}, {4 * kMiB, 8});
  faults::disarm();
  EXPECT_EQ(grown.ptr, nullptr);
  EXPECT_EQ(grown.size, 0u);
  EXPECT_TRUE(same_stats(before, heap.stats()));
  EXPECT_EQ(heap.usable_size(shrunk.ptr), shrunk.size);
  EXPECT_TRUE(intact(shrunk.ptr, kMiB / 2, 6));
  EXPECT_TRUE(consistent(heap));
  heap.deallocate(shrunk.ptr);
}

TEST(LargeFaults, RefusedResizeOfACachedRegionKeepsItCached) {
  Disarm disarm;
  Rulloc<> heap(cache_options(64 * kMiB, true));
  heap.deallocate(heap.allocate({kMiB, 8}).ptr);
  const auto before = heap.stats();
  faults::fail_maps_after(0);
  EXPECT_EQ(heap.allocate({8 * kMiB, 8}).ptr, nullptr);
  faults::disarm();
  EXPECT_TRUE(same_stats(before, heap.stats()));
  EXPECT_TRUE(consistent(heap));
  // And it serves a request again once the kernel says yes.
  void* p = heap.allocate({kMiB, 8}).ptr;
  EXPECT_NE(p, nullptr);
  heap.deallocate(p);
  EXPECT_TRUE(consistent(heap));
}

// Every map and remap from the n-th on refused, for every n, across a mix
// of large allocations, growths and frees with the cache and remapping on:
// each failure is clean, the heap stays consistent and nothing leaks.
TEST(LargeFaults, EveryRefusalFromTheNthOnIsClean) {
  Disarm disarm;
  struct Live {
    void* ptr;
    std::size_t size;
    unsigned seed;
  };
  const std::size_t sizes[] = {20000, 300000, kMiB, 3 * kMiB, 100000, 2 * kMiB};
  for (std::size_t n = 0;; ++n) {
    Rulloc<> heap(cache_options(4 * kMiB, true));
    std::vector<Live> live;
    faults::fail_maps_after(n);
    for (unsigned i = 0; i < 30; ++i) {
      const std::size_t size = sizes[i % 6];
      Allocation a = heap.allocate({size, 8});
      if (a.ptr == nullptr) {
        EXPECT_EQ(a.size, 0u);
      } else {
        fill(a.ptr, size, i);
        live.push_back({a.ptr, size, i});
      }
      if (i % 3 == 2 && !live.empty()) {
        Live& l = live[i % live.size()];
        const std::size_t bigger = l.size * 5 / 2;
        Allocation grown = heap.grow(l.ptr, {l.size, 8}, {bigger, 8});
        if (grown.ptr != nullptr) {
          l.ptr = grown.ptr;
          EXPECT_TRUE(intact(l.ptr, l.size, l.seed)) << "n=" << n;
          l.size = bigger;
          fill(l.ptr, l.size, l.seed);
        }
      }
      if (i % 4 == 3 && !live.empty()) {
        const std::size_t k = (i * 7) % live.size();
        EXPECT_TRUE(intact(live[k].ptr, live[k].size, live[k].seed));
        heap.deallocate(live[k].ptr);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      }
      ASSERT_TRUE(consistent(heap)) << "n=" << n << " op " << i;
    }
    const std::size_t refused = faults::refused();
    faults::disarm();
    for (const Live& l : live) {
      EXPECT_TRUE(intact(l.ptr, l.size, l.seed)) << "n=" << n;
      heap.deallocate(l.ptr);
    }
    heap.trim();
    EXPECT_TRUE(empty(heap)) << "n=" << n;
    if (refused == 0) break;
    ASSERT_LT(n, 1000u) << "the sweep does not end";
  }
}

// A cached region's block is free, not live: freeing it again is reported.
TEST(LargeCacheDeathTest, DoubleFreeOfACachedRegion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Rulloc<> heap(cache_options(64 * kMiB));
  void* a = heap.allocate({kMiB, 8}).ptr;
  heap.deallocate(a);
  ASSERT_EQ(heap.stats()[kDynamic].regions, 1u);
  EXPECT_DEATH(
      {
        announce(a);
        heap.deallocate(a);
      },
      reports("deallocate", kAlreadyFree));
}

// Once it leaves the cache, it is retired like any region.
TEST(LargeCacheDeathTest, DoubleFreeAfterTheCacheGaveTheRegionBack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Rulloc<> heap(cache_options(64 * kMiB));
  void* a = heap.allocate({kMiB, 8}).ptr;
  heap.deallocate(a);
  heap.trim();
  EXPECT_DEATH(
      {
        announce(a);
        heap.deallocate(a);
      },
      reports("deallocate", kUnmapped));
}

// A remap that moved a block leaves its old range reserved and retired, as
// a move by copy would: a free through the old pointer is reported.
TEST(LargeRemapDeathTest, FreeThroughThePointerARemapMovedAway) {
  if (!remap_supported()) GTEST_SKIP() << "no remap on this platform";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Rulloc<> heap(cache_options(0, true));
  void* a = heap.allocate({kMiB, 8}).ptr;
  // The next mapping lands right below `a` (mappings grow downwards) and
  // whatever was mapped before lies above it: growing must move it.
  void* below = heap.allocate({kMiB, 8}).ptr;
  Allocation grown = heap.grow(a, {kMiB, 8}, {64 * kMiB, 8});
  ASSERT_NE(grown.ptr, nullptr);
  if (grown.ptr == a) GTEST_SKIP() << "the kernel grew it in place";
  EXPECT_DEATH(
      {
        announce(a);
        heap.deallocate(a);
      },
      reports("deallocate", kUnmapped));
  heap.deallocate(grown.ptr);
  heap.deallocate(below);
}

}  // namespace
