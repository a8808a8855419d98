// Looking inside a bucket: statistics, the invariant checker and the ASCII
// map. None of this is on an allocation path. The checker and the map are
// written without allocating (base::Text), so the process heap can run
// them from inside malloc's locks or a signal handler; Rulloc<N>'s
// std::string and std::ostream versions (inspect_std.cpp) are the same code.
#include <cstdint>
#include <new>

#include "base/alignment.hpp"
#include "base/text.hpp"
#include "core/bucket.hpp"
#include "core/laned_engine.hpp"
#include "platform/platform.hpp"

namespace rulloc::core {
namespace {

// "bucket(limit L) region R block B: ", then what is wrong.
bool fail(base::Text& error, std::size_t limit, const void* region,
          const void* block, const char* what) noexcept {
  error << "bucket(limit " << limit << ") region " << region;
  if (block != nullptr) error << " block " << block;
  error << ": " << what;
  return false;
}

}  // namespace

BucketStats Bucket::stats() const noexcept {
  base::LockGuard lock(lock_);
  // A cached region counts like a kept empty one: mapped, one free block.
  const std::size_t cached = cache_.regions().len;
  BucketStats stats{limit_, regions_.len + cached, cached, free_.len() + cached,
                    cache_.bytes()};
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    stats.blocks += r->blocks.len;
    stats.mapped_bytes += r->total_size();
  }
  return stats;
}

namespace {

// The bytes of a free block's content that are not resident: of its whole
// pages, those the kernel does not hold (purged by trim(), or never
// touched). The pages it shares with headers are resident with them.
std::size_t purged_bytes(BlockHeader* block) noexcept {
  const std::size_t page = platform::page_size();
  std::byte* start = base::align_up(block->content(), page);
  std::byte* end = base::align_down(block->end(), page);
  if (end <= start) return 0;
  const auto length = static_cast<std::size_t>(end - start);
  return length - platform::resident_bytes(start, length);
}

}  // namespace

Bucket::Account Bucket::account() const noexcept {
  base::LockGuard lock(lock_);
  Account account{cache_.bytes(), 0, 0, 0, cache_.bytes(), 0};
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    account.mapped += r->total_size();
    account.headers += kRegionHeaderSize + r->blocks.len * kBlockHeaderSize;
    for (BlockHeader* b = r->blocks.head; b != nullptr; b = b->next) {
      (b->is_free ? account.free : account.used) += b->size;
      if (b->is_free) account.purged += purged_bytes(b);
    }
  }
  for (RegionHeader* r = cache_.regions().head; r != nullptr; r = r->next) {
    account.purged += purged_bytes(r->first_block());
  }
  return account;
}

bool Bucket::visit(RegionVisitor& visitor, bool try_only) const noexcept {
  if (try_only) {
    if (!lock_.try_lock(1000)) return false;
  } else {
    lock_.lock();
  }
  auto blocks_of = [&](RegionHeader* r, bool cached) {
    visitor.region(r, r->total_size(), kRegionHeaderSize, cached);
    for (BlockHeader* b = r->blocks.head; b != nullptr; b = b->next) {
      const bool free = cached || b->is_free;
      visitor.block(
          static_cast<std::size_t>(reinterpret_cast<std::byte*>(b) - r->base()),
          kBlockHeaderSize + b->size, free, free ? purged_bytes(b) : 0);
    }
    visitor.region_end();
  };
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    blocks_of(r, false);
  }
  for (RegionHeader* r = cache_.regions().head; r != nullptr; r = r->next) {
    blocks_of(r, true);
  }
  lock_.unlock();
  return true;
}

// The checker, one invariant family per function: the regions and their
// lists, each region's blocks, the free list, the large cache. Each returns
// false at the first violation, written to `error`.
bool Bucket::check(base::Text& error) const noexcept {
  base::LockGuard lock(lock_);
  std::size_t free_blocks = 0;
  return check_regions(error, &free_blocks) &&
         check_free_list(error, free_blocks) && check_cache(error);
}

