// Segments: where slabs come from. Segments are mapped 4 MiB at a time and,
// in the process heap, never unmapped: a free slab's pages are purged
// instead, so its memory goes back to the kernel while its addresses stay
// ours. A stale pointer into it is then still recognised (as no live block)
// instead of landing in some other mapping.
//
//   open list (segments with a free slab)     every segment, newest first
//   seg C <-> seg A                           seg C -> seg B -> seg A
//
// A Segments is built from a SegmentsConfig; the process heap holds one,
// tests build small private ones (tests/heap/segments_test.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include "base/mutex.hpp"
#include "base/text.hpp"
#include "base/thread_safety.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {

struct SegmentsConfig {
  // Segments mapped at most: beyond, take_slab() gives nullptr.
  std::size_t max_segments = SIZE_MAX;
  // How many free slabs may keep their pages (the rest are purged at
  // once): SIZE_MAX when a purger purges them later, 0 to purge at once.
  std::size_t max_dirty_slabs = SIZE_MAX;
};

struct SegmentStats {
  std::size_t segments;
  std::size_t slabs_in_use;
  std::size_t dirty_slabs;  // free, with their pages
};

// A copy of one segment's bitmaps and shapes, taken under the lock.
struct SegmentView {
  std::uint64_t free_slabs;
  std::uint64_t dirty_slabs;
  SlabShape shapes[kSlabsPerSegment];
};

class Segments {
 public:
  constexpr explicit Segments(SegmentsConfig config) noexcept
      : max_segments_(config.max_segments),
        max_dirty_slabs_(config.max_dirty_slabs) {}
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  // A slab set up for `size_class`, in the pool of `lane`, with no block
  // carved yet; nullptr when the kernel gives no memory or max_segments
  // are mapped and full. Its whole shape is written here, under the lock,
  // and cleared by give_back_slab(). With `only_with_pages`, only a free
  // slab that still has its pages (nullptr when none has).
  Slab* take_slab(std::size_t size_class, std::size_t lane = 0,
                  bool only_with_pages = false) noexcept;
  // Returns a slab with no block in use. Its pages are purged when more
  // than max_dirty_slabs free slabs would keep theirs.
  void give_back_slab(Slab* slab) noexcept;
  // Purges every free slab now; returns the bytes purged.
  std::size_t purge_free_slabs() noexcept;

  // The purge clock: the purger advances the epoch every tick, and purges
  // the free slabs given back before a given epoch (0: none).
  void advance_purge_epoch() noexcept {
    epoch_.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint32_t purge_epoch() const noexcept {
    return epoch_.load(std::memory_order_relaxed);
  }
  std::size_t purge_slabs_freed_before(std::uint32_t epoch) noexcept;

  // A new SegmentsConfig::max_dirty_slabs (mallopt's M_TRIM_THRESHOLD),
  // from the next slab given back on.
  void set_max_dirty_slabs(std::size_t count) noexcept;

  SegmentStats stats() noexcept;

  // Held across fork() (the child must not inherit a half-done change).
  void lock() noexcept RULLOC_ACQUIRE(lock_) { lock_.lock(); }
  void unlock() noexcept RULLOC_RELEASE(lock_) { lock_.unlock(); }

  // Only for a private instance at the end of its life (the process heap's
  // segments are never unmapped): unmaps every segment and takes it off the
  // segment map. No block of them may be used afterwards.
  void unmap_all() noexcept;

  // The live heap, on demand (heap/inspect.cpp).
  //
  // Every segment mapped so far, newest first, then Segment::older: the
  // list only grows, so the walk needs no lock (their headers do).
  const Segment* newest() const noexcept {
    return all_.load(std::memory_order_acquire);
  }
  // Checks every segment's header (the slabs' shapes against their size
  // classes and against `lanes`, the free and dirty bitmaps, the list of
  // segments with free slabs) and the totals, under the lock; false and the
  // first violation written to `error`.
  bool check(base::Text& error, std::size_t lanes) noexcept;
  // One segment's bitmaps and shapes (only if the lock is free, with
  // `try_only`: false when it is held).
  bool view(const Segment* segment, SegmentView* view, bool try_only) noexcept;
  // Whether `slab` is in use with exactly `shape`, under the lock (the same
  // rule about `try_only`; busy counts as false and sets `*busy`).
  bool slab_has_shape(const Slab* slab, const SlabShape& shape, bool try_only,
                      bool* busy) noexcept;

 private:
  Segment* map_segment() noexcept RULLOC_REQUIRES(lock_);
  void add_open(Segment* segment) noexcept RULLOC_REQUIRES(lock_);
  void remove_open(Segment* segment) noexcept RULLOC_REQUIRES(lock_);
  std::size_t purge(Segment* segment, std::uint32_t before = 0) noexcept
      RULLOC_REQUIRES(lock_);
  bool lock_briefly(bool try_only) noexcept RULLOC_TRY_ACQUIRE(true, lock_);

  const std::size_t max_segments_;
  std::atomic<std::uint32_t> epoch_{0};
  base::Mutex lock_;
  std::size_t max_dirty_slabs_ RULLOC_GUARDED_BY(lock_);
  // Segments with at least one free slab.
  Segment* open_ RULLOC_GUARDED_BY(lock_) = nullptr;
  // Newest first; only grows (until unmap_all()).
  std::atomic<Segment*> all_{nullptr};
  std::size_t segment_count_ RULLOC_GUARDED_BY(lock_) = 0;
  std::size_t slabs_in_use_ RULLOC_GUARDED_BY(lock_) = 0;
  std::size_t dirty_slabs_ RULLOC_GUARDED_BY(lock_) = 0;
};

}  // namespace rulloc::heap
