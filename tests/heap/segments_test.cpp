// Segments (heap/segments.hpp) in private instances: slabs taken and given
// back, the purge epochs, the bound on free slabs that keep their pages,
// growth by whole segments up to max_segments and nullptr beyond, the
// header check, and threads taking and giving back slabs at once.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "parts.hpp"

namespace {

namespace heap = rulloc::heap;
using heap::testing::Message;
using heap::testing::PrivateSegments;

constexpr std::size_t kSlabsPerSegment = heap::kSlabsPerSegment - 1;

std::vector<heap::Slab*> take(heap::Segments& segments, std::size_t count,
                              std::size_t size_class = 3) {
  std::vector<heap::Slab*> slabs;
  for (std::size_t i = 0; i < count; ++i) {
    heap::Slab* slab = segments.take_slab(size_class);
    EXPECT_NE(slab, nullptr);
    if (slab == nullptr) break;
    slabs.push_back(slab);
  }
  return slabs;
}

TEST(Segments, SlabsAreTakenWithTheirShapeAndGivenBack) {
  PrivateSegments segments;
  heap::Slab* slab = segments.take_slab(5, 2);
  ASSERT_NE(slab, nullptr);
  const heap::SlabShape* shape = heap::shape_of(heap::slab_start(slab) + 100);
  ASSERT_EQ(shape, &heap::slab_shape(slab));
  EXPECT_EQ(shape->block_size, heap::class_size(5));
  EXPECT_EQ(shape->size_class, 5u);
  EXPECT_EQ(shape->lane, 2u);
  EXPECT_EQ(shape->capacity, heap::kSlabBytes / heap::class_size(5));
  EXPECT_EQ(segments.stats().slabs_in_use, 1u);
  EXPECT_EQ(segments.stats().segments, 1u);
  segments.give_back_slab(slab);
  EXPECT_EQ(shape->capacity, 0u);  // no pointer into it is a block now
  const heap::SegmentStats stats = segments.stats();
  EXPECT_EQ(stats.slabs_in_use, 0u);
  EXPECT_EQ(stats.dirty_slabs, 1u);
  Message message;
  EXPECT_TRUE(segments.check(message.out, 4)) << message.str();
}

TEST(Segments, AFreeSlabWithItsPagesIsTakenFirst) {
  PrivateSegments segments;
  std::vector<heap::Slab*> slabs = take(segments, 10);
  std::set<std::byte*> starts;
  for (heap::Slab* slab : slabs) starts.insert(heap::slab_start(slab));
  EXPECT_EQ(starts.size(), 10u);
  std::memset(heap::slab_start(slabs[7]), 0xAB, heap::kSlabBytes);
  segments.give_back_slab(slabs[7]);
  heap::Slab* again = segments.take_slab(3);
  EXPECT_EQ(again, slabs[7]);
  EXPECT_EQ(segments.stats().dirty_slabs, 0u);
  // Not purged: its old bytes are still there.
  EXPECT_EQ(heap::slab_start(again)[100], std::byte{0xAB});
  for (heap::Slab* slab : slabs) segments.give_back_slab(slab);
}

TEST(Segments, NoMoreDirtySlabsThanTheBound) {
  PrivateSegments segments({.max_segments = SIZE_MAX, .max_dirty_slabs = 4});
  std::vector<heap::Slab*> slabs = take(segments, 10);
  for (heap::Slab* slab : slabs) {
    std::memset(heap::slab_start(slab), 0x5A, heap::kSlabBytes);
  }
  for (heap::Slab* slab : slabs) {
    segments.give_back_slab(slab);
    EXPECT_LE(segments.stats().dirty_slabs, 4u);
  }
  // The fifth and the tenth went over the bound: each purged all five.
  EXPECT_EQ(segments.stats().dirty_slabs, 0u);
  for (heap::Slab* slab : slabs) {
    EXPECT_EQ(heap::slab_start(slab)[100], std::byte{0});  // purged
  }
}

TEST(Segments, ABoundOfZeroPurgesEverySlabAtOnce) {
  PrivateSegments segments({.max_segments = SIZE_MAX, .max_dirty_slabs = 0});
  heap::Slab* slab = segments.take_slab(0);
  ASSERT_NE(slab, nullptr);
  std::memset(heap::slab_start(slab), 0x77, heap::kSlabBytes);
  segments.give_back_slab(slab);
  EXPECT_EQ(segments.stats().dirty_slabs, 0u);
  EXPECT_EQ(heap::slab_start(slab)[4096], std::byte{0});
  EXPECT_EQ(segments.purge_free_slabs(), 0u);
}

// A slab given back at epoch e is purged by purge_slabs_freed_before(e + 1)
// and not before: what the purger's rounds rely on.
TEST(Segments, PurgeEpochsPurgeOnlyTheSlabsFreedBefore) {
  PrivateSegments segments;
  std::vector<heap::Slab*> slabs = take(segments, 3);
  EXPECT_EQ(segments.purge_epoch(), 0u);
  segments.give_back_slab(slabs[0]);  // epoch 0
  segments.advance_purge_epoch();
  segments.give_back_slab(slabs[1]);  // epoch 1
  segments.advance_purge_epoch();
  segments.give_back_slab(slabs[2]);  // epoch 2
  EXPECT_EQ(segments.purge_epoch(), 2u);
  EXPECT_EQ(segments.stats().dirty_slabs, 3u);
  EXPECT_EQ(segments.purge_slabs_freed_before(0), 0u);  // 0: none
  EXPECT_EQ(segments.purge_slabs_freed_before(1), heap::kSlabBytes);
  EXPECT_EQ(segments.purge_slabs_freed_before(1), 0u);  // already purged
  EXPECT_EQ(segments.purge_slabs_freed_before(2), heap::kSlabBytes);
  EXPECT_EQ(segments.stats().dirty_slabs, 1u);
  EXPECT_EQ(segments.purge_free_slabs(), heap::kSlabBytes);
  EXPECT_EQ(segments.stats().dirty_slabs, 0u);
}

TEST(Segments, GrowBySegmentsUpToTheLimitThenGiveNullptr) {
  PrivateSegments segments({.max_segments = 2, .max_dirty_slabs = SIZE_MAX});
  std::vector<heap::Slab*> slabs = take(segments, 2 * kSlabsPerSegment);
  ASSERT_EQ(slabs.size(), 2 * kSlabsPerSegment);
  EXPECT_EQ(segments.stats().segments, 2u);
  std::set<const heap::Segment*> mapped;
  for (heap::Slab* slab : slabs) {
    const heap::Segment* segment = heap::segment_of(slab);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(segment) % heap::kSegmentBytes,
              0u);
    mapped.insert(segment);
  }
  EXPECT_EQ(mapped.size(), 2u);
  // Both full, no third allowed: nullptr, and nothing changed.
  EXPECT_EQ(segments.take_slab(3), nullptr);
  EXPECT_EQ(segments.stats().segments, 2u);
  EXPECT_EQ(segments.stats().slabs_in_use, 2 * kSlabsPerSegment);
  // One slab back: it is taken again.
  segments.give_back_slab(slabs[70]);
  EXPECT_EQ(segments.take_slab(3), slabs[70]);
  Message message;
  EXPECT_TRUE(segments.check(message.out, 1)) << message.str();
  // The walk over every segment sees both, newest first.
  std::size_t walked = 0;
  for (const heap::Segment* s = segments.newest(); s != nullptr; s = s->older) {
    EXPECT_EQ(mapped.count(s), 1u);
    ++walked;
  }
  EXPECT_EQ(walked, 2u);
  for (heap::Slab* slab : slabs) segments.give_back_slab(slab);
}

