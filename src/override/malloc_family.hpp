// The malloc family's checks and errno, shared by malloc and friends
// (malloc.cpp) and by the same calls under rulloc's names (rulloc_malloc.cpp,
// for programs that keep their C library's malloc).
#pragma once

#include <errno.h>
#include <stddef.h>

#include "heap/process_heap.hpp"

namespace rulloc::override_layer {

// The heap sets errno to ENOMEM when it fails: nothing is left to do
// after it, so malloc's fast path ends in it and its slow paths are tail
// calls.
[[gnu::always_inline]] inline void* allocate_or_enomem(size_t size,
                                                       size_t align,
                                                       bool zeroed) noexcept {
  return heap::allocate(size, align, zeroed);
}

inline bool multiply_overflows(size_t a, size_t b, size_t* product) noexcept {
  return __builtin_mul_overflow(a, b, product);
}

inline void* calloc_or_enomem(size_t count, size_t size) noexcept {
  size_t total;
  if (multiply_overflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return allocate_or_enomem(total, heap::kMallocAlign, true);
}

// realloc() of a block of rulloc's (or nullptr).
inline void* reallocate_or_enomem(void* pointer, size_t size) noexcept {
  if (pointer == nullptr) {
    return allocate_or_enomem(size, heap::kMallocAlign, false);
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
