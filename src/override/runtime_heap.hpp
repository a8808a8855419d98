// The C library's own definitions of the functions the override layer
// defines, and the blocks of the C runtime's own heap (Windows: see
// platform::kRuntimeHasOwnHeap). free(), realloc() and the size queries
// hand such a block to the runtime's function of the same name, where it
// stays; where the runtime has no heap of its own the check compiles away.
#pragma once

#include <atomic>

#include "base/misuse.hpp"
#include "heap/process_heap.hpp"
#include "platform/platform.hpp"

namespace rulloc::override_layer {

// The C library's definition of `name`, found once (platform::next_symbol).
template <class Function>
Function next_definition(std::atomic<Function>& cached,
                         const char* name) noexcept {
  Function found = cached.load(std::memory_order_acquire);
  if (found == nullptr) {
    found = reinterpret_cast<Function>(platform::next_symbol(name));
    cached.store(found, std::memory_order_release);
  }
  return found;
}

// Whether `pointer` (not nullptr) is a block of the C runtime's own heap.
inline bool is_runtime_block(const void* pointer) noexcept {
  if constexpr (!platform::kRuntimeHasOwnHeap) return false;
  return pointer != nullptr && !heap::owns(pointer);
}

// The runtime's own `name`, for a block of its heap; a program that somehow
// has no such runtime gets the report a foreign pointer gets.
template <class Function>
Function runtime_function(std::atomic<Function>& cached, const char* name,
                          const void* block) noexcept {
  const Function found = next_definition(cached, name);
  if (found == nullptr) {
    base::report_misuse(name, block, "not a pointer rulloc returned");
  }
  return found;
}

}  // namespace rulloc::override_layer
