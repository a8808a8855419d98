#include "core/free_list.hpp"

#include <cstring>

#include "base/debug_check.hpp"
#include "base/misuse.hpp"
#include "core/page_map.hpp"

namespace rulloc::core {
namespace {

// Never written: its links are never followed, only compared against.
BlockHeader end_marker{nullptr, nullptr,          nullptr, 0,          true,
                       0,       Pages::kResident, 0,       kBlockMagic};

// How many blocks of its own bin a request looks at before taking a block
// of a larger bin.
constexpr int kProbes = 8;

// Sizes below 2^kFineLog get four bins per power of two, larger ones two, so
// that the bins reach 64 MiB and big blocks find a close fit too.
constexpr int kFineLog = 14;
constexpr std::size_t kFineBins = (kFineLog - 4) * 4;

}  // namespace

BlockHeader* end_of_list() noexcept { return &end_marker; }

FreeList::FreeList(bool segregated) noexcept : segregated_(segregated) {
  for (Bin& bin : bins_) bin = {&end_marker, &end_marker};
}

std::size_t FreeList::bin_of(std::size_t size) const noexcept {
  if (!segregated_) return 0;
  const int log = std::bit_width(size) - 1;  // size >= 16, so log >= 4
  if (log < kFineLog) {
    return static_cast<std::size_t>((log - 4) * 4) + ((size >> (log - 2)) & 3);
  }
  const std::size_t bin = kFineBins +
                          static_cast<std::size_t>((log - kFineLog) * 2) +
                          ((size >> (log - 1)) & 1);
  return bin < kBins ? bin : kBins - 1;
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
  base::debug_check(block->is_free && block->magic == kBlockMagic && len_ > 0,
                    block, "free-list remove of a block that is not listed");
  unlink(bin_of(block->size), block);
}

bool FreeList::plausible(const BlockHeader* link) noexcept {
  if (link == &end_marker) return true;
  const auto address = reinterpret_cast<std::uintptr_t>(link);
  if (address % alignof(BlockHeader) != 0 ||
      !page_map::contains(link, sizeof(BlockHeader))) {
    return false;
  }
  if (link->magic != kBlockMagic || !link->is_free ||
      link->size < kMinBlockSize ||
      link->size > UINTPTR_MAX - address - sizeof(BlockHeader)) {
    return false;
  }
  const std::uintptr_t links =
      address + sizeof(BlockHeader) + link->size - sizeof(FreeLinks);
  return page_map::contains(reinterpret_cast<const void*>(links),
                            sizeof(FreeLinks));
}

BlockHeader* FreeList::follow(BlockHeader* link,
                              const FreeLinks* links) const noexcept {
  if (!plausible(link)) [[unlikely]] {
    report_corrupted(links);
  }
  return link;
}

void FreeList::report_corrupted(const FreeLinks* links) const noexcept {
  base::report_misuse(operation_, links, "corrupted free-list link");
}

void FreeList::unlink(std::size_t index, BlockHeader* block) noexcept {
  Bin& bin = bins_[index];
  FreeLinks* links = links_of(block);
  BlockHeader* next = follow(links->next, links);
  BlockHeader* prev = follow(links->prev, links);
  // The neighbours (or the bin, at its ends) must point back at the block.
  if ((prev == &end_marker ? bin.head : links_of(prev)->next) != block ||
      (next == &end_marker ? bin.tail : links_of(next)->prev) != block)
      [[unlikely]] {
    report_corrupted(links);
  }
  if (prev == &end_marker) {
    bin.head = next;
  } else {
    links_of(prev)->next = next;
  }
  if (next == &end_marker) {
    bin.tail = prev;
  } else {
    links_of(next)->prev = prev;
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
  if (!segregated_) {
    for (BlockHeader* block = bins_[own].head; block != &end_marker;
         block = follow(links_of(block)->next, links_of(block))) {
      if (block->size >= size) return block;
    }
    return nullptr;
  }
  if (BlockHeader* block = best_of(own, size, kProbes)) return block;
  // Every block of a larger bin is large enough.
  const std::uint64_t larger =
      own + 1 < kBins ? non_empty_ & (~std::uint64_t{0} << (own + 1)) : 0;
  if (larger != 0) return best_of(std::countr_zero(larger), size, kProbes);
  return best_of(own, size, SIZE_MAX);
}

// The smallest block of at least `size` among the first `probes` of a bin:
// the closer the fit, the less a big free block is cut into pieces that
// fit nothing.
BlockHeader* FreeList::best_of(std::size_t bin, std::size_t size,
                               std::size_t probes) const noexcept {
  BlockHeader* best = nullptr;
  for (BlockHeader* block = bins_[bin].head;
       block != &end_marker && probes-- > 0;
       block = follow(links_of(block)->next, links_of(block))) {
    if (block->size >= size && (best == nullptr || block->size < best->size)) {
      best = block;
      if (block->size == size) break;
    }
  }
  return best;
}

BlockHeader* FreeList::first(std::size_t bin) const noexcept {
  return bins_[bin].head == &end_marker ? nullptr : bins_[bin].head;
}

BlockHeader* FreeList::next(BlockHeader* block) const noexcept {
  BlockHeader* following = follow(links_of(block)->next, links_of(block));
  return following == &end_marker ? nullptr : following;
}

BlockHeader* FreeList::next_unchecked(BlockHeader* block) noexcept {
  BlockHeader* following = links_of(block)->next;
  return following == &end_marker ? nullptr : following;
}

}  // namespace rulloc::core
