#include "core/large_cache.hpp"

#include <cstdint>
#include <cstring>

#include "core/free_list.hpp"
#include "core/page_map.hpp"
#include "core/retired_regions.hpp"
#include "platform/platform.hpp"

namespace rulloc::core {
namespace {

std::uint64_t now_ms() noexcept {
  return static_cast<std::uint64_t>(platform::monotonic_ms());
}

// Kept where the block's free-list links would be: the block is in no free
// list, and a stale aligned pointer's back pointer (below it) stays intact.
void set_cached_at(RegionHeader* region, std::uint64_t when) noexcept {
  std::memcpy(links_of(region->first_block()), &when, sizeof(when));
}

std::uint64_t cached_at(RegionHeader* region) noexcept {
  std::uint64_t when;
  std::memcpy(&when, links_of(region->first_block()), sizeof(when));
  return when;
}

// A rest smaller than this is left in the region taken: few requests would
// fit it.
constexpr std::size_t kMinPart = 64 * 1024;

}  // namespace

LargeCache::LargeCache(std::size_t cap_bytes, std::size_t max_age_ms,
                       bool remap) noexcept
    : cap_(cap_bytes), max_age_ms_(max_age_ms), remap_(remap) {}

LargeCache::~LargeCache() {
  while (RegionHeader* region = cache_.head) {
    remove(region);
    page_map::remove(region, region->total_size());
    platform::unmap(region, region->total_size());
  }
}

void LargeCache::keep(RegionHeader* region) noexcept {
  expire(cap_ - region->total_size());
  set_cached_at(region, now_ms());
  cache_.push_back(region);
  bytes_ += region->total_size();
}

RegionHeader* LargeCache::take(std::size_t length) noexcept {
  expire(cap_);
  RegionHeader* region = nearest(length);
  if (region == nullptr) return nullptr;
  const std::size_t have = region->total_size();
  const bool fits = have >= length && have - length <= length / 8;
  if (!fits && !remap_) return nullptr;
  remove(region);
  if (fits) return region;
  if (have > length && have - length >= kMinPart && platform::maps_split()) {
    // The rest stays cached as a region of its own, pages resident, and
    // newest (the list stays in age order).
    RegionHeader* rest =
        format_region(region->base() + length, have - length,
                      region->first_block()->bucket, Pages::kResident);
    set_length(region, length);
    set_cached_at(rest, now_ms());
    cache_.push_back(rest);
    bytes_ += rest->total_size();
    return region;
  }
  // The pages it keeps need no new faults; a shrink gives the rest back.
  if (RegionHeader* resized = remap_region(region, length)) return resized;
  bytes_ += have;
  cache_.push_back(region);
  return nullptr;
}

std::size_t LargeCache::release_all() noexcept {
  const std::size_t before = bytes_;
  expire(0);
  return before - bytes_;
}

std::size_t LargeCache::expire_old() noexcept {
  const std::size_t before = bytes_;
  expire(cap_);
  return before - bytes_;
}

// The smallest region of at least `length`, else the largest one.
RegionHeader* LargeCache::nearest(std::size_t length) const noexcept {
  RegionHeader* above = nullptr;
  RegionHeader* below = nullptr;
  for (RegionHeader* r = cache_.head; r != nullptr; r = r->next) {
    const std::size_t size = r->total_size();
    if (size >= length) {
      if (above == nullptr || size < above->total_size()) above = r;
    } else if (below == nullptr || size > below->total_size()) {
      below = r;
    }
  }
  return above != nullptr ? above : below;
}

void LargeCache::remove(RegionHeader* region) noexcept {
  cache_.remove(region);
  bytes_ -= region->total_size();
}

void LargeCache::expire(std::size_t cap) noexcept {
  const std::uint64_t now = cache_.head != nullptr ? now_ms() : 0;
  while (RegionHeader* oldest = cache_.head) {
    if (bytes_ <= cap && now - cached_at(oldest) <= max_age_ms_) return;
    remove(oldest);
    // Retired like any region, so a stale pointer into it is still caught.
    if (!retired_regions::retire(oldest, oldest->total_size())) {
      bytes_ += oldest->total_size();
      cache_.push_back(oldest);  // the kernel refused: try again later
      return;
    }
  }
}

const char* LargeCache::problem() const noexcept {
  std::size_t bytes = 0;
  for (RegionHeader* r = cache_.head; r != nullptr; r = r->next) {
    BlockHeader* b = r->blocks.head;
    if (r->blocks.len != 1 || b != r->blocks.tail ||
        reinterpret_cast<std::byte*>(b) != r->base() + kRegionHeaderSize ||
        b->magic != kBlockMagic || !b->is_free || b->region != r ||
        b->next != nullptr || b->prev != nullptr ||
        b->size != r->size - kBlockHeaderSize) {
      return "cached region is not one free block";
    }
    bytes += r->total_size();
  }
  if (bytes != bytes_ || bytes_ > cap_) {
    return "cached bytes miscounted or over the cap";
  }
  return nullptr;
}

}  // namespace rulloc::core
