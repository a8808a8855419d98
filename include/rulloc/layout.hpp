// Plain value types shared by every rulloc API.
#pragma once

#include <cstddef>

namespace rulloc {

// What a caller asks for: `size` bytes aligned to `align` (a power of two).
struct Layout {
  std::size_t size;
  std::size_t align;
};

// What a caller gets: `size` is the usable size, >= the requested size.
// {nullptr, 0} means failure; the heap is unchanged then.
struct Allocation {
  void* ptr;
  std::size_t size;
};

// A snapshot of one bucket. The dynamic bucket has limit SIZE_MAX.
struct BucketStats {
  std::size_t limit;
  std::size_t regions;
  std::size_t blocks;
  std::size_t free_blocks;
  std::size_t mapped_bytes;
};

// Knobs of an allocator instance. The defaults reproduce the original design.
struct Options {
  // Empty regions a bucket keeps mapped for reuse instead of unmapping them
  // at once (0: unmap at once, as the original did).
  std::size_t keep_empty_regions = 0;
  // Smallest mapping for a region of a fixed bucket (0: exactly what the
  // original maps). Larger regions mean fewer system calls and mappings.
  std::size_t min_region_bytes = 0;
  // Bin each free list by size (best fit among the first few of a bin, then
  // of the next larger bin) instead of the original single first-fit list.
  // Off: the original.
  bool segregated_free_lists = false;
  // Bytes of emptied regions the dynamic bucket keeps mapped (their pages
  // still resident) for later large blocks, instead of unmapping them at
  // once (0: unmap at once, as the original did). A region too large for
  // the cap goes the usual way; trim() gives the whole cache back.
  std::size_t large_cache_bytes = 0;
  // How long a cached region waits for reuse before it is unmapped. Ages
  // are checked when the dynamic bucket next caches or looks for a region,
  // and by trim_unused(); trim() gives the whole cache back.
  std::size_t large_cache_ms = 1000;
  // Grow a large block alone in its region by resizing the mapping (mremap
  // on Linux; no copy, no new page faults for the old pages) instead of
  // allocating, copying and freeing; with large_cache_bytes, also resize a
  // cached region to fit a request. Off: the original's move.
  bool remap_large_regions = false;
  // A fixed bucket's regions hold at least this many blocks of its limit
  // (0: no such floor, as the original). With a large limit, big blocks
  // then share regions: freed ones merge and their pages are reused by
  // the next, without new mappings or page faults.
  std::size_t region_blocks = 0;
};

}  // namespace rulloc
