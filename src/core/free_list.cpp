#include "core/free_list.hpp"

#include <cstring>

namespace rulloc::core {
namespace {

// Never written: its links are never followed, only compared against.
BlockHeader end_marker{nullptr, nullptr, nullptr, 0, true, 0, kBlockMagic};

// How many blocks of its own bin a request looks at before taking a block
// of a larger bin.
constexpr int kProbes = 8;

}  // namespace

BlockHeader* end_of_list() noexcept { return &end_marker; }

FreeList::FreeList(bool segregated) noexcept : segregated_(segregated) {
  for (Bin& bin : bins_) bin = {&end_marker, &end_marker};
}

std::size_t FreeList::bin_of(std::size_t size) const noexcept {
  if (!segregated_) return 0;
  const int log = std::bit_width(size) - 1;  // size >= 16, so log >= 4
  if (log >= 20) return kBins - 1;
  return static_cast<std::size_t>((log - 4) * 4) + ((size >> (log - 2)) & 3);
}

void FreeList::push(BlockHeader* block) noexcept {
  Bin& bin = bins_[bin_of(block->size)];
  *links_of(block) = {&end_marker, bin.tail};
  if (bin.tail == &end_marker) {
    bin.head = block;
    non_empty_ |= std::uint64_t{1} << bin_of(block->size);
  } else {
    links_of(bin.tail)->next = block;
  }
  bin.tail = block;
  ++len_;
}

void FreeList::push_front(BlockHeader* block) noexcept {
  Bin& bin = bins_[bin_of(block->size)];
  *links_of(block) = {bin.head, &end_marker};
  if (bin.head == &end_marker) {
    bin.tail = block;
    non_empty_ |= std::uint64_t{1} << bin_of(block->size);
  } else {
    links_of(bin.head)->prev = block;
  }
  bin.head = block;
  ++len_;
}

void FreeList::remove(BlockHeader* block) noexcept {
  unlink(bin_of(block->size), block);
}

void FreeList::unlink(std::size_t index, BlockHeader* block) noexcept {
  Bin& bin = bins_[index];
  FreeLinks* links = links_of(block);
  if (links->prev == &end_marker) {
    bin.head = links->next;
  } else {
    links_of(links->prev)->next = links->next;
  }
  if (links->next == &end_marker) {
    bin.tail = links->prev;
  } else {
    links_of(links->next)->prev = links->prev;
  }
  if (bin.head == &end_marker) non_empty_ &= ~(std::uint64_t{1} << index);
  --len_;
}

void FreeList::resized(BlockHeader* block, std::size_t old_size) noexcept {
  std::memcpy(links_of(block), block->content() + old_size - sizeof(FreeLinks),
              sizeof(FreeLinks));
  const std::size_t old_bin = bin_of(old_size);
  if (old_bin == bin_of(block->size)) return;
  unlink(old_bin, block);
  push(block);
}

BlockHeader* FreeList::first_fit(std::size_t size) const noexcept {
  const std::size_t own = bin_of(size);
  BlockHeader* block = bins_[own].head;
  for (int probes = 0; block != &end_marker; block = links_of(block)->next) {
    if (block->size >= size) return block;
    if (segregated_ && ++probes == kProbes) break;
  }
  if (!segregated_) return nullptr;
  // Every block of a larger bin is large enough.
  const std::uint64_t larger =
      own + 1 < kBins ? non_empty_ & (~std::uint64_t{0} << (own + 1)) : 0;
  if (larger != 0) return bins_[std::countr_zero(larger)].head;
  for (; block != &end_marker; block = links_of(block)->next) {
    if (block->size >= size) return block;
  }
  return nullptr;
}

BlockHeader* FreeList::first(std::size_t bin) const noexcept {
  return bins_[bin].head == &end_marker ? nullptr : bins_[bin].head;
}

BlockHeader* FreeList::next(BlockHeader* block) noexcept {
  BlockHeader* following = links_of(block)->next;
  return following == &end_marker ? nullptr : following;
}

}  // namespace rulloc::core