TEST(Segments, UnmappedSegmentsLeaveTheSegmentMap) {
  const void* start = nullptr;
  {
    PrivateSegments segments;
    heap::Slab* slab = segments.take_slab(1);
    ASSERT_NE(slab, nullptr);
    start = heap::slab_start(slab);
    EXPECT_NE(heap::shape_of(start), nullptr);
  }
  EXPECT_EQ(heap::shape_of(start), nullptr);
}

TEST(Segments, CheckNamesABrokenHeader) {
  PrivateSegments segments;
  heap::Slab* slab = segments.take_slab(2, 1);
  ASSERT_NE(slab, nullptr);
  heap::Segment* segment = heap::segment_of(slab);
  Message fine;
  EXPECT_TRUE(segments.check(fine.out, 2)) << fine.str();
  // Its lane beyond the lanes there are.
  Message lanes;
  EXPECT_FALSE(segments.check(lanes.out, 1));
  EXPECT_NE(lanes.str().find("does not match its size class"),
            std::string::npos)
      << lanes.str();
  // A slab in use marked as a free one with its pages.
  const std::uint64_t dirty = segment->dirty_slabs;
  segment->dirty_slabs |= std::uint64_t{1}
                          << heap::slab_index(heap::slab_start(slab));
  Message broken;
  EXPECT_FALSE(segments.check(broken.out, 2));
  EXPECT_NE(broken.str().find("a slab in use is marked dirty"),
            std::string::npos)
      << broken.str();
  segment->dirty_slabs = dirty;
  segments.give_back_slab(slab);
}

TEST(Segments, ThreadsTakeAndGiveBackAtOnce) {
  PrivateSegments segments({.max_segments = SIZE_MAX, .max_dirty_slabs = 8});
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&segments, t] {
      std::vector<heap::Slab*> held;
      for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 20; ++i) {
          heap::Slab* slab = segments.take_slab(t, t);
          ASSERT_NE(slab, nullptr);
          // Nobody else has this slab: its first word is ours to write.
          *reinterpret_cast<std::size_t*>(heap::slab_start(slab)) = t;
          held.push_back(slab);
        }
        if (round % 5 == 0) segments.advance_purge_epoch();
        if (round % 7 == 0) {
          segments.purge_slabs_freed_before(segments.purge_epoch());
        }
        for (heap::Slab* slab : held) {
          ASSERT_EQ(*reinterpret_cast<std::size_t*>(heap::slab_start(slab)), t);
          ASSERT_EQ(heap::slab_shape(slab).lane, t);
          segments.give_back_slab(slab);
        }
        held.clear();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(segments.stats().slabs_in_use, 0u);
  EXPECT_LE(segments.stats().dirty_slabs, 8u);
  Message message;
  EXPECT_TRUE(segments.check(message.out, 4)) << message.str();
}

}  // namespace
