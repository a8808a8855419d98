// The dynamic bucket's cache of emptied regions (Options::large_cache_bytes).
// Mapping a large region and faulting its pages in costs far more than the
// allocation itself, so a region whose block was freed waits here, pages
// resident, for a request of about its length, oldest first:
//
//   cache: region (oldest) <-> region <-> region (newest)
//
// Each holds one free block that is in no free list, so freeing it again is
// still a double free, and the place of its free-list links holds when it
// was cached. It is unmapped when it has waited longer than
// large_cache_ms, when newer regions need its room under the cap, and on
// trim(). The owning bucket's lock covers every call.
#pragma once

#include <cstddef>

#include "base/list.hpp"
#include "core/region.hpp"

namespace rulloc::core {

class LargeCache {
 public:
  LargeCache(std::size_t cap_bytes, std::size_t max_age_ms,
             bool remap) noexcept;
  ~LargeCache();  // unmaps every cached region
  LargeCache(const LargeCache&) = delete;
  LargeCache& operator=(const LargeCache&) = delete;

  // False when the cache is off or `length` alone exceeds the cap.
  bool accepts(std::size_t length) const noexcept { return length <= cap_; }
  bool enabled() const noexcept { return cap_ > 0; }
  // Takes an empty region that is in no list and that it accepts.
  void keep(RegionHeader* region) noexcept;
  // A region of `length` bytes (what map_region would map) or up to 1/8
  // more, whose only block is free and in no list; nullptr when none fits.
  // With remap, the nearest cached region is made to fit: a larger one is
  // cut in two where the OS allows it (the rest stays cached), else it is
  // remapped to `length`, as is a smaller one.
  RegionHeader* take(std::size_t length) noexcept;
  // Unmaps every cached region; returns the bytes given back.
  std::size_t release_all() noexcept;
  // Unmaps the regions cached longer than the age limit; returns the bytes.
  std::size_t expire_old() noexcept;

  const base::LinkedList<RegionHeader>& regions() const noexcept {
    return cache_;
  }
  std::size_t bytes() const noexcept { return bytes_; }
  // What is wrong with the cache's bookkeeping, or nullptr.
  const char* problem() const noexcept;

 private:
  RegionHeader* nearest(std::size_t length) const noexcept;
  void remove(RegionHeader* region) noexcept;
  // Unmaps from the oldest while over the cap or older than the age limit.
  void expire(std::size_t cap) noexcept;

  base::LinkedList<RegionHeader> cache_;
  std::size_t bytes_ = 0;
  std::size_t cap_;
  std::size_t max_age_ms_;
  bool remap_;
};

}  // namespace rulloc::core
