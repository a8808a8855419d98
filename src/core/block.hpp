// Blocks: a header followed by content, in address order inside a region.
//
//   +---------------------------+----------------------------------+
//   | next | prev | region |    |                                  |
//   | size | free bucket pages  |   content (size bytes)           |
//   | freed_round magic         |                                  |
//   +---------------------------+----------------------------------+
//   ^ BlockHeader (40 bytes)    ^ content(): 8-byte aligned
//
// When `align` > 8 the caller's pointer lies strictly after the content
// start, on the next multiple of `align`; the 8 bytes below it hold a pointer
// back to the header:
//
//   +--------+------------+---------+---------------------------+
//   | header | (padding)  | backptr | caller's bytes            |
//   +--------+------------+---------+---------------------------+
//            ^ content    ^         ^ aligned pointer
//
// The last word of a header keeps `magic` in its high half. A back pointer
// is a user-space address, whose high half is far below the magic, so the
// word below a caller's pointer tells which case holds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/list.hpp"

namespace rulloc::core {

struct RegionHeader;

// Marks a live block header (allocated or free).
inline constexpr std::uint32_t kBlockMagic = 0x5AFEB10Cu;
// Marks a header that was merged into its neighbour: freeing it again is a
// double free.
inline constexpr std::uint32_t kMergedMagic = 0xDEADB10Cu;

// Smallest content a block may have: room for a free-list node.
inline constexpr std::size_t kMinBlockSize = 16;

// What the whole pages of a free block between its header and its trailer
// (zero_pages() in bucket.cpp) hold.
enum class Pages : std::uint8_t {
  kResident,  // whatever the program left there, maybe resident
  kPurged,    // given back to the kernel; they read as anything
  kZero,      // fresh from the kernel, or purged where that zeroes them
};

struct BlockHeader {
  BlockHeader* next;
  BlockHeader* prev;
  RegionHeader* region;
  std::size_t size;  // content bytes
  bool is_free;
  std::uint8_t bucket;
  Pages pages;  // of a free block; kResident in a block in use
  // Of a free block: the bucket's trim_unused() round (modulo 256) when it
  // was freed, so a busy bucket can purge the blocks that stayed free.
  std::uint8_t freed_round;
  std::uint32_t magic;

  std::byte* content() noexcept {
    return reinterpret_cast<std::byte*>(this) + sizeof(BlockHeader);
  }
  std::byte* end() noexcept { return content() + size; }
};

inline constexpr std::size_t kBlockHeaderSize = sizeof(BlockHeader);
static_assert(kBlockHeaderSize == 40, "the original design's block header");

// Smallest leftover that can become a block of its own.
inline constexpr std::size_t kMinSplitSize = kBlockHeaderSize + kMinBlockSize;

inline BlockHeader* block_of_content(std::byte* content) noexcept {
  return reinterpret_cast<BlockHeader*>(content - kBlockHeaderSize);
}

}  // namespace rulloc::core
