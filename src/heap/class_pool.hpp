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
#pragma once

#include <cstddef>

#include "base/text.hpp"
#include "heap/free_block.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {

inline constexpr std::size_t kLanes = 4;

// Chains up to `count` free blocks of `size_class` from `lane`'s pool (each
// carrying its canary) into `*head` and returns how many; 0 when no memory
// is left.
std::size_t pool_take(std::size_t lane, std::size_t size_class,
                      std::size_t count, FreeBlock** head) noexcept;
// Gives back a chain of blocks (ending in nullptr) that carry their
// canaries, each to the pool of its slab: any classes, any lanes.
void pool_give(FreeBlock* head) noexcept;
// Gives the empty slabs each pool keeps back to the segments.
void pool_trim() noexcept;

// Held across fork().
void lock_pools() noexcept;
void unlock_pools() noexcept;

// The live heap, on demand (heap/inspect.cpp). Each takes one pool lock at
// a time, only for the slabs that pool owns.
//
// Checks every pool's list: each slab listed is of the pool's class and
// lane, linked both ways, its own state sound (see look_at_slab), and the
// empty ones counted. False and the first violation written to `error`.
bool check_pools(base::Text& error) noexcept;
// One slab seen from segments' view (`shape`, copied under their lock),
// under the lock of the pool that shape names, once the segments' lock
// confirms the slab still has it: its counts within its capacity, its free
// list inside it at carved block starts, each once and carrying the free
// canary (encoded links decoded as in secure mode), free + used = carved,
// listed exactly when it has room. With `try_only`, no lock is waited for.
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
SlabLook look_at_slab(const Slab* slab, const SlabShape& shape, bool try_only,
                      SlabFigures* figures, base::Text* error) noexcept;

}  // namespace rulloc::heap
