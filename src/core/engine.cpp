// rulloc::detail::Engine and its extension core::LanedEngine: validate
// requests, pick buckets, and resolve caller pointers back to block headers.
#include "rulloc/detail/engine.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "base/alignment.hpp"
#include "base/misuse.hpp"
#include "core/bucket.hpp"
#include "core/free_list.hpp"
#include "core/laned_engine.hpp"
#include "core/page_map.hpp"
#include "core/retired_regions.hpp"

namespace rulloc::detail {
namespace {

using core::BlockHeader;
using core::Bucket;

static_assert(sizeof(Bucket) <= sizeof(BucketStorage));
static_assert(alignof(Bucket) <= alignof(BucketStorage));
static_assert(std::endian::native == std::endian::little,
              "header tags are read from the high half of a word");

Bucket& bucket_at(BucketStorage* storage, std::size_t index) noexcept {
  return *std::launder(reinterpret_cast<Bucket*>(storage[index].raw));
}

// Finds the header of a block from the pointer handed to the caller, or
// stops the program when the pointer cannot be one that rulloc returned.
BlockHeader* resolve(const void* pointer, const char* operation,
                     std::size_t bucket_count) noexcept {
  auto* bytes = static_cast<std::byte*>(const_cast<void*>(pointer));
  if (reinterpret_cast<std::uintptr_t>(bytes) % base::kPointerSize != 0) {
    base::report_misuse(operation, pointer, "not a pointer rulloc returned");
  }
  // A free into a region already given back: report it before touching
  // the unmapped memory (any block of the region may be freed again, not
  // only its first).
  if (core::retired_regions::contains(bytes)) {
    base::report_already_free(operation, pointer,
                              "its region was already unmapped");
  }
  // Nothing is read that is not a live region's: the word below the pointer
  // may lie on a page of somebody else's, or on no page at all.
  const std::byte* below_pointer = bytes - base::kPointerSize;
  if (!core::page_map::contains(below_pointer)) {
    base::report_misuse(operation, pointer, "not a pointer rulloc returned");
  }
  // The high half of the word below the pointer: the tag of a plain header,
  // or the high half of a back pointer.
  std::uint32_t tag;
  std::memcpy(&tag, bytes - sizeof(tag), sizeof(tag));
  BlockHeader* block;
  if (tag == core::kBlockMagic || tag == core::kMergedMagic) {
    block = core::block_of_content(bytes);
    if (!core::page_map::contains(block, core::kBlockHeaderSize,
                                  below_pointer)) {
      base::report_misuse(operation, pointer, "not a pointer rulloc returned");
    }
  } else {
    std::uintptr_t back;
    std::memcpy(&back, bytes - sizeof(back), sizeof(back));
    // A header lies below its block's pointer (a free-list link may instead
    // lead to the end-of-list marker), never in the first 64 KiB.
    const auto self = reinterpret_cast<std::uintptr_t>(bytes);
    const bool below = back <= self - core::kBlockHeaderSize - sizeof(back);
    const bool end =
        back == reinterpret_cast<std::uintptr_t>(core::end_of_list());
    if (back < 65536 || back % base::kPointerSize != 0 || (!below && !end) ||
        (!end &&
         !core::page_map::contains(reinterpret_cast<void*>(back),
                                   core::kBlockHeaderSize, below_pointer))) {
      base::report_misuse(operation, pointer, "not a pointer rulloc returned");
    }
    block = reinterpret_cast<BlockHeader*>(back);
  }
  // After a free, the word below an aligned pointer may hold a free-list
  // link instead of the back pointer: links always lead to a free header.
  if (block->magic == core::kMergedMagic ||
      (block->magic == core::kBlockMagic && block->is_free)) {
    base::report_already_free(operation, pointer, nullptr);
  }
  if (block->magic != core::kBlockMagic || block->bucket >= bucket_count ||
      reinterpret_cast<std::byte*>(block) + core::kBlockHeaderSize > bytes ||
      bytes >= block->end()) {
    base::report_misuse(operation, pointer, "not a pointer rulloc returned");
  }
  return block;
}

bool valid_align(std::size_t align) noexcept {
  return base::is_power_of_two(align);
}

// Alignments below 8 are served at 8: every content start is 8-aligned.
std::size_t effective_align(std::size_t align) noexcept {
  return std::max(align, base::kPointerSize);
}

// The engine's work, shared by the public calls (lane 0, named after
// themselves) and the process heap's (core::LanedEngine: its lanes, its
// callers' names).
class Buckets {
 public:
  // Requests of `own_region_from` bytes or more go to the dynamic bucket,
  // whatever the fixed buckets' limits.
  Buckets(BucketStorage* storage, std::size_t count,
          std::size_t own_region_from = SIZE_MAX) noexcept
      : storage_(storage), count_(count), own_region_from_(own_region_from) {}

