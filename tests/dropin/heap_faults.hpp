// Test-only faults in the process heap, compiled only into the tests that
// include this header (check_test.cpp): each breaks one invariant that
// rulloc_check() must report, and can put it back. Call them while no other
// thread uses the blocks' class (the slab's pool lock is not taken).
#pragma once

#include <cstdint>

#include "heap/slab.hpp"

namespace rulloc::test_faults {

// Adds `delta` to the count of blocks in use of the slab holding `block`
// (a block of a slab in use): free + used no longer equals carved.
inline void shift_slab_count(void* block, int delta) {
  heap::Slab* slab = heap::slab_of(block);
  slab->used = static_cast<std::uint16_t>(slab->used + delta);
}

// Makes the free list of the slab holding `block` (whose first free block
// it must be) lead back to itself: a cycle. Returns the link it replaced.
inline std::uintptr_t loop_slab_free_list(void* block) {
  heap::Slab* slab = heap::slab_of(block);
  heap::FreeBlock* first = slab->free;
  const std::uintptr_t old = first->link;
  heap::set_next(first, first);
  return old;
}

inline void restore_link(void* block, std::uintptr_t link) {
  heap::slab_of(block)->free->link = link;
}

}  // namespace rulloc::test_faults
