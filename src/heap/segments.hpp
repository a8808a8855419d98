// Segments: where slabs come from. Segments are mapped 4 MiB at a time and
// never unmapped: a free slab's pages are purged instead, so its memory goes
// back to the kernel while its addresses stay ours. A stale pointer into it
// is then still recognised (as no live block) instead of landing in some
// other mapping.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heap/slab.hpp"

namespace rulloc::heap {

// A slab set up for `size_class`, with no block carved yet; nullptr when the
// kernel gives no memory.
Slab* take_slab(std::size_t size_class) noexcept;
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

}  // namespace rulloc::heap
