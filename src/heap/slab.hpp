// Slabs hold small blocks of one size class, without per-block headers:
// everything about a block is found from its address. Slabs are carved from
// segments, 4 MiB mappings aligned to 4 MiB, whose first slab holds the
// descriptors of all of them.
//
//   segment (4 MiB, aligned to 4 MiB)
//   +---------------+------------+------------+-----+------------+
//   | header        | slab 1     | slab 2     | ... | slab 63    |
//   | shapes, state | class 48 B | (free)     |     | class 1 KiB|
//   +---------------+------------+------------+-----+------------+
//   slab 1 (64 KiB, aligned to 64 KiB)
//   +------+------+------+------+---------------------+------+
//   | 48 B | 48 B | 48 B | 48 B |         ...         | tail |
//   +------+------+------+------+---------------------+------+
//
// From a pointer p: segment = p rounded down to 4 MiB, slab = bits 16..21
// of p; whether p starts a block is a multiply (SlabShape::multiple_test).
// A process-wide bitmap, one bit per 4 MiB of address space, says which
// addresses belong to segments, so any pointer can be classified safely.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "base/misuse.hpp"
#include "heap/free_block.hpp"
#include "heap/secure.hpp"

namespace rulloc::heap {

inline constexpr std::size_t kSlabShift = 16;
inline constexpr std::size_t kSlabBytes = std::size_t{1} << kSlabShift;
inline constexpr std::size_t kSegmentShift = 22;
inline constexpr std::size_t kSegmentBytes = std::size_t{1} << kSegmentShift;
inline constexpr std::size_t kSlabsPerSegment = kSegmentBytes / kSlabBytes;
// User-space addresses on x86-64 and AArch64 (4-level page tables).
inline constexpr std::size_t kAddressBits = 47;

// What a slab holds: set when the slab is taken for a class, read by every
// free. Kept apart from the slab's changing state (below), so frees on one
// core do not miss the cache each time another core's pool updates a slab.
struct SlabShape {
  // ceil(2^64 / block_size): an offset into the slab is a multiple of the
  // block size exactly when offset * multiple_test, modulo 2^64, is below
  // it (a multiply and a compare, no divide); 0 while the slab is not in
  // use, so that no offset passes.
  std::uint64_t multiple_test;
  std::uint16_t block_size;  // 0 while the slab is not in use
  std::uint16_t last_block;  // the offset of its last block
  std::uint16_t capacity;    // blocks that fit; 0 while not in use
  std::uint8_t size_class;
  std::uint8_t lane;  // whose pool the slab is in (class_pool.hpp)
};

static_assert(sizeof(SlabShape) == 16, "a shape's index is a shift");

// SlabShape::multiple_test of a block size (at least 2): ceil(2^64 / size).
constexpr std::uint64_t multiple_test(std::size_t size) noexcept {
  return ~std::uint64_t{0} / size + 1;
}

// A slab's state, changed only under its class pool's lock.
struct Slab {
  FreeBlock* free;  // blocks given back and not handed out again
  Slab* next;       // in its class pool's list of slabs with room
  Slab* prev;
  std::uint16_t carved;  // blocks cut from the untouched end so far
  std::uint16_t used;    // blocks out with threads or the program
  // Where the last block of `free` lies in the slab (while `free` is not
  // empty): whole lists are handed out and joined without walking them.
  std::uint16_t free_tail;
  bool listed;             // in its pool's list
  std::uint32_t freed_at;  // while free and not purged: the purge epoch
};

struct Segment {
  // Index 0 describes the header itself: never used.
  SlabShape shapes[kSlabsPerSegment];
  Slab slabs[kSlabsPerSegment];
  Segment* next;  // in the list of segments with free slabs
  Segment* prev;
  std::uint64_t free_slabs;   // bit i: slab i is not in use
  std::uint64_t dirty_slabs;  // bit i: free, but its pages are not purged
  bool open;                  // in the list of segments with free slabs
  Segment* older;             // every segment, newest first (never unlinked)
};

static_assert(sizeof(Segment) <= 4096, "the header fits in one page");

inline std::atomic<std::uint64_t>
    segment_map[(std::size_t{1} << (kAddressBits - kSegmentShift)) / 64];

inline Segment* segment_of(const void* pointer) noexcept {
  return reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(pointer) &
                                    ~(kSegmentBytes - 1));
}

inline std::size_t slab_index(const void* pointer) noexcept {
  return (reinterpret_cast<std::uintptr_t>(pointer) >> kSlabShift) %
         kSlabsPerSegment;
}

