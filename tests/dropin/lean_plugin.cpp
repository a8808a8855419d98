// The C++ library that lean.c opens with RTLD_LOCAL: its operator new is
// librulloc.so's (preloaded, first in the global scope), whose failure path
// must find this library's C++ runtime although the program's global scope
// has none: the new_handler called, std::bad_alloc thrown and caught here,
// nullptr from the nothrow forms even when the handler throws.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <new>

#include "throws_bad_alloc.hpp"

namespace {

int failures = 0;
int handler_calls = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "lean_plugin: failed: %s\n", what);
  }
}

void* escape(void* p) {
  __asm__ volatile("" : "+r"(p) : : "memory");
  return p;
}

volatile std::size_t huge = SIZE_MAX;

void give_up_handler() {
  ++handler_calls;
  std::set_new_handler(nullptr);
}
void throwing_handler() {
  ++handler_calls;
  throw std::bad_alloc();
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int lean_plugin_run() {
  int* value = new int(7);
  check(value != nullptr && *value == 7, "new int");
  delete value;

  check(throws_bad_alloc([] { escape(::operator new(huge)); }),
        "new(huge) throws bad_alloc without a handler");
  check(::operator new(huge, std::nothrow) == nullptr,
        "nothrow new(huge) is nullptr without a handler");

  handler_calls = 0;
  std::set_new_handler(give_up_handler);
  check(throws_bad_alloc([] { escape(::operator new(huge)); }),
        "new(huge) throws bad_alloc once the handler gives up");
  check(handler_calls == 1, "the handler ran once for new(huge)");

  handler_calls = 0;
  std::set_new_handler(throwing_handler);
  check(::operator new(huge, std::nothrow) == nullptr,
        "nothrow new(huge) is nullptr when the handler throws");
  check(::operator new[](huge, std::align_val_t{64}, std::nothrow) == nullptr,
        "aligned nothrow new[](huge) is nullptr when the handler throws");
  check(handler_calls == 2, "the throwing handler ran once per nothrow new");
  handler_calls = 0;
  check(throws_bad_alloc(
            [] { escape(::operator new (huge, std::align_val_t{256})); }),
        "aligned new(huge) passes the handler's bad_alloc on");
  check(handler_calls == 1, "the handler ran once for aligned new(huge)");
  std::set_new_handler(nullptr);
  return failures;
}
