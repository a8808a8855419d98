// Pools of slabs, one per size class and lane: the slabs of the class that
// have room, under one lock. Each thread takes blocks from the pools of its
// lane (thread_cache.hpp), so threads of different lanes never hand out
// blocks of the same slab: no two of them write to neighbouring blocks
// (false sharing), and they rarely meet on a lock. Thread caches take
// blocks in batches and give them back in batches; a block goes back to its
// own slab, in its own lane's pool, wherever it was freed.
//
//   lane 0, class 48 B:  slab -> slab -> slab   (each with free blocks)
//   lane 1, class 48 B:  slab
//                          |
//   slab: free -> block -> block -> block        carved: 812 of 1365
//
// An empty slab a pool keeps is lent to any pool that needs a new slab
// when the segments have no free slab with its pages left: a class then
// reuses the pages another class emptied instead of touching fresh ones.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "base/spin_lock.hpp"
#include "base/text.hpp"
#include "heap/free_block.hpp"
#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {

// Pools (and their storage) exist for this many lanes; a ClassPools uses
// the first PoolsConfig::lanes of them.
inline constexpr std::size_t kMaxLanes = 16;

struct PoolsConfig {
  std::size_t lanes = 1;  // 1 to kMaxLanes
  // Empty slabs a pool keeps, so a loop that allocates and frees a batch
  // does not take and give back a slab every time (until trim(), or until
  // another pool needs them).
  std::size_t keep_empty = 1;
};

// The pool of one class and lane.
struct alignas(64) ClassPool {
  base::SpinLock lock;
  // Slabs with free or uncarved blocks (their lists and counts too).
  Slab* with_room RULLOC_GUARDED_BY(lock) = nullptr;
  // Listed slabs with no block in use.
  std::size_t empty RULLOC_GUARDED_BY(lock) = 0;
  // Secure mode's carving order (0: unseeded).
  std::uint64_t random_state RULLOC_GUARDED_BY(lock) = 0;
};

// Consecutive blocks of one slab in a chain given back, their slab and its
// pool.
struct BlockRun {
  FreeBlock* head;
  FreeBlock* tail;
  std::size_t count;
  Slab* slab;
  ClassPool* pool;
};

// For the live heap's look at one slab (ClassPools::look_at_slab).
struct SlabFigures {
  std::size_t used, carved, free;
  bool listed;
};
enum class SlabLook {
  kSeen,    // sound; `figures` filled
  kGone,    // given back or taken again since the shape was copied
  kBusy,    // a lock was held (try_only)
  kBroken,  // a violation, written to `error`
};

class ClassPools {
 public:
  ClassPools(Segments& segments, PoolsConfig config) noexcept;
  ClassPools(const ClassPools&) = delete;
  ClassPools& operator=(const ClassPools&) = delete;

  std::size_t lanes() const noexcept { return lanes_; }
  Segments& segments() const noexcept { return segments_; }

  // Chains 1 to `most` free blocks of `size_class` from `lane`'s pool
  // (each carrying its canary) into `*head` and returns how many; 0 when no
  // memory is left. Blocks given back come first, each slab's free list
  // handed out as it is (whole while it fits in `most`: no block is read or
  // written but the two ends); only when no listed slab has any left are
  // fresh blocks carved, up to `carve` (1 to `most`) in all.
  std::size_t take(std::size_t lane, std::size_t size_class, std::size_t carve,
                   std::size_t most, FreeBlock** head) noexcept;
  // Exactly `count` blocks, fewer only when no memory is left.
  std::size_t take(std::size_t lane, std::size_t size_class, std::size_t count,
                   FreeBlock** head) noexcept {
    return take(lane, size_class, count, count, head);
  }
  // Gives back a chain of blocks (ending in nullptr) that carry their
  // canaries, each to the pool of its slab: any classes, any lanes. The
  // chain is cut into runs of one slab before any lock is taken; each run
  // joins its slab's free list in one step.
  void give(FreeBlock* head) noexcept;
  // Gives the empty slabs each pool keeps back to the segments (nothing to
  // do, and no lock taken, when none is kept).
  void trim() noexcept;
  // Empty slabs the pools keep, all together.
  std::size_t kept_empty() const noexcept {
    return kept_empty_.load(std::memory_order_relaxed);
  }

  // Held across fork().
  void lock_all() noexcept;
  void unlock_all() noexcept;

  // The live heap, on demand (heap/inspect.cpp). Each takes one pool lock
  // at a time, only for the slabs that pool owns.
  //
  // Checks every pool's list: each slab listed is of the pool's class and
  // lane, linked both ways, its own state sound (see look_at_slab), and
  // the empty ones counted. False and the first violation written to
  // `error`.
  bool check(base::Text& error) noexcept;
  // One slab seen from the segments' view (`shape`, copied under their
  // lock), under the lock of the pool that shape names, once the segments'
  // lock confirms the slab still has it: its counts within its capacity,
  // its free list inside it at carved block starts, each once and carrying
  // the free canary (encoded links decoded as in secure mode), free + used
  // = carved, listed exactly when it has room. With `try_only`, no lock is
  // waited for.
  SlabLook look_at_slab(const Slab* slab, const SlabShape& shape, bool try_only,
                        SlabFigures* figures, base::Text* error) noexcept;

 private:
  std::size_t cut_runs(FreeBlock** head, BlockRun* runs,
                       std::size_t most) noexcept;
  void give_run(ClassPool& pool, const BlockRun& run) noexcept
      RULLOC_REQUIRES(pool.lock);
  void hand_out(ClassPool& pool, Slab* slab, std::size_t n) noexcept
      RULLOC_REQUIRES(pool.lock);
  void count_empty(ClassPool& pool, bool more) noexcept
      RULLOC_REQUIRES(pool.lock);
  Slab* new_slab(std::size_t size_class, std::size_t lane,
                 const ClassPool& asking) noexcept;
  std::size_t give_back_empty(ClassPool& pool, std::size_t most) noexcept
      RULLOC_REQUIRES(pool.lock);
  void lend_kept_slab(const ClassPool& asking) noexcept;

  Segments& segments_;
  const std::size_t lanes_;
  const std::size_t keep_empty_;
  // The sum of every pool's `empty`: whether any slab can be lent.
  std::atomic<std::size_t> kept_empty_{0};
  // Storage for every lane, built only for the lanes in use: the pools of
  // the others are never written, so their pages stay untouched (a heap of
  // 2 lanes of 16 would otherwise make 39 KiB of zeros resident).
  using LanePools = ClassPool[kClassCount];
  LanePools& pools_of(std::size_t lane) noexcept {
    return *std::launder(reinterpret_cast<LanePools*>(lane_storage_[lane]));
  }
  alignas(ClassPool) unsigned char lane_storage_[kMaxLanes][sizeof(LanePools)];
};

}  // namespace rulloc::heap
