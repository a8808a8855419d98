// The arithmetic under every part of the heap: size classes, where a slab's
// blocks start, and secure mode's carving order. Slabs come from a private
// Segments (parts.hpp), not from the process heap.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "heap/random_order.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "parts.hpp"

namespace {

namespace heap = rulloc::heap;

std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

TEST(SizeClasses, EverySizeGetsTheSmallestClassThatHoldsIt) {
  for (std::size_t c = 1; c < heap::kClassCount; ++c) {
    EXPECT_LT(heap::class_size(c - 1), heap::class_size(c));
    EXPECT_EQ(heap::class_size(c) % 16, 0u) << c;
  }
  for (std::size_t size = 0; size <= heap::kMaxSmallSize; ++size) {
    const std::size_t c = heap::class_for_request(size);
    ASSERT_LT(c, heap::kClassCount);
    ASSERT_GE(heap::class_size(c), size);
    if (c > 0) {
      ASSERT_LT(heap::class_size(c - 1), size) << size;
    }
    // Above 256 bytes, at most 25% of a block is slack.
    if (size > 256) {
      ASSERT_LE(heap::class_size(c) * 4, size * 5 + 64) << size;
    }
  }
}

TEST(SizeClasses, PowersOfTwoAreClasses) {
  for (std::size_t size = 16; size <= heap::kMaxSmallSize; size *= 2) {
    EXPECT_EQ(heap::class_size(heap::class_for_request(size)), size);
  }
}

TEST(Slab, BlockStartsAreExactlyTheMultiplesOfTheClassSize) {
  heap::testing::PrivateSegments segments;
  for (std::size_t c = 0; c < heap::kClassCount; ++c) {
    heap::Slab* slab = segments.take_slab(c);
    ASSERT_NE(slab, nullptr);
    std::byte* start = heap::slab_start(slab);
    EXPECT_EQ(addr(start) % heap::kSlabBytes, 0u);
    EXPECT_EQ(heap::slab_of(start), slab);
    EXPECT_EQ(heap::slab_of(start + heap::kSlabBytes - 1), slab);
    const heap::SlabShape* shape = heap::shape_of(start + 5);
    ASSERT_EQ(shape, &heap::slab_shape(slab));
    const std::size_t size = heap::class_size(c);
    ASSERT_EQ(shape->block_size, size);
    ASSERT_EQ(shape->size_class, c);
    ASSERT_EQ(shape->capacity, heap::kSlabBytes / size);
    for (std::size_t offset = 0; offset < heap::kSlabBytes; ++offset) {
      const bool expected =
          offset % size == 0 && offset / size < shape->capacity;
      ASSERT_EQ(heap::is_block_start(*shape, start + offset), expected)
          << "class " << c << " offset " << offset;
    }
    segments.give_back_slab(slab);
    // A slab given back holds no block: no pointer passes.
    for (std::size_t offset = 0; offset < heap::kSlabBytes; offset += 16) {
      ASSERT_FALSE(heap::is_block_start(*shape, start + offset));
    }
  }
}

// Secure mode's carving order (random_order.hpp): every block once, each
// run in address order, and no run twice in a row while another has blocks.
TEST(RandomOrder, InterleavesRunsAtRandom) {
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  for (std::size_t n : {1u, 2u, 7u, 8u, 9u, 16u, 100u, 1365u, 4096u}) {
    std::vector<std::uint16_t> order(n);
    heap::interleave(state, order.data(), n);
    const std::size_t runs = n < heap::kOrderRuns ? n : heap::kOrderRuns;
    auto run_of = [&](std::size_t index) {
      std::size_t r = 0;
      while ((r + 1) * n / runs <= index) ++r;
      return r;
    };
    std::vector<bool> seen(n, false);
    std::vector<long> last_of_run(runs, -1);
    std::vector<std::size_t> left(runs, 0);
    for (std::size_t i = 0; i < n; ++i) ++left[run_of(i)];
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_LT(order[i], n);
      ASSERT_FALSE(seen[order[i]]) << "block " << order[i] << " twice";
      seen[order[i]] = true;
      const std::size_t r = run_of(order[i]);
      EXPECT_GT(static_cast<long>(order[i]), last_of_run[r]);
      last_of_run[r] = order[i];
      if (i > 0 && run_of(order[i - 1]) == r) {
        // Only once every other run is used up.
        for (std::size_t other = 0; other < runs; ++other) {
          if (other != r) {
            EXPECT_EQ(left[other], 0u) << "n " << n;
          }
        }
      }
      --left[r];
    }
  }
}

TEST(RandomOrder, DependsOnTheState) {
  // Seeded from the addresses of two variables, as a pool seeds from its own.
  std::uint64_t one = 0, two = 0;
  one = heap::seed_order(&one);
  two = heap::seed_order(&two);
  std::uint16_t first[64], second[64];
  heap::interleave(one, first, 64);
  heap::interleave(two, second, 64);
  EXPECT_NE(std::memcmp(first, second, sizeof(first)), 0);
  // A state moves on: the next batch comes in another order.
  heap::interleave(one, second, 64);
  EXPECT_NE(std::memcmp(first, second, sizeof(first)), 0);
}

}  // namespace
