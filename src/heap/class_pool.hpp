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

#include "heap/free_block.hpp"

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

}  // namespace rulloc::heap
