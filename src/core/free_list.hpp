// The free list of a bucket: its free blocks, across all its regions, linked
// through links stored in the last 16 bytes of the blocks' own content
// (hence kMinBlockSize = 16). At the end, not the start, so that the back
// pointer below an aligned caller pointer survives the free and a second
// free still finds the header.
//
//   free block                          free block
//   +--------+---------------------+   +--------+---------------------+
//   | header |         | next|prev|-->| header |         | next|prev|--> end
//   +--------+---------------------+   +--------+---------------------+
//
// Every link read from a free block is checked before it is followed, in
// every build: it must lead to the end of the list, or to a free block's
// header on pages of a live region (page_map.hpp) whose own links lie
// there too, and an unlinked block's neighbours must point back at it. A
// program that wrote over a free block's links is stopped with a report
// instead of following them into somebody else's memory.
//
// Links point to block headers, and a list ends at kEndOfList, a header that
// is always free, instead of nullptr: whatever a stale pointer's neighbouring
// word holds after a free, it leads to a free header, so a double free is
// recognised as one.
//
// The original design keeps one list and takes the first fit from its head.
// With `segregated`, free blocks are binned by size (4 bins per power of
// two up to 16 KiB, then 2, the last bin holding all from 48 MiB) and a request
// takes the best fit among a few blocks of its own bin, else among a few of
// the next larger bin that has blocks (all of which are large enough), and
// only then walks its own bin to the end: no walk past thousands of holes
// that are too small.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "core/block.hpp"

namespace rulloc::core {

struct FreeLinks {
  BlockHeader* next;
  BlockHeader* prev;
};
static_assert(sizeof(FreeLinks) == kMinBlockSize);

inline FreeLinks* links_of(BlockHeader* block) noexcept {
  return reinterpret_cast<FreeLinks*>(block->end() - sizeof(FreeLinks));
}

// The end of every free list: a header that reads as a free block.
BlockHeader* end_of_list() noexcept;

class FreeList {
 public:
  static constexpr std::size_t kBins = 64;

  explicit FreeList(bool segregated) noexcept;
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;

  void push(BlockHeader* block) noexcept;        // at the tail of its bin
  void push_front(BlockHeader* block) noexcept;  // at the head of its bin
  void remove(BlockHeader* block) noexcept;      // block->size as when pushed
  // After a listed block's size changed from `old_size`: moves its links to
  // its new end, and the block to the bin of its new size when that differs.
  void resized(BlockHeader* block, std::size_t old_size) noexcept;
  BlockHeader* first_fit(std::size_t size) const noexcept;

  // What the bucket is doing, named in a report of a corrupted link. Set
  // under the bucket's lock at the start of each operation.
  void set_operation(const char* operation) noexcept { operation_ = operation; }
  // Whether `link` may be followed (see above); never reads outside live
  // regions.
  static bool plausible(const BlockHeader* link) noexcept;

  std::size_t len() const noexcept { return len_; }
  std::size_t bin_of(std::size_t size) const noexcept;
  // Walking: first() of a bin, then next() until nullptr. next() reports a
  // corrupted link; next_unchecked() leaves that to the caller (check()).
  BlockHeader* first(std::size_t bin) const noexcept;
  BlockHeader* next(BlockHeader* block) const noexcept;
  static BlockHeader* next_unchecked(BlockHeader* block) noexcept;

 private:
  struct Bin {
    BlockHeader* head;
    BlockHeader* tail;
  };

  void unlink(std::size_t bin, BlockHeader* block) noexcept;
  BlockHeader* best_of(std::size_t bin, std::size_t size,
                       std::size_t probes) const noexcept;
  // `link`, read from `links`, once it is known to be plausible.
  BlockHeader* follow(BlockHeader* link, const FreeLinks* links) const noexcept;
  [[noreturn, gnu::cold, gnu::noinline]] void report_corrupted(
      const FreeLinks* links) const noexcept;

  Bin bins_[kBins];
  std::uint64_t non_empty_ = 0;  // bit b set: bins_[b] has blocks
  std::size_t len_ = 0;
  bool segregated_;
  const char* operation_ = "allocate";
};

}  // namespace rulloc::core
