// The malloc family's checks and errno (the heap sets ENOMEM when memory
// runs out; these set it for what they refuse themselves), shared by malloc and
// friends (malloc.cpp) and by the same calls under rulloc's names
// (rulloc_malloc.cpp, for programs that keep their C library's malloc).
#pragma once

#include <errno.h>
#include <stddef.h>

#include "heap/process_heap.hpp"

namespace rulloc::override_layer {

inline bool multiply_overflows(size_t a, size_t b, size_t* product) noexcept {
  return __builtin_mul_overflow(a, b, product);
}

inline void* calloc_or_enomem(size_t count, size_t size) noexcept {
  size_t total;
  if (multiply_overflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return heap::allocate(total, heap::kMallocAlign, true);
}

// realloc() of a block of rulloc's (or nullptr).
inline void* reallocate_or_enomem(void* pointer, size_t size) noexcept {
  if (pointer == nullptr) {
    return heap::allocate(size, heap::kMallocAlign, false);
  }
  if (size == 0) {  // glibc frees and returns NULL
    heap::release(pointer);
    return nullptr;
  }
  void* moved = heap::reallocate(pointer, size);
  if (moved == nullptr) errno = ENOMEM;
  return moved;
}

}  // namespace rulloc::override_layer