// The region list (linked both ways, its length and tail), each region's
// blocks, and the count of empty regions; `*free_blocks` gets how many
// blocks are free.
bool Bucket::check_regions(base::Text& error,
                           std::size_t* free_blocks) const noexcept {
  std::size_t empty_regions = 0;
  std::size_t regions = 0;
  RegionHeader* prev_region = nullptr;
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    ++regions;
    if (r->prev != prev_region)
      return fail(error, limit_, r, nullptr, "broken region links");
    prev_region = r;
    if (!check_region_blocks(error, r, free_blocks)) return false;
    if (r->blocks.len == 1 && r->blocks.head->is_free) ++empty_regions;
  }
  if (regions != regions_.len || regions_.tail != prev_region)
    return fail(error, limit_, nullptr, nullptr,
                "region list length or tail wrong");
  if (empty_regions != empty_regions_ || empty_regions > keep_empty_regions_) {
    return fail(error, limit_, nullptr, nullptr, "empty regions miscounted");
  }
  return true;
}

// One region's blocks tile it end to end, each a sound header of this
// bucket and region, linked both ways, never two free ones side by side.
bool Bucket::check_region_blocks(base::Text& error, RegionHeader* r,
                                 std::size_t* free_blocks) const noexcept {
  std::byte* expected = r->base() + kRegionHeaderSize;
  std::size_t blocks = 0;
  BlockHeader* prev = nullptr;
  for (BlockHeader* b = r->blocks.head; b != nullptr; b = b->next) {
    ++blocks;
    if (reinterpret_cast<std::byte*>(b) != expected)
      return fail(error, limit_, r, b, "block not right after its predecessor");
    if (b->magic != kBlockMagic) return fail(error, limit_, r, b, "bad magic");
    if (b->region != r) return fail(error, limit_, r, b, "wrong owning region");
    if (b->bucket != index_)
      return fail(error, limit_, r, b, "wrong bucket index");
    if (b->prev != prev) return fail(error, limit_, r, b, "broken block links");
    if (b->size < kMinBlockSize || b->size % base::kPointerSize != 0)
      return fail(error, limit_, r, b, "bad content size");
    if (b->is_free) {
      ++*free_blocks;
      if (prev != nullptr && prev->is_free)
        return fail(error, limit_, r, b, "two adjacent free blocks");
    }
    expected = b->end();
    prev = b;
  }
  if (r->blocks.tail != prev)
    return fail(error, limit_, r, nullptr, "wrong block list tail");
  if (blocks != r->blocks.len)
    return fail(error, limit_, r, nullptr,
                "block count differs from list length");
  if (expected != r->base() + r->total_size())
    return fail(error, limit_, r, nullptr, "blocks do not fill the region");
  return true;
}

// Every bin's list: links that stay inside live regions and point back,
// free blocks of this bucket in the right bin, and exactly `free_blocks`
// of them (a walk stops there, so a cycle cannot hang it).
bool Bucket::check_free_list(base::Text& error,
                             std::size_t free_blocks) const noexcept {
  std::size_t listed = 0;
  for (std::size_t bin = 0; bin < FreeList::kBins; ++bin) {
    BlockHeader* prev = end_of_list();
    for (BlockHeader* b = free_.first(bin); b != nullptr;
         b = FreeList::next_unchecked(b)) {
      if (++listed > free_blocks) break;
      if (!FreeList::plausible(b)) {
        return fail(error, limit_, nullptr, prev,
                    "free list link leads outside the live regions");
      }
      if (links_of(b)->prev != prev) {
        return fail(error, limit_, nullptr, b, "broken free list links");
      }
      if (b->magic != kBlockMagic || !b->is_free || b->bucket != index_) {
        return fail(error, limit_, nullptr, b,
                    "free list holds a block that is not free");
      }
      if (free_.bin_of(b->size) != bin) {
        return fail(error, limit_, nullptr, b,
                    "free block in the wrong size bin");
      }
      prev = b;
    }
  }
  if (listed != free_blocks || free_.len() != free_blocks) {
    return fail(error, limit_, nullptr, nullptr,
                "free list and free blocks disagree");
  }
  return true;
}