// Whether `pointer` lies in a segment (else it may be a block of the
// engine, or foreign).
inline bool in_segment(const void* pointer) noexcept {
  const std::uintptr_t index =
      reinterpret_cast<std::uintptr_t>(pointer) >> kSegmentShift;
  if (index >= (std::uintptr_t{1} << (kAddressBits - kSegmentShift))) {
    return false;
  }
  const std::uint64_t word =
      segment_map[index / 64].load(std::memory_order_relaxed);
  return ((word >> (index % 64)) & 1) != 0;
}

// The shape of the slab holding `pointer`, which lies in a segment.
inline const SlabShape& shape_in_segment(const void* pointer) noexcept {
  return segment_of(pointer)->shapes[slab_index(pointer)];
}

// The shape of the slab holding `pointer`, or nullptr when `pointer` lies
// in no segment.
inline const SlabShape* shape_of(const void* pointer) noexcept {
  return in_segment(pointer) ? &shape_in_segment(pointer) : nullptr;
}

// The state of the slab holding `pointer`, which must lie in a segment.
inline Slab* slab_of(const void* pointer) noexcept {
  return &segment_of(pointer)->slabs[slab_index(pointer)];
}

inline SlabShape& slab_shape(const Slab* slab) noexcept {
  Segment* segment = segment_of(slab);
  return segment->shapes[static_cast<std::size_t>(slab - segment->slabs)];
}

inline std::byte* slab_start(const Slab* slab) noexcept {
  Segment* segment = segment_of(slab);
  const auto index = static_cast<std::size_t>(slab - segment->slabs);
  return reinterpret_cast<std::byte*>(segment) + (index << kSlabShift);
}

inline FreeBlock* free_tail_of(const Slab* slab) noexcept {
  return reinterpret_cast<FreeBlock*>(slab_start(slab) + slab->free_tail);
}

inline void set_free_tail(Slab* slab, const FreeBlock* block) noexcept {
  slab->free_tail = static_cast<std::uint16_t>(
      reinterpret_cast<std::uintptr_t>(block) & (kSlabBytes - 1));
}

// True when `pointer` is the start of a block of a slab of this shape (a
// slab not in use has capacity 0, so nothing is).
inline bool is_block_start(const SlabShape& shape,
                           const void* pointer) noexcept {
  const std::uint64_t offset =
      reinterpret_cast<std::uintptr_t>(pointer) & (kSlabBytes - 1);
  return offset * shape.multiple_test < shape.multiple_test &&
         offset <= shape.last_block;
}

// Free-list links. In secure mode a link is stored XORed with a secret and
// its own address, so an overflow or a write after free cannot plant a
// chosen pointer, and a link is checked before it is followed: it must
// lead to a 16-byte boundary of a slab, below its guard page, so reading
// the block it names is safe. Whether that block is a free block is its
// canary's to say (check_untouched), and every write through a followed
// link comes after that check: a pop's, or the walks of the slow paths.
// The secret is one per process, kept in a line that nothing writes (a key
// in each segment's header shared its line with slab state that other
// threads write).
inline std::uintptr_t link_mask(const FreeBlock* block) noexcept {
  return free_list_secret ^ reinterpret_cast<std::uintptr_t>(block);
}

// Secure mode: the last offset in a slab at which a followed link may
// land, its two words below the guard page. Set with the secrets, once the
// page size is known; until then (private test instances) 4 KiB pages.
inline std::uintptr_t slab_link_limit = kSlabBytes - 4096 - sizeof(FreeBlock);

// Secure mode: a free block whose canary changed was written after free
// (or is no free block: a corrupted link led to it). Called on every block
// reached through a link before anything writes to it; plain builds check
// nothing here.
inline void check_untouched(const FreeBlock* block) noexcept {
  if constexpr (kSecure) {
    if (!looks_free(block)) [[unlikely]] {
      base::report_misuse("malloc", block, "free block written after free");
    }
  }
}

[[gnu::always_inline]] inline FreeBlock* next_of(
    const FreeBlock* block) noexcept {
  if constexpr (!kSecure) {
    return reinterpret_cast<FreeBlock*>(block->link);
  } else {
    const std::uintptr_t next = block->link ^ link_mask(block);
    auto* pointer = reinterpret_cast<FreeBlock*>(next);
    if (pointer != nullptr) {
      const std::uintptr_t offset = next & (kSlabBytes - 1);
      if (!in_segment(pointer) || (offset & 15) != 0 ||
          offset > slab_link_limit) [[unlikely]] {
        base::report_misuse("malloc", block,
                            "free list corrupted (written after free?)");
      }
    }
    return pointer;
  }
}

inline void set_next(FreeBlock* block, FreeBlock* next) noexcept {
  auto link = reinterpret_cast<std::uintptr_t>(next);
  if constexpr (kSecure) {
    link ^= link_mask(block);
  }
  block->link = link;
}

}  // namespace rulloc::heap
