// A free small block: the first word links it to the next free block, the
// second holds a canary that only free blocks carry. A free() that finds the
// canary in place is a double free; allocation wipes it. The link is read
// and written through next_of() / set_next() (slab.hpp), which encode it in
// secure mode.
//
//   +-----------+-------------------+--------------------
//   | next      | secret ^ address  | (old contents)
//   +-----------+-------------------+--------------------
//    8 bytes     8 bytes
#pragma once

#include <cstdint>

namespace rulloc::heap {

struct FreeBlock {
  std::uintptr_t link;  // the next free block, maybe encoded
  std::uintptr_t canary;
};

// Random per process (set once when the heap is built), so no program
// writes the canary by chance and no attacker can predict it.
inline std::uintptr_t free_block_secret = 0;
// Secure mode: what free-list links are encoded with (slab.hpp), random
// per process and apart from the canary's secret.
inline std::uintptr_t free_list_secret = 0;

inline std::uintptr_t canary_of(const FreeBlock* block) noexcept {
  return free_block_secret ^ reinterpret_cast<std::uintptr_t>(block);
}

inline bool looks_free(const FreeBlock* block) noexcept {
  return block->canary == canary_of(block);
}

}  // namespace rulloc::heap