  Bucket& at(std::size_t index) const noexcept {
    return bucket_at(storage_, index);
  }

  std::size_t bucket_for(std::size_t size, std::size_t lane) const noexcept {
    if (size >= own_region_from_) return count_;
    for (std::size_t i = 0; i < count_; ++i) {
      const std::size_t limit = at(i).limit();
      if (size > limit) continue;
      std::size_t lanes = 1;
      while (i + lanes < count_ && at(i + lanes).limit() == limit) ++lanes;
      return i + lane % lanes;
    }
    return count_;
  }

  Allocation allocate(Layout layout, bool zeroed, std::size_t lane,
                      const char* operation) const noexcept {
    if (!valid_align(layout.align)) return {nullptr, 0};
    const std::size_t needed = core::size_needed(layout);
    if (needed == 0) return {nullptr, 0};
    return at(bucket_for(layout.size, lane))
        .allocate(needed, effective_align(layout.align), zeroed, operation);
  }

  std::size_t deallocate(void* pointer, const char* operation) const noexcept {
    if (pointer == nullptr) return 0;
    BlockHeader* block = resolve(pointer, operation, count_ + 1);
    const auto usable = static_cast<std::size_t>(
        block->end() - static_cast<std::byte*>(pointer));
    at(block->bucket).deallocate(block, operation);
    return usable;
  }

  Allocation grow(void* pointer, Layout old_layout, Layout new_layout,
                  bool zeroed, std::size_t lane,
                  const char* operation) const noexcept {
    if (new_layout.size < old_layout.size) return {nullptr, 0};
    Allocation grown = resize(pointer, old_layout, new_layout, operation, lane);
    if (grown.ptr != nullptr && zeroed) {
      std::memset(static_cast<std::byte*>(grown.ptr) + old_layout.size, 0,
                  new_layout.size - old_layout.size);
    }
    return grown;
  }

  Allocation shrink(void* pointer, Layout old_layout, Layout new_layout,
                    std::size_t lane, const char* operation) const noexcept {
    if (new_layout.size > old_layout.size) return {nullptr, 0};
    return resize(pointer, old_layout, new_layout, operation, lane);
  }

  std::size_t usable_size(const void* pointer,
                          const char* operation) const noexcept {
    if (pointer == nullptr) return 0;
    BlockHeader* block = resolve(pointer, operation, count_ + 1);
    return static_cast<std::size_t>(block->end() -
                                    static_cast<const std::byte*>(pointer));
  }

 private:
  Allocation resize(void* pointer, Layout old_layout, Layout new_layout,
                    const char* operation, std::size_t lane) const noexcept {
    const std::size_t needed = core::size_needed(new_layout);
    if (pointer == nullptr || !valid_align(new_layout.align) || needed == 0) {
      return {nullptr, 0};
    }
    BlockHeader* block = resolve(pointer, operation, count_ + 1);
    auto* bytes = static_cast<std::byte*>(pointer);
    const std::size_t usable = static_cast<std::size_t>(block->end() - bytes);
    const std::size_t keep =
        std::min({old_layout.size, new_layout.size, usable});
    const std::size_t align = effective_align(new_layout.align);
    Bucket& from = at(block->bucket);
    Bucket& to = at(bucket_for(new_layout.size, lane));
    if (to.limit() == from.limit()) {
      return from.resize(block, bytes, keep, needed, align, operation);
    }
    // Another bucket always means a move.
    Allocation moved = to.allocate(needed, align, false, operation);
    if (moved.ptr == nullptr) return moved;
    std::memcpy(moved.ptr, pointer, keep);
    from.deallocate(block, operation);
    return moved;
  }

