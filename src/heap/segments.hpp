// Segments: where slabs come from. Segments are mapped 4 MiB at a time and
// never unmapped: a free slab's pages are purged instead, so its memory goes
// back to the kernel while its addresses stay ours. A stale pointer into it
// is then still recognised (as no live block) instead of landing in some
// other mapping.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/text.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {

// A slab set up for `size_class`, in the pool of `lane`, with no block
// carved yet; nullptr when the kernel gives no memory. Its whole shape is
// written here, under the segments' lock, and cleared by give_back_slab().
Slab* take_slab(std::size_t size_class, std::size_t lane = 0) noexcept;
// Returns a slab with no block in use. Its pages are purged when too many
// free slabs are left unpurged.
void give_back_slab(Slab* slab) noexcept;
// Purges every free slab now; returns the bytes purged.
std::size_t purge_free_slabs() noexcept;

// The purge clock: the purger advances the epoch every tick, and purges the
// free slabs given back before a given epoch.
void advance_purge_epoch() noexcept;
std::size_t purge_slabs_freed_before(std::uint32_t epoch) noexcept;
std::uint32_t purge_epoch() noexcept;
// How many free slabs may keep their pages (the rest are purged at once):
// small while no purger runs, larger when one purges them later.
void set_max_dirty_slabs(std::size_t count) noexcept;

struct SegmentStats {
  std::size_t segments;
  std::size_t slabs_in_use;
};
SegmentStats segment_stats() noexcept;

// Held across fork() (the child must not inherit a half-done change).
void lock_segments() noexcept;
void unlock_segments() noexcept;

// The live heap, on demand (heap/inspect.cpp).
//
// Every segment mapped so far, newest first, then Segment::older: segments
// are never unmapped, so the walk needs no lock (their headers do).
Segment* newest_segment() noexcept;
// Checks every segment's header (the slabs' shapes against their size
// classes, the free and dirty bitmaps, the list of segments with free
// slabs) and the totals, under the segments' lock; false and the first
// violation written to `error`.
bool check_segments(base::Text& error) noexcept;
// A copy of one segment's bitmaps and shapes, taken under the lock (only
// if it is free, with `try_only`: false when it is held).
struct SegmentView {
  std::uint64_t free_slabs;
  std::uint64_t dirty_slabs;
  SlabShape shapes[kSlabsPerSegment];
};
bool view_segment(const Segment* segment, SegmentView* view,
                  bool try_only) noexcept;
// Whether `slab` is in use with exactly `shape`, under the lock (the same
// rule about `try_only`; busy counts as false and sets `*busy`).
bool slab_has_shape(const Slab* slab, const SlabShape& shape, bool try_only,
                    bool* busy) noexcept;

}  // namespace rulloc::heap
