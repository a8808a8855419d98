// Every replaceable operator new and delete, over the process heap. The
// throwing forms follow the standard: call the new_handler until it gives up,
// then throw std::bad_alloc.
#include <cstddef>
#include <new>

#include "heap/process_heap.hpp"

namespace {

using rulloc::heap::kMallocAlign;

void* new_or_null(std::size_t size, std::size_t align) noexcept {
  for (;;) {
    void* pointer = rulloc::heap::allocate(size, align, false);
    if (pointer != nullptr) return pointer;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    try {
      handler();
    } catch (...) {
      return nullptr;
    }
  }
}

void* new_or_throw(std::size_t size, std::size_t align) {
  for (;;) {
    void* pointer = rulloc::heap::allocate(size, align, false);
    if (pointer != nullptr) return pointer;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
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
