// A bucket: the regions that serve one range of sizes, and the free list that
// spans them. Every public member takes the bucket's lock; the *_locked
// helpers expect it held.
//
//   bucket --> region <-> region <-> region        (regions_)
//                |           |
//              blocks      blocks                  (region->blocks)
//   free list: free block <-> free block <-> ...   (free_, across regions)
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/list.hpp"
#include "base/spin_lock.hpp"
#include "base/text.hpp"
#include "core/block.hpp"
#include "core/free_list.hpp"
#include "core/large_cache.hpp"
#include "core/region.hpp"
#include "rulloc/layout.hpp"

namespace rulloc::core {

class Bucket {
 public:
  // The dynamic bucket (limit SIZE_MAX) ignores options.min_region_bytes;
  // only it caches and remaps large regions.
  Bucket(std::size_t limit, std::uint8_t index, Options options) noexcept;
  ~Bucket();  // unmaps every region
  Bucket(const Bucket&) = delete;
  Bucket& operator=(const Bucket&) = delete;

  std::size_t limit() const noexcept { return limit_; }
  void lock() noexcept RULLOC_ACQUIRE(lock_) { lock_.lock(); }
  void unlock() noexcept RULLOC_RELEASE(lock_) { lock_.unlock(); }

  // `needed` is the content size from size_needed(); `align` >= 8.
  // `operation` names the caller's call in a report of a corrupted list.
  Allocation allocate(std::size_t needed, std::size_t align, bool zeroed,
                      const char* operation) noexcept;
  void deallocate(BlockHeader* block, const char* operation) noexcept;
  // Gives the block at `pointer` room for `needed` bytes at `align`, keeping
  // its first `keep` bytes: in place when the block or its free neighbours
  // allow, else by moving within this bucket. {nullptr, 0} leaves it as is.
  Allocation resize(BlockHeader* block, std::byte* pointer, std::size_t keep,
                    std::size_t needed, std::size_t align,
                    const char* operation) noexcept;

  // Unmaps every empty region (kept and cached ones included) and purges
  // the whole pages inside free blocks. Returns the bytes given back.
  std::size_t trim() noexcept;
  // Gives back what went unused since the last call: everything trim()
  // would, when nothing used the bucket meanwhile (once, until it is used
  // again); else the empty regions that were already empty at the last
  // call, cached regions past their age, and the pages of free blocks that
  // were already free then. Called now and then (the purger: every half
  // delay), it returns the memory of a busy program.
  std::size_t trim_unused() noexcept;

  BucketStats stats() const noexcept;
  // The checker and the map, without allocating (Rulloc<N>'s std::string
  // and std::ostream faces, core/inspect_std.cpp, are written in them; the
  // process heap's rulloc_check() and rulloc_dump() call them directly):
  // check() writes the first violation to `error`; dump() draws nothing and
  // returns false when `try_only` and the lock is held (a signal handler
  // must not wait).
  bool check(base::Text& error) const noexcept;
  bool dump(base::Text& out, bool try_only) const noexcept;
  // The bytes of the bucket's regions by what they hold, under its lock:
  // block contents in use and free, headers, cached regions (dynamic
  // bucket). mapped = used + free + headers + cached. `purged`: the part
  // of free and cached that is not resident (purged by trim(), or never
  // touched), as platform::resident_bytes() finds it.
  struct Account {
    std::size_t mapped, used, free, headers, cached, purged;
  };
  Account account() const noexcept;
  // Every region (cached ones last) and its blocks in address order, to
  // `visitor` under the lock, for the process heap's map (the purged part
  // of free blocks as account() finds it); false and nothing visited when
  // `try_only` and the lock is held.
  bool visit(RegionVisitor& visitor, bool try_only) const noexcept;

 private:
  Allocation allocate_locked(std::size_t needed, std::size_t align,
                             bool zeroed) noexcept RULLOC_REQUIRES(lock_);
  void deallocate_locked(BlockHeader* block) noexcept RULLOC_REQUIRES(lock_);
  BlockHeader* map_region(std::size_t needed) noexcept RULLOC_REQUIRES(lock_);
  BlockHeader* remap_alone(BlockHeader* block, std::size_t needed) noexcept
      RULLOC_REQUIRES(lock_);
  void release_region_if_empty(RegionHeader* region) noexcept
      RULLOC_REQUIRES(lock_);
  std::size_t purge_block(BlockHeader* block) noexcept RULLOC_REQUIRES(lock_);
  bool unmap_empty_region(RegionHeader* region) noexcept RULLOC_REQUIRES(lock_);
  std::size_t trim_locked() noexcept RULLOC_REQUIRES(lock_);
  std::size_t purge_stale_blocks() noexcept RULLOC_REQUIRES(lock_);
  std::size_t release_empty_regions(std::size_t emptied_before) noexcept
      RULLOC_REQUIRES(lock_);
  void split(BlockHeader* block, std::size_t needed, Pages rest_pages) noexcept
      RULLOC_REQUIRES(lock_);
  void absorb(BlockHeader* block, BlockHeader* next) noexcept
      RULLOC_REQUIRES(lock_);
  static Allocation place(BlockHeader* block, std::size_t align) noexcept;
  bool check_regions(base::Text& error, std::size_t* free_blocks) const noexcept
      RULLOC_REQUIRES(lock_);
  bool check_region_blocks(base::Text& error, RegionHeader* region,
                           std::size_t* free_blocks) const noexcept
      RULLOC_REQUIRES(lock_);
  bool check_free_list(base::Text& error,
                       std::size_t free_blocks) const noexcept
      RULLOC_REQUIRES(lock_);
  bool check_cache(base::Text& error) const noexcept RULLOC_REQUIRES(lock_);

  // Guards everything below it but the constants set at construction.
  mutable base::SpinLock lock_;
  base::LinkedList<RegionHeader> regions_ RULLOC_GUARDED_BY(lock_);
  FreeList free_ RULLOC_GUARDED_BY(lock_);
  LargeCache cache_ RULLOC_GUARDED_BY(lock_);  // dynamic bucket only
  std::size_t empty_regions_ RULLOC_GUARDED_BY(lock_) = 0;
  // For trim_unused(): calls that changed the bucket, as counted now and at
  // the last call; the calls so far (an empty region records the one it
  // emptied in); whether it trimmed and nothing used the bucket since.
  std::size_t uses_ RULLOC_GUARDED_BY(lock_) = 0;
  std::size_t uses_seen_ RULLOC_GUARDED_BY(lock_) = 0;
  std::size_t unused_rounds_ RULLOC_GUARDED_BY(lock_) = 0;
  bool trimmed_unused_ RULLOC_GUARDED_BY(lock_) = false;
  const std::size_t limit_;
  const std::size_t keep_empty_regions_;
  const std::size_t min_region_bytes_;
  const std::uint8_t index_;
  const bool remap_;  // dynamic bucket with Options::remap_large_regions
};

// The content size a layout needs: its size rounded up to 8, plus `align`
// when align > 8 (room to slide to an aligned address and keep a back
// pointer), at least kMinBlockSize. 0 when that overflows.
std::size_t size_needed(Layout layout) noexcept;

// Where a block's caller pointer lies for `align`: the content itself, or the
// next multiple of `align` strictly after it.
std::byte* aligned_position(BlockHeader* block, std::size_t align) noexcept;

}  // namespace rulloc::core
