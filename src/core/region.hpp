// Regions: one mapping from the kernel each, a header and then blocks.
//
// Regions of a bucket are linked in a list; they are not adjacent in memory
// (other code maps memory too, and freed regions leave holes).
//
//   +--------+------------------------+      +--------+-----------------------+
//   |        | +-------+    +-------+ |      |        | +-------+   +-------+ |
//   | Region | | Block | -> | Block | | ---> | Region | | Block |-> | Block | |
//   |        | +-------+    +-------+ |      |        | +-------+   +-------+ |
//   +--------+------------------------+      +--------+-----------------------+
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/list.hpp"
#include "core/block.hpp"

namespace rulloc::core {

struct RegionHeader {
  RegionHeader* next;
  RegionHeader* prev;
  base::LinkedList<BlockHeader> blocks;
  std::size_t size;  // bytes after this header

  BlockHeader* first_block() noexcept { return blocks.head; }
  std::size_t total_size() const noexcept;
  std::byte* base() noexcept { return reinterpret_cast<std::byte*>(this); }
};

inline constexpr std::size_t kRegionHeaderSize = sizeof(RegionHeader);
static_assert(kRegionHeaderSize == 48, "the original design's region header");

inline std::size_t RegionHeader::total_size() const noexcept {
  return kRegionHeaderSize + size;
}

// The length to map for a region whose first block must hold `size` content
// bytes (already rounded to 8). Rounds region header + block header + size
// up to whole pages. When the pages leave a few bytes over that could not
// form a block (fewer than a header plus kMinBlockSize), one more page is
// added so the first block can always be split:
//
//   +--------+--------+------------------------------+--------+
//   | region | block  | content (size)               | < 56 B |  <- wasted
//   +--------+--------+------------------------------+--------+
//
// Returns 0 when the length would overflow.
std::size_t determine_region_length(std::size_t size) noexcept;

// Writes the headers of a region of `length` bytes at `memory`, holding one
// free block of bucket `bucket`, linked in no list, whose pages hold
// `pages` (kZero when they are fresh from the kernel).
RegionHeader* format_region(void* memory, std::size_t length,
                            std::uint8_t bucket, Pages pages) noexcept;

// Sets the length of a region that holds a single block, at its address
// now, and every pointer to it and its block (the block spans it all).
void set_length(RegionHeader* region, std::size_t length) noexcept;

// What the process heap's map is told of a bucket's regions
// (Bucket::visit): each region, then its blocks in address order.
struct RegionVisitor {
  // `header` bytes of region header come first; `cached`: a region the
  // dynamic bucket keeps for reuse (one free block).
  virtual void region(const void* address, std::size_t bytes,
                      std::size_t header, bool cached) noexcept = 0;
  // A block `offset` bytes into its region, header and content (`bytes`),
  // free or not, and the bytes of a free block's content not resident.
  virtual void block(std::size_t offset, std::size_t bytes, bool free,
                     std::size_t purged) noexcept = 0;
  virtual void region_end() noexcept = 0;

 protected:
  ~RegionVisitor() = default;
};

// Resizes a region that holds a single block (and is in no list, since its
// links would go stale) to `length` bytes, the block growing or shrinking
// with it and keeping its contents. Returns the region at its new address,
// or nullptr when the kernel (or fault injection) refuses: it is unchanged.
RegionHeader* remap_region(RegionHeader* region, std::size_t length) noexcept;

}  // namespace rulloc::core
