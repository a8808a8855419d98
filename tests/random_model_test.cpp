// Random operations checked against a model. For each fixed seed, thousands
// of allocate / allocate_zeroed / deallocate / grow / grow_zeroed / shrink
// calls with sizes from 0 to ~100 KiB and alignments 1..4096; the model (a
// map from address to what the block must hold) checks contents, alignment,
// non-overlap and the used-block count, and check() runs every few ops.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Options;
using rulloc::Rulloc;

constexpr std::uint64_t kSeeds[] = {1, 42, 4711, 20240607};
constexpr int kOps = 4000;
constexpr std::size_t kMaxLive = 200;
constexpr int kCheckEvery = 97;

struct Expected {
  std::size_t size;    // bytes holding the pattern
  std::size_t align;   // the layout's alignment
  std::size_t usable;  // what rulloc said the block holds
  unsigned seed;       // the pattern
};

template <class Heap>
class Model {
 public:
  Model(Heap& heap, std::uint64_t seed) : heap_(heap), rng_(seed) {}

  // One random operation; a failure names what went wrong.
  ::testing::AssertionResult step() {
    const unsigned roll = pick(100);
    if (live_.empty() || (live_.size() < kMaxLive && roll < 35)) {
      return allocate(roll % 3 == 0);
    }
    if (live_.size() >= kMaxLive || roll < 60) return deallocate();
    if (roll < 85) return grow(roll % 2 == 0);
    return shrink();
  }

  // Every live block still holds its pattern; stats agree with the model.
  ::testing::AssertionResult verify_all() const {
    for (const auto& [p, e] : live_) {
      const void* ptr = reinterpret_cast<const void*>(p);
      std::size_t bad = first_mismatch(ptr, e.size, e.seed);
      if (bad != e.size) {
        return ::testing::AssertionFailure()
               << "block at " << ptr << " of " << e.size
               << " bytes corrupted at " << bad;
      }
      if (heap_.usable_size(ptr) != e.usable) {
        return ::testing::AssertionFailure()
               << "usable_size " << heap_.usable_size(ptr)
               << " != " << e.usable;
      }
    }
    std::size_t used = 0;
    for (const auto& s : heap_.stats()) {
      if (s.free_blocks > s.blocks || (s.regions == 0) != (s.blocks == 0)) {
        return ::testing::AssertionFailure() << "stats " << describe(s);
      }
      used += s.blocks - s.free_blocks;
    }
    if (used != live_.size()) {
      return ::testing::AssertionFailure()
             << used << " blocks in use, the model has " << live_.size();
    }
    return consistent(heap_);
  }

  void free_all() {
    while (!live_.empty()) (void)deallocate();
  }

