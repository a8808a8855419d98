// Looking inside a bucket: statistics, the invariant checker and the ASCII
// map. None of this is on an allocation path.
#include <algorithm>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "base/alignment.hpp"
#include "core/bucket.hpp"

namespace rulloc::core {
namespace {

bool fail(std::string *error, const std::string &what) {
  if (error != nullptr)
    *error = what;
  return false;
}

std::string where(std::size_t limit, const void *region, const void *block) {
  std::ostringstream out;
  out << "bucket(limit " << limit << ") region " << region;
  if (block != nullptr)
    out << " block " << block;
  out << ": ";
  return out.str();
}

} // namespace

BucketStats Bucket::stats() const noexcept {
  base::LockGuard lock(lock_);
  // A cached region counts like a kept empty one: mapped, one free block.
  const std::size_t cached = cache_.regions().len;
  BucketStats stats{limit_, regions_.len + cached, cached, free_.len() + cached,
                    cache_.bytes()};
  for (RegionHeader *r = regions_.head; r != nullptr; r = r->next) {
    stats.blocks += r->blocks.len;
    stats.mapped_bytes += r->total_size();
  }
  return stats;
}

bool Bucket::check(std::string *error) const {
  base::LockGuard lock(lock_);
  std::size_t free_blocks = 0;
  std::size_t empty_regions = 0;
  std::size_t regions = 0;
  RegionHeader *prev_region = nullptr;
  for (RegionHeader *r = regions_.head; r != nullptr; r = r->next) {
    ++regions;
    if (r->prev != prev_region)
      return fail(error, where(limit_, r, nullptr) + "broken region links");
    prev_region = r;
    std::byte *expected = r->base() + kRegionHeaderSize;
    std::size_t blocks = 0;
    BlockHeader *prev = nullptr;
    for (BlockHeader *b = r->blocks.head; b != nullptr; b = b->next) {
      ++blocks;
      const std::string at = where(limit_, r, b);
      if (reinterpret_cast<std::byte *>(b) != expected)
        return fail(error, at + "block not right after its predecessor");
      if (b->magic != kBlockMagic)
        return fail(error, at + "bad magic");
      if (b->region != r)
        return fail(error, at + "wrong owning region");
      if (b->bucket != index_)
        return fail(error, at + "wrong bucket index");
      if (b->prev != prev)
        return fail(error, at + "broken block links");
      if (b->size < kMinBlockSize || b->size % base::kPointerSize != 0)
        return fail(error, at + "bad content size");
      if (b->is_free) {
        ++free_blocks;
        if (prev != nullptr && prev->is_free)
          return fail(error, at + "two adjacent free blocks");
      }
      expected = b->end();
      prev = b;
    }
    if (r->blocks.tail != prev)
      return fail(error, where(limit_, r, nullptr) + "wrong block list tail");
    if (blocks != r->blocks.len)
      return fail(error, where(limit_, r, nullptr) +
                             "block count differs from list length");
    if (expected != r->base() + r->total_size())
      return fail(error,
                  where(limit_, r, nullptr) + "blocks do not fill the region");
    if (blocks == 1 && r->blocks.head->is_free)
      ++empty_regions;
  }
  if (regions != regions_.len || regions_.tail != prev_region)
    return fail(error, where(limit_, nullptr, nullptr) +
                           "region list length or tail wrong");
  if (empty_regions != empty_regions_ || empty_regions > keep_empty_regions_) {
    return fail(error,
                where(limit_, nullptr, nullptr) + "empty regions miscounted");
  }
  std::size_t listed = 0;
  for (std::size_t bin = 0; bin < FreeList::kBins; ++bin) {
    BlockHeader *prev = end_of_list();
    for (BlockHeader *b = free_.first(bin); b != nullptr;
         b = FreeList::next_unchecked(b)) {
      if (++listed > free_blocks)
        break;
      if (!FreeList::plausible(b)) {
        return fail(error, where(limit_, nullptr, prev) +
                               "free list link leads outside the live regions");
      }
      const std::string at = where(limit_, nullptr, b);
      if (links_of(b)->prev != prev) {
        return fail(error, at + "broken free list links");
      }
      if (b->magic != kBlockMagic || !b->is_free || b->bucket != index_) {
        return fail(error, at + "free list holds a block that is not free");
      }
      if (free_.bin_of(b->size) != bin) {
        return fail(error, at + "free block in the wrong size bin");
      }
      prev = b;
    }
  }
  if (listed != free_blocks || free_.len() != free_blocks) {
    return fail(error, where(limit_, nullptr, nullptr) +
                           "free list and free blocks disagree");
  }
  std::string cache_error;
  if (!cache_.check(&cache_error)) {
    return fail(error, where(limit_, nullptr, nullptr) + cache_error);
  }
  for (RegionHeader *r = cache_.regions().head; r != nullptr; r = r->next) {
    if (r->first_block()->bucket != index_) {
      return fail(error, where(limit_, r, r->first_block()) +
                             "cached block has a wrong bucket index");
    }
  }
  return true;
}

// Draws the bucket the way the original documentation drew it:
//
//   bucket limit 128: 1 region, 2 blocks (1 free), 4096 bytes mapped
//     region 0x7f1c2a3b4000: 4096 bytes, 2 blocks
//     +--------+------------+--------------+
//     | region | used 16    | free 3952    |
//     +--------+------------+--------------+
void Bucket::dump(std::ostream &out) const {
  BucketStats s = stats();
  base::LockGuard lock(lock_);
  out << "bucket limit ";
  if (limit_ == SIZE_MAX) {
    out << "dynamic";
  } else {
    out << limit_;
  }
  out << ": " << s.regions << (s.regions == 1 ? " region, " : " regions, ")
      << s.blocks << " blocks (" << s.free_blocks << " free), "
      << s.mapped_bytes << " bytes mapped\n";
  constexpr std::size_t kCellsPerRow = 6;
  for (RegionHeader *r = regions_.head; r != nullptr; r = r->next) {
    out << "  region " << static_cast<const void *>(r) << ": "
        << r->total_size() << " bytes, " << r->blocks.len << " blocks\n";
    std::vector<std::string> cells{"region"};
    for (BlockHeader *b = r->blocks.head; b != nullptr; b = b->next) {
      cells.push_back((b->is_free ? "free " : "used ") +
                      std::to_string(b->size));
    }
    for (std::size_t first = 0; first < cells.size(); first += kCellsPerRow) {
      std::size_t last = std::min(cells.size(), first + kCellsPerRow);
      std::string border = "  +";
      std::string row = "  |";
      for (std::size_t i = first; i < last; ++i) {
        std::string cell = " " + cells[i] + " ";
        if (cell.size() < 14)
          cell.resize(14, ' ');
        border += std::string(cell.size(), '-') + "+";
        row += cell + "|";
      }
      out << border << '\n' << row << '\n' << border << '\n';
    }
  }
  for (RegionHeader *r = cache_.regions().head; r != nullptr; r = r->next) {
    out << "  cached region " << static_cast<const void *>(r) << ": "
        << r->total_size() << " bytes, 1 free block\n";
  }
}

} // namespace rulloc::core
