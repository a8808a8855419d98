// operator new's failure path in librulloc.so, which links no C++ runtime:
// a C program that preloads it then maps neither libstdc++ nor libm (about
// 1.3 MB of resident memory, and their relocation at every start). Code
// that calls operator new has a C++ runtime loaded, for the program or for
// the library that code is in (opened with a scope of its own, as Python
// opens extension modules), so on the rare path where the heap fails that
// runtime is found by name, each time (it could have been unloaded since):
//
//   std::get_new_handler()      _ZSt15get_new_handlerv   (its new_handler)
//   std::__throw_bad_alloc()    _ZSt17__throw_bad_allocv (its bad_alloc)
//   operator new(size, nothrow) _ZnwmRKSt9nothrow_t      (its try block)
//
// libstdc++ and libc++ both define these. The last one catches what the
// handler throws for the nothrow forms: the runtime's nothrow new calls the
// throwing ::operator new (rulloc's, override/new.cpp) inside a try block
// and returns nullptr on any exception. The library is built without
// exceptions but with unwind tables, so a std::bad_alloc thrown from a
// handler or from the runtime unwinds through its frames to the catch.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <type_traits>

#include "heap/process_heap.hpp"
#include "override/new_failure.hpp"
#include "platform/platform.hpp"

namespace rulloc::override_layer::new_failure {
namespace {

// The mangled names spell std::size_t as `m` (unsigned long) or `j`.
constexpr bool kSizeIsLong = std::is_same_v<std::size_t, unsigned long>;
constexpr const char* kNothrowNew =
    kSizeIsLong ? "_ZnwmRKSt9nothrow_t" : "_ZnwjRKSt9nothrow_t";
constexpr const char* kAlignedNothrowNew =
    kSizeIsLong ? "_ZnwmSt11align_val_tRKSt9nothrow_t"
                : "_ZnwjSt11align_val_tRKSt9nothrow_t";

// The function `name` of the C++ runtime the process has loaded (GCC's,
// else LLVM's), as a `Function`; nullptr when none is loaded.
template <class Function>
Function runtime_function(const char* name) noexcept {
  for (const char* library : {"libstdc++.so.6", "libc++.so.1"}) {
    if (void* found = platform::loaded_library_symbol(library, name)) {
      return reinterpret_cast<Function>(found);
    }
  }
  return nullptr;
}

}  // namespace

std::new_handler program_new_handler() noexcept {
  const auto get_new_handler =
      runtime_function<std::new_handler (*)()>("_ZSt15get_new_handlerv");
  return get_new_handler != nullptr ? get_new_handler() : nullptr;
}

void throw_bad_alloc() {
  const auto runtime_throw =
      runtime_function<void (*)()>("_ZSt17__throw_bad_allocv");
  if (runtime_throw != nullptr) runtime_throw();
  // Not reached from C++ code: its runtime is loaded.
  const char* message =
      "rulloc: operator new: out of memory, and no C++ runtime loaded to "
      "throw std::bad_alloc\n";
  platform::write_error(message, std::strlen(message));
  std::abort();
}

void* throwing_new_caught(std::size_t size, std::size_t align) noexcept {
  const std::nothrow_t tag{};  // std::nothrow is the C++ library's object
  if (align <= heap::kMallocAlign) {
    const auto runtime_new =
        runtime_function<void* (*)(std::size_t, const std::nothrow_t&)>(
            kNothrowNew);
    return runtime_new != nullptr ? runtime_new(size, tag) : nullptr;
  }
  const auto runtime_new =
      runtime_function<void* (*)(std::size_t, std::align_val_t,
                                 const std::nothrow_t&)>(kAlignedNothrowNew);
  return runtime_new != nullptr
             ? runtime_new(size, std::align_val_t{align}, tag)
             : nullptr;
}

}  // namespace rulloc::override_layer::new_failure
