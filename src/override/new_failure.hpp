// What operator new needs from the C++ runtime once the heap has no block:
// the program's new_handler, a std::bad_alloc thrown, and the throwing form
// called with whatever it throws caught (for the nothrow forms, since the
// handler may throw). Two implementations: new_failure_static.cpp, for
// librulloc-malloc.a, linked into a program with its C++ runtime;
// new_failure_shared.cpp, for librulloc.so, which links no C++ runtime (a C
// program that preloads it loads none) and finds the program's when needed.
#pragma once

#include <cstddef>
#include <new>

namespace rulloc::override_layer::new_failure {

// std::get_new_handler() of the program; nullptr when it has none.
std::new_handler program_new_handler() noexcept;

// Throws std::bad_alloc, as the program's C++ runtime defines it.
[[noreturn]] void throw_bad_alloc();

// ::operator new(size) (align <= heap::kMallocAlign) or ::operator
// new(size, align), inside a try block: nullptr when it throws.
void* throwing_new_caught(std::size_t size, std::size_t align) noexcept;

}  // namespace rulloc::override_layer::new_failure
