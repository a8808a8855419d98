// One pool per size class, shared by all threads: the slabs of the class
// that have room, under one lock. Thread caches take blocks from a pool and
// give them back in batches, so the lock is taken once per batch, not once
// per block. A block goes back to its own slab, wherever it was freed.
//
//   pool of class 48 B:  slab -> slab -> slab   (each with free blocks)
//                          |
//   slab: free -> block -> block -> block        carved: 812 of 1365
#pragma once

#include <cstddef>

#include "heap/free_block.hpp"

namespace rulloc::heap {

// Chains up to `count` free blocks of `size_class` (each carrying its
// canary) into `*head` and returns how many; 0 when no memory is left.
std::size_t pool_take(std::size_t size_class, std::size_t count,
                      FreeBlock** head) noexcept;
// Gives back a chain of blocks of `size_class` (ending in nullptr) that
// carry their canaries.
void pool_give(std::size_t size_class, FreeBlock* head) noexcept;
// Gives the empty slabs each pool keeps back to the segments.
void pool_trim() noexcept;

// Held across fork().
void lock_pools() noexcept;
void unlock_pools() noexcept;

}  // namespace rulloc::heap