 private:
  unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }

  // Mostly small, sometimes up to ~100 KiB: every bucket of every config.
  std::size_t random_size() {
    const unsigned c = pick(20);
    if (c < 10) return pick(129);
    if (c < 16) return 129 + pick(8064);
    if (c < 19) return 8193 + pick(24576);
    return 32769 + pick(69632);
  }
  std::size_t random_align() {
    if (pick(10) < 7) return std::size_t{1} << pick(4);  // 1..8
    return std::size_t{16} << pick(9);                   // 16..4096
  }
  auto random_block() {
    auto it = live_.begin();
    std::advance(it, pick(static_cast<unsigned>(live_.size())));
    return it;
  }

  // Records a block the heap returned, after checking what must hold of it.
  ::testing::AssertionResult add(Allocation a, Layout l, Expected e) {
    if (a.ptr == nullptr) {
      return ::testing::AssertionFailure()
             << "no memory for {" << l.size << ", " << l.align << "}";
    }
    if (addr(a.ptr) % l.align != 0 || a.size < l.size ||
        heap_.usable_size(a.ptr) != a.size) {
      return ::testing::AssertionFailure()
             << a.ptr << " size " << a.size << " for {" << l.size << ", "
             << l.align << "}";
    }
    const std::uintptr_t p = addr(a.ptr);
    auto next = live_.lower_bound(p);
    if (next != live_.end() && next->first < p + a.size) {
      return ::testing::AssertionFailure() << a.ptr << " overlaps the next";
    }
    if (next != live_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second.usable > p) {
        return ::testing::AssertionFailure() << a.ptr << " overlaps previous";
      }
    }
    e.usable = a.size;
    live_.emplace(p, e);
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult allocate(bool zeroed) {
    const Layout l{random_size(), random_align()};
    Allocation a = zeroed ? heap_.allocate_zeroed(l) : heap_.allocate(l);
    if (zeroed && a.ptr != nullptr && !all_zero(a.ptr, 0, a.size)) {
      return ::testing::AssertionFailure() << "allocate_zeroed not zeroed";
    }
    Expected e{l.size, l.align, 0, ++next_seed_};
    // Sometimes the caller uses every byte it was given.
    if (a.ptr != nullptr && pick(4) == 0) e.size = a.size;
    auto result = add(a, l, e);
    if (result) fill(a.ptr, e.size, e.seed);
    return result;
  }

  ::testing::AssertionResult deallocate() {
    auto it = random_block();
    void* ptr = reinterpret_cast<void*>(it->first);
    Expected e = it->second;
    live_.erase(it);
    if (!intact(ptr, e.size, e.seed)) {
      return ::testing::AssertionFailure() << "corrupted before free";
    }
    // The layout is optional: the header knows the block's bucket.
    if (pick(2)) {
      heap_.deallocate(ptr, Layout{e.size, e.align});
    } else {
      heap_.deallocate(ptr);
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult grow(bool zeroed) {
    auto it = random_block();
    void* ptr = reinterpret_cast<void*>(it->first);
    const Expected e = it->second;
    const Layout old{e.size, e.align};
    const std::size_t extra = pick(3) == 0 ? random_size() : pick(300);
    const Layout l{e.size + extra, pick(3) == 0 ? random_align() : e.align};
    Allocation a =
        zeroed ? heap_.grow_zeroed(ptr, old, l) : heap_.grow(ptr, old, l);
    if (a.ptr == nullptr) return ::testing::AssertionFailure() << "grow failed";
    live_.erase(it);
    if (!intact(a.ptr, e.size, e.seed)) {
      return ::testing::AssertionFailure() << "grow lost data";
    }
    if (zeroed && !all_zero(a.ptr, e.size, l.size)) {
      return ::testing::AssertionFailure() << "grow_zeroed left garbage";
    }
    auto result = add(a, l, Expected{l.size, l.align, 0, e.seed});
    if (result) fill(a.ptr, l.size, e.seed);
    return result;
  }

  ::testing::AssertionResult shrink() {
    auto it = random_block();
    void* ptr = reinterpret_cast<void*>(it->first);
    const Expected e = it->second;
    const Layout l{pick(static_cast<unsigned>(e.size) + 1),
                   pick(4) == 0 ? random_align() : e.align};
    Allocation a = heap_.shrink(ptr, Layout{e.size, e.align}, l);
    if (a.ptr == nullptr) {
      return ::testing::AssertionFailure() << "shrink failed";
    }
    live_.erase(it);
    if (!intact(a.ptr, l.size, e.seed)) {
      return ::testing::AssertionFailure() << "shrink lost data";
    }
    return add(a, l, Expected{l.size, l.align, 0, e.seed});
  }

  Heap& heap_;
  std::mt19937_64 rng_;  // its output is fixed by the standard
  std::map<std::uintptr_t, Expected> live_;
  unsigned next_seed_ = 0;
};

// Runs every seed on a fresh heap made by `make`; `keep` is the heap's
// keep_empty_regions: that many empty regions per bucket may stay mapped.
template <class Make>
void run(Make make, std::size_t keep) {
  for (std::uint64_t seed : kSeeds) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    auto heap = make();
    Model model(*heap, seed);
    for (int op = 1; op <= kOps; ++op) {
      ASSERT_TRUE(model.step()) << "op " << op;
      if (op % kCheckEvery == 0) {
        ASSERT_TRUE(model.verify_all()) << "op " << op;
      }
    }
    ASSERT_TRUE(model.verify_all());
    model.free_all();
    EXPECT_TRUE(consistent(*heap));
    for (const auto& s : heap->stats()) {
      EXPECT_LE(s.regions, keep) << describe(s);
      EXPECT_EQ(s.blocks, s.regions) << describe(s);  // one free block each
      EXPECT_EQ(s.free_blocks, s.regions) << describe(s);
    }
  }
}

TEST(RandomModel, DefaultBuckets) {
  run([] { return std::make_unique<Rulloc<>>(); }, 0);
}

TEST(RandomModel, OneBucket) {
  run([] { return std::make_unique<Rulloc<1>>(limits(4096)); }, 0);
}

TEST(RandomModel, FiveCustomBuckets) {
  run(
      [] {
        return std::make_unique<Rulloc<5>>(limits(32, 64, 256, 2048, 16384));
      },
      0);
}

// Limits that are not multiples of 8.
TEST(RandomModel, OddLimits) {
  run([] { return std::make_unique<Rulloc<2>>(limits(100, 1000)); }, 0);
}

TEST(RandomModel, KeepEmptyRegions) {
  run([] { return std::make_unique<Rulloc<>>(Options{2, 0}); }, 2);
}

TEST(RandomModel, KeepEmptyRegionsCustomBuckets) {
  run(
      [] {
        return std::make_unique<Rulloc<3>>(limits(48, 512, 4096),
                                           Options{1, 0});
      },
      1);
}

// Larger regions for the fixed buckets: many blocks share a mapping.
TEST(RandomModel, MinRegionBytes) {
  run([] { return std::make_unique<Rulloc<>>(Options{1, 64 * 1024}); }, 1);
}

}  // namespace
