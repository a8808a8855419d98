// operator new's failure path with the C++ runtime linked in (librulloc-
// malloc.a, on Linux and Windows): the standard library's own calls.
#include <cstddef>
#include <new>

#include "heap/process_heap.hpp"
#include "override/new_failure.hpp"

namespace rulloc::override_layer::new_failure {

std::new_handler program_new_handler() noexcept {
  return std::get_new_handler();
}

void throw_bad_alloc() { throw std::bad_alloc(); }

void* throwing_new_caught(std::size_t size, std::size_t align) noexcept {
  try {
    if (align <= heap::kMallocAlign) return ::operator new(size);
    return ::operator new (size, std::align_val_t{align});
  } catch (...) {
    return nullptr;
  }
}

}  // namespace rulloc::override_layer::new_failure