// The large cache's own bookkeeping, and its regions' blocks naming this
// bucket.
bool Bucket::check_cache(base::Text& error) const noexcept {
  if (const char* problem = cache_.problem()) {
    return fail(error, limit_, nullptr, nullptr, problem);
  }
  for (RegionHeader* r = cache_.regions().head; r != nullptr; r = r->next) {
    if (r->first_block()->bucket != index_) {
      return fail(error, limit_, r, r->first_block(),
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
bool Bucket::dump(base::Text& out, bool try_only) const noexcept {
  if (try_only) {
    if (!lock_.try_lock(1000)) return false;
  } else {
    lock_.lock();
  }
  const std::size_t cached = cache_.regions().len;
  std::size_t regions = regions_.len + cached;
  std::size_t blocks = cached;
  std::size_t mapped = cache_.bytes();
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    blocks += r->blocks.len;
    mapped += r->total_size();
  }
  out << "bucket limit ";
  if (limit_ == SIZE_MAX) {
    out << "dynamic";
  } else {
    out << limit_;
  }
  out << ": " << regions << (regions == 1 ? " region, " : " regions, ")
      << blocks << " blocks (" << free_.len() + cached << " free), " << mapped
      << " bytes mapped\n";
  constexpr std::size_t kCellsPerRow = 6;
  constexpr std::size_t kCellWidth = 14;
  for (RegionHeader* r = regions_.head; r != nullptr; r = r->next) {
    out << "  region " << static_cast<const void*>(r) << ": " << r->total_size()
        << " bytes, " << r->blocks.len << " blocks\n";
    // Rows of cells: the region's own, then one per block. A cell is
    // " text " padded to kCellWidth (longer text widens it).
    BlockHeader* next = r->blocks.head;
    bool first = true;
    while (first || next != nullptr) {
      std::size_t widths[kCellsPerRow];
      std::size_t cells = 0;
      // The widths first: a cell's text is "region", or "used N" / "free N".
      BlockHeader* b = next;
      for (bool region = first; cells < kCellsPerRow && (region || b);
           region = false) {
        std::size_t width = 8;  // " region "
        if (!region) {
          std::size_t digits = 1;
          for (std::size_t v = b->size; v >= 10; v /= 10) ++digits;
          width = 7 + digits;  // " used N "
          b = b->next;
        }
        widths[cells++] = width < kCellWidth ? kCellWidth : width;
      }
      auto border = [&] {
        out << "  +";
        for (std::size_t i = 0; i < cells; ++i) {
          for (std::size_t j = 0; j < widths[i]; ++j) out << '-';
          out << '+';
        }
        out << '\n';
      };
      border();
      out << "  |";
      for (std::size_t i = 0; i < cells; ++i) {
        out.mark();
        if (first) {
          out << " region ";
          first = false;
        } else {
          out << (next->is_free ? " free " : " used ") << next->size << ' ';
          next = next->next;
        }
        out.pad_to(widths[i]) << '|';
      }
      out << '\n';
      border();
    }
  }
  for (RegionHeader* r = cache_.regions().head; r != nullptr; r = r->next) {
    out << "  cached region " << static_cast<const void*>(r) << ": "
        << r->total_size() << " bytes, 1 free block\n";
  }
  lock_.unlock();
  return true;
}

namespace {

const Bucket& bucket_at(const detail::BucketStorage* storage,
                        std::size_t index) noexcept {
  return *std::launder(reinterpret_cast<const Bucket*>(storage[index].raw));
}

}  // namespace

bool LanedEngine::check(base::Text& error) const noexcept {
  for (std::size_t i = 0; i <= count_; ++i) {
    if (!bucket_at(buckets_, i).check(error)) return false;
  }
  return true;
}

void LanedEngine::dump(base::Text& out, bool try_only) const noexcept {
  for (std::size_t i = 0; i <= count_; ++i) {
    const Bucket& bucket = bucket_at(buckets_, i);
    if (!bucket.dump(out, try_only)) {
      out << "bucket limit ";
      if (bucket.limit() == SIZE_MAX) {
        out << "dynamic";
      } else {
        out << bucket.limit();
      }
      out << ": busy (its lock is held)\n";
    }
  }
}

LanedEngine::Account LanedEngine::account(std::size_t index) const noexcept {
  const Bucket& bucket = bucket_at(buckets_, index);
  const Bucket::Account a = bucket.account();
  return {bucket.limit(), a.mapped, a.used,  a.free,
          a.headers,      a.cached, a.purged};
}

bool LanedEngine::visit(std::size_t index, RegionVisitor& visitor,
                        bool try_only) const noexcept {
  return bucket_at(buckets_, index).visit(visitor, try_only);
}

std::size_t LanedEngine::limit(std::size_t index) const noexcept {
  return bucket_at(buckets_, index).limit();
}

}  // namespace rulloc::core
