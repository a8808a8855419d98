// Test-only faults in the process heap, compiled only into the tests that
// include this header (check_test.cpp): each breaks one invariant that
// rulloc_check() must report, and can put it back. Call them while no other
// thread uses the blocks' class (the slab's pool lock is not taken); the
// cache's from the thread that owns it.
#pragma once

#include <cstdint>

#include "heap/inspect.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"

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

// Wipes the canary of the first block in the calling thread's cache of
// `size_class` (which must hold one): a block that is no free block.
// Returns the canary for restore_cached_block().
inline std::uintptr_t break_cached_block(std::size_t size_class) {
  heap::FreeBlock* block =
      heap::heap_parts().own_cache.classes[size_class].head;
  const std::uintptr_t canary = block->canary;
  block->canary = 0;
  return canary;
}

inline void restore_cached_block(std::size_t size_class,
                                 std::uintptr_t canary) {
  heap::heap_parts().own_cache.classes[size_class].head->canary = canary;
}

}  // namespace rulloc::test_faults