  BucketStorage* storage_;
  std::size_t count_;
  std::size_t own_region_from_;
};

}  // namespace

Engine::Engine(BucketStorage* buckets, const std::size_t* limits,
               std::size_t count, Options options) noexcept
    : buckets_(buckets), count_(count) {
  for (std::size_t i = 0; i <= count; ++i) {
    std::size_t limit = i < count ? limits[i] : SIZE_MAX;
    new (buckets[i].raw) Bucket(limit, static_cast<std::uint8_t>(i), options);
  }
}

Engine::~Engine() {
  for (std::size_t i = 0; i <= count_; ++i) bucket_at(buckets_, i).~Bucket();
}

Allocation Engine::allocate(Layout layout, bool zeroed) noexcept {
  return Buckets(buckets_, count_).allocate(layout, zeroed, 0, "allocate");
}

std::size_t Engine::deallocate(void* pointer) noexcept {
  return Buckets(buckets_, count_).deallocate(pointer, "deallocate");
}

Allocation Engine::grow(void* pointer, Layout old_layout, Layout new_layout,
                        bool zeroed) noexcept {
  return Buckets(buckets_, count_)
      .grow(pointer, old_layout, new_layout, zeroed, 0, "grow");
}

Allocation Engine::shrink(void* pointer, Layout old_layout,
                          Layout new_layout) noexcept {
  return Buckets(buckets_, count_)
      .shrink(pointer, old_layout, new_layout, 0, "shrink");
}

std::size_t Engine::usable_size(const void* pointer) const noexcept {
  return Buckets(buckets_, count_).usable_size(pointer, "usable_size");
}

BucketStats Engine::stats(std::size_t bucket) const noexcept {
  return bucket_at(buckets_, bucket).stats();
}

std::size_t Engine::trim() noexcept {
  std::size_t released = 0;
  for (std::size_t i = 0; i <= count_; ++i) {
    released += bucket_at(buckets_, i).trim();
  }
  return released;
}

std::size_t Engine::trim_unused() noexcept {
  std::size_t released = 0;
  for (std::size_t i = 0; i <= count_; ++i) {
    released += bucket_at(buckets_, i).trim_unused();
  }
  return released;
}

}  // namespace rulloc::detail

namespace rulloc::core {

using detail::Buckets;

Allocation LanedEngine::allocate(Layout layout, bool zeroed, std::size_t lane,
                                 const char* operation) noexcept {
  return Buckets(buckets_, count_, own_region_from())
      .allocate(layout, zeroed, lane, operation);
}

std::size_t LanedEngine::deallocate(void* pointer,
                                    const char* operation) noexcept {
  return Buckets(buckets_, count_).deallocate(pointer, operation);
}

Allocation LanedEngine::reallocate(void* pointer, Layout old_layout,
                                   Layout new_layout, std::size_t lane,
                                   const char* operation) noexcept {
  const Buckets buckets(buckets_, count_, own_region_from());
  return new_layout.size >= old_layout.size
             ? buckets.grow(pointer, old_layout, new_layout, false, lane,
                            operation)
             : buckets.shrink(pointer, old_layout, new_layout, lane, operation);
}

std::size_t LanedEngine::usable_size(const void* pointer,
                                     const char* operation) const noexcept {
  return Buckets(buckets_, count_).usable_size(pointer, operation);
}

std::size_t LanedEngine::limit_for(std::size_t size) const noexcept {
  const Buckets buckets(buckets_, count_, own_region_from());
  return buckets.at(buckets.bucket_for(size, 0)).limit();
}

// A lock per bucket taken in a loop: the analysis cannot follow it.
void LanedEngine::lock_all() noexcept RULLOC_NO_LOCK_ANALYSIS {
  const Buckets buckets(buckets_, count_);
  for (std::size_t i = 0; i <= count_; ++i) buckets.at(i).lock();
}

void LanedEngine::unlock_all() noexcept RULLOC_NO_LOCK_ANALYSIS {
  const Buckets buckets(buckets_, count_);
  for (std::size_t i = count_ + 1; i-- > 0;) buckets.at(i).unlock();
}

}  // namespace rulloc::core
