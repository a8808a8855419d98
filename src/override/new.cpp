// Every replaceable operator new and delete, over the process heap. The
// throwing forms follow the standard: call the new_handler until it gives up,
// then throw std::bad_alloc; the nothrow forms return nullptr instead.
// What the C++ runtime does for them comes from override/new_failure.hpp.
#include <cstddef>
#include <new>

#include "heap/process_heap.hpp"
#include "override/new_failure.hpp"

namespace {

using rulloc::heap::kMallocAlign;
namespace new_failure = rulloc::override_layer::new_failure;

// The heap has no block: the new_handler's loop, out of the fast path.
[[gnu::noinline, gnu::cold]] void* after_failure(std::size_t size,
                                                 std::size_t align) {
  for (;;) {
    const std::new_handler handler = new_failure::program_new_handler();
    if (handler == nullptr) new_failure::throw_bad_alloc();
    handler();
    void* pointer = rulloc::heap::allocate(size, align, false);
    if (pointer != nullptr) return pointer;
  }
}

void* new_or_throw(std::size_t size, std::size_t align) {
  void* pointer = rulloc::heap::allocate(size, align, false);
  if (pointer != nullptr) return pointer;
  return after_failure(size, align);
}

void* new_or_null(std::size_t size, std::size_t align) noexcept {
  void* pointer = rulloc::heap::allocate(size, align, false);
  if (pointer != nullptr) return pointer;
  if (new_failure::program_new_handler() == nullptr) return nullptr;
  // The handler may throw: the throwing form again, its exception caught.
  return new_failure::throwing_new_caught(size, align);
}

std::size_t alignment(std::align_val_t align) noexcept {
  return static_cast<std::size_t>(align);
}

}  // namespace

void* operator new(std::size_t size) {
  return new_or_throw(size, kMallocAlign);
}
void* operator new[](std::size_t size) {
  return new_or_throw(size, kMallocAlign);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, kMallocAlign);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, kMallocAlign);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return new_or_throw(size, alignment(align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return new_or_throw(size, alignment(align));
}
void* operator new(std::size_t size, std::align_val_t align,
                   const std::nothrow_t&) noexcept {
  return new_or_null(size, alignment(align));
}
void* operator new[](std::size_t size, std::align_val_t align,
                     const std::nothrow_t&) noexcept {
  return new_or_null(size, alignment(align));
}

void operator delete(void* p) noexcept { rulloc::heap::release(p); }
void operator delete[](void* p) noexcept { rulloc::heap::release(p); }
void operator delete(void* p, std::size_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  rulloc::heap::release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  rulloc::heap::release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  rulloc::heap::release(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  rulloc::heap::release(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  rulloc::heap::release(p);
}
