// Fault injection: every refused mapping must end as a clean failure
// ({nullptr, 0}, ENOMEM, std::bad_alloc), with the heap intact and nothing
// leaked, wherever in a workload it happens.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <new>
#include <vector>

#include "platform/faults.hpp"
#include "rulloc/rulloc.h"
#include "test_util.hpp"

namespace {

namespace faults = rulloc::platform::faults;
using rulloc::Allocation;
using rulloc::Layout;

struct Disarm {
  ~Disarm() { faults::disarm(); }
};

struct Live {
  Allocation allocation;
  Layout layout;
  unsigned char seed;
};

void fill(const Live& live) {
  std::memset(live.allocation.ptr, live.seed, live.layout.size);
}

bool intact(const Live& live) {
  const auto* bytes = static_cast<const unsigned char*>(live.allocation.ptr);
  for (std::size_t i = 0; i < live.layout.size; ++i) {
    if (bytes[i] != live.seed) return false;
  }
  return true;
}

// A fixed mix of allocations, growths across buckets, shrinks and frees.
// Returns how many operations failed; every failure is checked on the spot.
std::size_t run_workload(rulloc::Rulloc<>& heap) {
  constexpr std::size_t kSizes[] = {1, 100, 1000, 5000, 20000, 50000};
  constexpr std::size_t kAligns[] = {8, 16, 64, 4096};
  std::vector<Live> live;
  std::size_t failures = 0;
  std::string error;
  for (std::size_t i = 0; i < 80; ++i) {
    const Layout layout{kSizes[i % 6], kAligns[i % 4]};
    Allocation a = heap.allocate(layout);
    if (a.ptr == nullptr) {
      ++failures;
      EXPECT_EQ(a.size, 0u);
    } else {
      live.push_back({a, layout, static_cast<unsigned char>(i)});
      fill(live.back());
    }
    if (i % 3 == 2 && !live.empty()) {
      Live& victim = live[i % live.size()];
      const Layout bigger{victim.layout.size * 3 + 8, victim.layout.align};
      Allocation grown =
          heap.grow(victim.allocation.ptr, victim.layout, bigger);
      if (grown.ptr == nullptr) {
        ++failures;
        EXPECT_TRUE(intact(victim)) << "a failed grow touched the block";
      } else {
        victim.allocation = grown;
        EXPECT_TRUE(intact(victim)) << "grow lost the contents";
        victim.layout = bigger;
        fill(victim);
      }
    }
    if (i % 5 == 4 && !live.empty()) {
      Live& victim = live[(i * 7) % live.size()];
      const Layout smaller{victim.layout.size / 2 + 1, victim.layout.align};
      Allocation shrunk =
          heap.shrink(victim.allocation.ptr, victim.layout, smaller);
      if (shrunk.ptr == nullptr) {
        ++failures;
        EXPECT_TRUE(intact(victim));
      } else {
        victim.allocation = shrunk;
        victim.layout = smaller;
        EXPECT_TRUE(intact(victim));
      }
    }
    if (i % 4 == 3 && !live.empty()) {
      const std::size_t index = (i * 13) % live.size();
      EXPECT_TRUE(intact(live[index]));
      heap.deallocate(live[index].allocation.ptr, live[index].layout);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
    }
    EXPECT_TRUE(heap.check(&error)) << "after op " << i << ": " << error;
  }
  for (const Live& l : live) {
    EXPECT_TRUE(intact(l));
    heap.deallocate(l.allocation.ptr, l.layout);
  }
  return failures;
}

void expect_empty(const rulloc::Rulloc<>& heap) {
  for (const auto& bucket : heap.stats()) {
    EXPECT_EQ(bucket.regions, 0u)
        << "leaked a region (limit " << bucket.limit << ")";
    EXPECT_EQ(bucket.mapped_bytes, 0u);
  }
}

// Sweeps n over every map of the workload: "all maps after the n-th fail".
TEST(Faults, EveryMapFailingFromTheNthOnIsClean) {
  Disarm disarm;
  std::size_t n = 0;
  for (;; ++n) {
    rulloc::Rulloc<> heap;
    faults::fail_maps_after(n);
    const std::size_t failures = run_workload(heap);
    const std::size_t refused = faults::refused();
    faults::disarm();
    expect_empty(heap);
    if (refused == 0) {
      EXPECT_EQ(failures, 0u);
      break;  // n is past the workload's last map
    }
    EXPECT_GT(failures, 0u) << "a refused map went unnoticed at n=" << n;
    ASSERT_LT(n, 10000u) << "the sweep does not end";
  }
  EXPECT_GT(n, 5u) << "the workload should map several regions";
}

// Sweeps n again: "only the n-th map fails"; later ones succeed.
TEST(Faults, OneMapFailingAnywhereIsClean) {
  Disarm disarm;
  for (std::size_t n = 0;; ++n) {
    rulloc::Rulloc<> heap;
    faults::fail_one_map_after(n);
    const std::size_t failures = run_workload(heap);
    const std::size_t refused = faults::refused();
    faults::disarm();
    expect_empty(heap);
    if (refused == 0) break;
    EXPECT_EQ(refused, 1u);
    EXPECT_GE(failures, 1u);
    ASSERT_LT(n, 10000u);
  }
}

TEST(Faults, ApisReportRefusedMaps) {
  Disarm disarm;
  rulloc::Rulloc<> heap;
  faults::fail_maps_after(0);
  EXPECT_EQ(heap.allocate({100, 8}).ptr, nullptr);
  std::pmr::memory_resource& resource = heap;
  EXPECT_THROW((void)resource.allocate(100, 8), std::bad_alloc);

  rulloc_heap* c_heap = rulloc_heap_create(nullptr, 0, 0);
  ASSERT_NE(c_heap, nullptr);
  errno = 0;
  EXPECT_EQ(rulloc_alloc(c_heap, 100, 8), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  faults::disarm();
  void* p = rulloc_alloc(c_heap, 100, 8);
  EXPECT_NE(p, nullptr);
  rulloc_free(c_heap, p);
  EXPECT_EQ(rulloc_heap_check(c_heap), 1);
  rulloc_heap_destroy(c_heap);

  // Once the kernel says yes again, so does the heap.
  Allocation a = heap.allocate({100, 8});
  EXPECT_NE(a.ptr, nullptr);
  heap.deallocate(a.ptr);
  expect_empty(heap);
}

}  // namespace
