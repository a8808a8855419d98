#include "core/bucket.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "base/alignment.hpp"
#include "base/debug_check.hpp"
#include "core/page_map.hpp"
#include "core/retired_regions.hpp"
#include "platform/faults.hpp"
#include "platform/platform.hpp"

namespace rulloc::core {

std::size_t size_needed(Layout layout) noexcept {
  // Size 0 counts as 1, so the caller's pointer always lies inside the block
  // (an aligned pointer could otherwise land on the block's very end).
  std::size_t size =
      base::align_up(layout.size == 0 ? 1 : layout.size, base::kPointerSize);
  if (size == 0 && layout.size != 0) return 0;
  if (layout.align > base::kPointerSize) {
    if (size > SIZE_MAX - layout.align) return 0;
    size += layout.align;
  }
  return std::max(size, kMinBlockSize);
}

std::byte* aligned_position(BlockHeader* block, std::size_t align) noexcept {
  std::byte* content = block->content();
  return align <= base::kPointerSize ? content
                                     : base::align_up(content + 1, align);
}

namespace {

// The floor on region lengths of a fixed bucket with this limit.
std::size_t min_region_bytes(std::size_t limit, const Options& options) {
  const std::size_t blocks = options.region_blocks;
  const std::size_t for_blocks =
      blocks != 0 && limit <= SIZE_MAX / blocks ? limit * blocks : 0;
  return std::max(options.min_region_bytes, for_blocks);
}

// A kept empty region's free block holds the trim_unused() round in which
// the region emptied, below its free-list links, on a multiple of 16: never
// the word of a back pointer (8 below a multiple of align > 8), so a second
// free of an aligned pointer is still recognised.
//
//   +--------+--------+--------------------------+-------+---+-----------+
//   | region | block  | (free)                   | round |   | next|prev |
//   +--------+--------+--------------------------+-------+---+-----------+
//                                                ^ 16-aligned   ^ end - 16
std::size_t* emptied_round(RegionHeader* region) noexcept {
  std::byte* links = region->first_block()->end() - sizeof(FreeLinks);
  return reinterpret_cast<std::size_t*>(
      base::align_down(links - sizeof(std::size_t), 16));
}

// The last bytes of a free block hold its links and the round above (or the
// large cache's time), so neither a purge nor calloc's shortcut touches them.
constexpr std::size_t kTrailerBytes = 48;

struct PageRange {
  std::byte* begin;
  std::byte* end;  // begin == end: no page
};

// The whole pages of a free block between its header and its trailer: what
// a purge gives back, and what BlockHeader::pages speaks of.
//
//   +--------+----------+=====+=====+=====+-------+---------+
//   | header | (part of |page |page |page |(part) | trailer |
//   |        |  a page) |     |     |     |       |         |
//   +--------+----------+=====+=====+=====+-------+---------+
//                       ^ begin           ^ end
PageRange zero_pages(BlockHeader* block) noexcept {
  if (block->size <= kTrailerBytes) return {nullptr, nullptr};
  const std::size_t page = platform::page_size();
  std::byte* begin = base::align_up(block->content(), page);
  std::byte* end = base::align_down(block->end() - kTrailerBytes, page);
  return end > begin ? PageRange{begin, end} : PageRange{nullptr, nullptr};
}

// calloc's zeroing of a new block, but for the pages in `zero`.
void zero_except(Allocation block, PageRange zero) noexcept {
  auto* begin = static_cast<std::byte*>(block.ptr);
  std::byte* end = begin + block.size;
  std::byte* skip_begin = std::clamp(zero.begin, begin, end);
  std::byte* skip_end = std::clamp(zero.end, skip_begin, end);
  std::memset(begin, 0, static_cast<std::size_t>(skip_begin - begin));
  std::memset(skip_end, 0, static_cast<std::size_t>(end - skip_end));
}

}  // namespace

Bucket::Bucket(std::size_t limit, std::uint8_t index, Options options) noexcept
    : free_(options.segregated_free_lists),
      cache_(limit == SIZE_MAX ? options.large_cache_bytes : 0,
             options.large_cache_ms, options.remap_large_regions),
      limit_(limit),
      keep_empty_regions_(options.keep_empty_regions),
      min_region_bytes_(limit == SIZE_MAX ? 0
                                          : min_region_bytes(limit, options)),
      index_(index),
      remap_(limit == SIZE_MAX && options.remap_large_regions) {}

Bucket::~Bucket() {
  RegionHeader* region = regions_.head;
  while (region != nullptr) {
    RegionHeader* next = region->next;
    page_map::remove(region, region->total_size());
    platform::unmap(region, region->total_size());
    region = next;
  }
}

Allocation Bucket::allocate(std::size_t needed, std::size_t align, bool zeroed,
                            const char* operation) noexcept {
  base::LockGuard lock(lock_);
  ++uses_;
  free_.set_operation(operation);
  return allocate_locked(needed, align, zeroed);
}

void Bucket::deallocate(BlockHeader* block, const char* operation) noexcept {
  base::LockGuard lock(lock_);
  ++uses_;
  free_.set_operation(operation);
  deallocate_locked(block);
}

Allocation Bucket::allocate_locked(std::size_t needed, std::size_t align,
                                   bool zeroed) noexcept {
  // 0: no region can hold it (the length overflows), cached or new.
  const std::size_t length = determine_region_length(needed);
  if (length == 0) return {nullptr, 0};
  BlockHeader* block = free_.first_fit(needed);
  bool fresh = false;
  if (block != nullptr) {
    // A region whose only block is free was an empty region kept for reuse.
    if (block->region->blocks.len == 1) --empty_regions_;
    free_.remove(block);
  } else if (RegionHeader* cached = cache_.take(length)) {
    regions_.push_back(cached);
    block = cached->first_block();
  } else {
    block = map_region(needed);
    if (block == nullptr) return {nullptr, 0};
    fresh = true;
  }
  // Fresh pages come zeroed from the kernel, and so do purged ones (on
  // Linux): only what a reused block may hold needs calloc's zeroing.
  const Pages pages = block->pages;
  const PageRange zero =
      pages == Pages::kZero ? zero_pages(block) : PageRange{nullptr, nullptr};
  block->is_free = false;
  block->pages = Pages::kResident;
  split(block, needed, pages);
  Allocation result = place(block, align);
  if (zeroed && !fresh) zero_except(result, zero);
  return result;
}

void Bucket::deallocate_locked(BlockHeader* block) noexcept {
  block->is_free = true;
  block->freed_round = static_cast<std::uint8_t>(unused_rounds_);
  BlockHeader* next = block->next;
  if (next != nullptr && next->is_free) {
    free_.remove(next);
    absorb(block, next);
  }
  BlockHeader* prev = block->prev;
  if (prev != nullptr && prev->is_free) {
    const std::size_t old_size = prev->size;
    absorb(prev, block);  // prev keeps its place, unless it changes bin
    free_.resized(prev, old_size);
    block = prev;
  } else {
    free_.push(block);
  }
  release_region_if_empty(block->region);
}

// Gives a free block's whole pages back to the kernel, unless they went
// already; returns the bytes (0 when it has none or the kernel refuses).
std::size_t Bucket::purge_block(BlockHeader* block) noexcept {
  const PageRange pages = zero_pages(block);
  const auto bytes = static_cast<std::size_t>(pages.end - pages.begin);
  if (block->pages != Pages::kResident || bytes == 0 ||
      !platform::purge(pages.begin, bytes)) {
    return 0;
  }
  block->pages = platform::purge_zeroes() ? Pages::kZero : Pages::kPurged;
  return bytes;
}

Allocation Bucket::resize(BlockHeader* block, std::byte* pointer,
                          std::size_t keep, std::size_t needed,
                          std::size_t align, const char* operation) noexcept {
  base::UniqueLock lock(lock_);
  ++uses_;
  free_.set_operation(operation);
  BlockHeader* next = block->next;
  BlockHeader* prev = block->prev;
  const bool next_free = next != nullptr && next->is_free;
  const bool prev_free = prev != nullptr && prev->is_free;
  const std::size_t with_next =
      block->size + (next_free ? kBlockHeaderSize + next->size : 0);
  const std::size_t with_prev = prev_free ? prev->size + kBlockHeaderSize : 0;

  // Where the data lies in its region, which remap_alone() may move.
  const auto offset = static_cast<std::size_t>(pointer - block->region->base());
  BlockHeader* target = block;
  if (block->size >= needed) {
    // Fits as it is: shrinking, or growing into slack.
  } else if (next_free && with_next >= needed) {
    free_.remove(next);
    absorb(block, next);
  } else if (prev_free && with_prev + block->size >= needed) {
    free_.remove(prev);
    absorb(prev, block);
    target = prev;
  } else if (prev_free && next_free && with_prev + with_next >= needed) {
    free_.remove(prev);
    free_.remove(next);
    absorb(block, next);
    absorb(prev, block);
    target = prev;
  } else if (BlockHeader* remapped = remap_alone(block, needed)) {
    target = remapped;
    pointer = remapped->region->base() + offset;
  } else {
    Allocation moved = allocate_locked(needed, align, false);
    if (moved.ptr == nullptr) return moved;
    // Both blocks are taken, so nobody else touches them: the copy needs
    // no lock, and other threads can use the bucket meanwhile.
    lock.unlock();
    std::memcpy(moved.ptr, pointer, keep);
    lock.lock();
    free_.set_operation(operation);
    deallocate_locked(block);
    return moved;
  }
  target->is_free = false;
  target->pages = Pages::kResident;
  target->freed_round = static_cast<std::uint8_t>(unused_rounds_);  // tail
  // Move the data first: the back pointer and a split-off header may land on
  // bytes that still hold it. The target is taken (a neighbour freed
  // meanwhile will not merge with it), so the move needs no lock either.
  std::byte* destination = aligned_position(target, align);
  if (destination != pointer) {
    lock.unlock();
    std::memmove(destination, pointer, keep);
    lock.lock();
    free_.set_operation(operation);
  }
  split(target, needed, Pages::kResident);
  return place(target, align);
}

namespace {

void* map_or_release_retired(std::size_t length) noexcept {
  if (platform::faults::map_should_fail()) return nullptr;
  void* memory = platform::map(length);
  // Retired ranges still count against the address space (RLIMIT_AS).
  if (memory == nullptr && retired_regions::release_all()) {
    memory = platform::map(length);
  }
  return memory;
}

}  // namespace

BlockHeader* Bucket::map_region(std::size_t needed) noexcept {
  const std::size_t exact = determine_region_length(needed);
  if (exact == 0) return nullptr;
  std::size_t length = exact;
  if (length < min_region_bytes_) {
    length = base::align_up(min_region_bytes_, platform::page_size());
  }
  void* memory = map_or_release_retired(length);
  // Under a limit on the address space (RLIMIT_AS), a region just for this
  // block may fit where one of the usual length does not.
  if (memory == nullptr && length > exact) {
    length = exact;
    memory = map_or_release_retired(length);
  }
  if (memory == nullptr) return nullptr;
  if (!page_map::add(memory, length)) {
    platform::unmap(memory, length);
    return nullptr;
  }
  RegionHeader* region = format_region(memory, length, index_, Pages::kZero);
  regions_.push_back(region);
  return region->first_block();
}

// Grows a block that is alone in its region (a free tail aside) by resizing
// the region's mapping. Returns the block at its new place, with the same
// offset in its region, or nullptr with everything unchanged.
BlockHeader* Bucket::remap_alone(BlockHeader* block,
                                 std::size_t needed) noexcept {
  BlockHeader* next = block->next;
  if (!remap_ || block->prev != nullptr ||
      (next != nullptr && (!next->is_free || next->next != nullptr))) {
    return nullptr;
  }
  const std::size_t length = determine_region_length(needed);
  RegionHeader* region = block->region;
  if (length <= region->total_size()) return nullptr;
  const std::size_t size = block->size;
  if (next != nullptr) {
    free_.remove(next);
    absorb(block, next);
  }
  regions_.remove(region);
  RegionHeader* moved = remap_region(region, length);
  if (moved == nullptr) {
    regions_.push_back(region);
    split(block, size, Pages::kResident);  // the free tail, as it was
    return nullptr;
  }
  regions_.push_back(moved);
  return moved->first_block();
}

void Bucket::release_region_if_empty(RegionHeader* region) noexcept {
  if (region->blocks.len != 1) return;
  if (cache_.accepts(region->total_size())) {
    free_.remove(region->first_block());
    regions_.remove(region);
    cache_.keep(region);
    return;
  }
  // With a cache, the dynamic bucket keeps emptied regions only there, in
  // its bound of bytes: a region kept outside it could be of any size.
  const bool may_keep =
      !cache_.enabled() && empty_regions_ < keep_empty_regions_;
  if (may_keep || !unmap_empty_region(region)) {
    ++empty_regions_;
    *emptied_round(region) = unused_rounds_;
    // The last region emptied serves first, so a program that takes and
    // frees one block keeps to one region and the others can age and go.
    free_.remove(region->first_block());
    free_.push_front(region->first_block());
  }
}

// False when the kernel refuses: the region then stays, still usable.
bool Bucket::unmap_empty_region(RegionHeader* region) noexcept {
  BlockHeader* block = region->first_block();
  free_.remove(block);
  regions_.remove(region);
  if (retired_regions::retire(region, region->total_size())) return true;
  regions_.push_back(region);
  free_.push(block);
  return false;
}

std::size_t Bucket::trim() noexcept {
  base::LockGuard lock(lock_);
  free_.set_operation("trim");
  return trim_locked();
}

std::size_t Bucket::trim_unused() noexcept {
  base::LockGuard lock(lock_);
  free_.set_operation("trim");
  const bool used = uses_ != uses_seen_;
  uses_seen_ = uses_;
  std::size_t released = 0;
  if (!used) {
    // Once: what it purged stays purged while nothing uses the bucket.
    if (!trimmed_unused_) released = trim_locked();
    trimmed_unused_ = true;
  } else {
    trimmed_unused_ = false;
    released = cache_.expire_old() + release_empty_regions(unused_rounds_) +
               purge_stale_blocks();
  }
  ++unused_rounds_;
  return released;
}

// Unmaps the empty regions that emptied before trim_unused() round
// `emptied_before` (SIZE_MAX: all of them).
std::size_t Bucket::release_empty_regions(std::size_t emptied_before) noexcept {
  if (empty_regions_ == 0) return 0;
  std::size_t released = 0;
  for (RegionHeader* region = regions_.head; region != nullptr;) {
    RegionHeader* next = region->next;
    if (region->blocks.len == 1 && region->first_block()->is_free &&
        *emptied_round(region) < emptied_before) {
      const std::size_t size = region->total_size();
      if (unmap_empty_region(region)) {
        --empty_regions_;
        released += size;
      }
    }
    region = next;
  }
  return released;
}

// Purges the free blocks of a busy bucket that stayed free since the last
// trim_unused() round: what the program did not reuse in a tick it is not
// likely to need soon.
std::size_t Bucket::purge_stale_blocks() noexcept {
  const auto round = static_cast<std::uint8_t>(unused_rounds_);
  std::size_t released = 0;
  for (std::size_t bin = 0; bin < FreeList::kBins; ++bin) {
    for (BlockHeader* block = free_.first(bin); block != nullptr;
         block = free_.next(block)) {
      if (block->freed_round != round) released += purge_block(block);
    }
  }
  return released;
}

std::size_t Bucket::trim_locked() noexcept {
  std::size_t released = cache_.release_all() + release_empty_regions(SIZE_MAX);
  // Whole pages inside free blocks (past the free-list node) can go too,
  // unless they went already.
  for (std::size_t bin = 0; bin < FreeList::kBins; ++bin) {
    for (BlockHeader* block = free_.first(bin); block != nullptr;
         block = free_.next(block)) {
      released += purge_block(block);
    }
  }
  return released;
}

// Splits off the tail beyond `needed` as a free block when it can hold a
// header and kMinBlockSize. The tail merges with a free block after it.
// `rest_pages`: what the tail's pages hold (see zero_pages()).
void Bucket::split(BlockHeader* block, std::size_t needed,
                   Pages rest_pages) noexcept {
  base::debug_check(!block->is_free && block->region->blocks.len > 0, block,
                    "split of a block that is free or in no region");
  if (block->size < needed + kMinSplitSize) return;
  auto* rest = new (block->content() + needed)
      BlockHeader{nullptr,       nullptr,
                  block->region, block->size - needed - kBlockHeaderSize,
                  true,          index_,
                  rest_pages,    block->freed_round,
                  kBlockMagic};
  block->size = needed;
  block->region->blocks.insert_after(block, rest);
  BlockHeader* next = rest->next;
  if (next != nullptr && next->is_free) {
    free_.remove(next);
    absorb(rest, next);
  }
  free_.push(rest);
}

// `next` must follow `block` in its region; its header becomes content.
void Bucket::absorb(BlockHeader* block, BlockHeader* next) noexcept {
  // `next` may be in use: resize() moves a block into the free one before.
  base::debug_check(block->next == next && next->region == block->region, next,
                    "absorb of a block that does not follow");
  // Most of the merged block's pages have been free since the larger part
  // was freed.
  if (next->size > block->size) block->freed_round = next->freed_round;
  block->size += kBlockHeaderSize + next->size;
  block->pages = Pages::kResident;  // next's header, at least, was written
  block->region->blocks.remove(next);
  next->magic = kMergedMagic;
}

Allocation Bucket::place(BlockHeader* block, std::size_t align) noexcept {
  std::byte* pointer = aligned_position(block, align);
  if (pointer != block->content()) {
    std::memcpy(pointer - sizeof(BlockHeader*), &block, sizeof(BlockHeader*));
  }
  return {pointer, static_cast<std::size_t>(block->end() - pointer)};
}

}  // namespace rulloc::core
