// The Microsoft C runtime's own heap calls, over the process heap (Windows
// only): _msize, _expand, _recalloc and the _aligned_* family. The runtime's
// headers declare these dllimport, so a program calls them through its
// import slots (__imp_NAME) rather than by name: the slots are defined here
// too, and being in the program they take precedence over the import
// library's, as malloc and free themselves do. Blocks of the runtime's own
// heap (override/runtime_heap.hpp) go to its function of the same name.
// _aligned_offset_* are left to the runtime: their blocks are its own
// (_aligned_msize too: msvcrt.dll has none, and _msize answers for ours).
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <atomic>

#include "base/alignment.hpp"
#include "heap/process_heap.hpp"
#include "override/malloc_family.hpp"
#include "override/runtime_heap.hpp"

namespace {

using rulloc::base::is_power_of_two;
using rulloc::heap::kMallocAlign;
using rulloc::override_layer::is_runtime_block;
using rulloc::override_layer::runtime_function;

// The runtime's `name`, called with `block` and the rest of `arguments`.
template <class Result, class... Arguments>
[[gnu::noinline]] Result on_runtime(const char* name, void* block,
                                    Arguments... arguments) noexcept {
  using Function = Result (*)(void*, Arguments...);
  static std::atomic<Function> function{nullptr};
  return runtime_function(function, name, block)(block, arguments...);
}

void* aligned_or_enomem(size_t size, size_t align, bool zeroed) noexcept {
  if (!is_power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  void* pointer = rulloc::heap::allocate(
      size, align < kMallocAlign ? kMallocAlign : align, zeroed);
  if (pointer == nullptr) errno = ENOMEM;
  return pointer;
}

// Moves `pointer` (a block of ours) to a block of `size` aligned to `align`,
// unless it already is one; frees it for a size of 0, as realloc does.
void* resize(void* pointer, size_t size, size_t align) noexcept {
  if (size == 0) {
    rulloc::heap::release(pointer);
    return nullptr;
  }
  const size_t old_size = rulloc::heap::usable_size(pointer);
  if (reinterpret_cast<uintptr_t>(pointer) % align == 0 && size <= old_size &&
      size > old_size / 2) {
    return pointer;
  }
  void* moved = aligned_or_enomem(size, align, false);
  if (moved == nullptr) return nullptr;
  memcpy(moved, pointer, size < old_size ? size : old_size);
  rulloc::heap::release(pointer);
  return moved;
}

// `count` * `size` bytes, the bytes past the old block's usable size zeroed.
void* resize_zeroed(void* pointer, size_t count, size_t size,
                    size_t align) noexcept {
  size_t total;
  if (rulloc::override_layer::multiply_overflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (pointer == nullptr) return aligned_or_enomem(total, align, true);
  const size_t old_size = rulloc::heap::usable_size(pointer);
  void* moved = resize(pointer, total, align);
  if (moved != nullptr && total > old_size) {
    memset(static_cast<char*>(moved) + old_size, 0, total - old_size);
  }
  return moved;
}

}  // namespace

// The runtime's headers declare these dllimport: defined here, they are not
// (GCC says so, once each, which is the point).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"

extern "C" {

size_t _msize(void* pointer) noexcept {
  if (pointer == nullptr) {
    errno = EINVAL;
    return static_cast<size_t>(-1);
  }
  if (is_runtime_block(pointer)) [[unlikely]] {
    return on_runtime<size_t>("_msize", pointer);
  }
  return rulloc::heap::usable_size(pointer);
}

// In place or not at all: a block of ours never grows where it lies.
void* _expand(void* pointer, size_t size) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    return on_runtime<void*>("_expand", pointer, size);
  }
  if (pointer == nullptr || size > rulloc::heap::usable_size(pointer)) {
    errno = pointer == nullptr ? EINVAL : ENOMEM;
    return nullptr;
  }
  return pointer;
}

void* _recalloc(void* pointer, size_t count, size_t size) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    return on_runtime<void*>("_recalloc", pointer, count, size);
  }
  return resize_zeroed(pointer, count, size, kMallocAlign);
}

void* _aligned_malloc(size_t size, size_t align) noexcept {
  return aligned_or_enomem(size, align, false);
}

void _aligned_free(void* pointer) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    on_runtime<void>("_aligned_free", pointer);
    return;
  }
  rulloc::heap::release(pointer);
}

void* _aligned_realloc(void* pointer, size_t size, size_t align) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    return on_runtime<void*>("_aligned_realloc", pointer, size, align);
  }
  if (pointer == nullptr) return aligned_or_enomem(size, align, false);
  if (!is_power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return resize(pointer, size, align < kMallocAlign ? kMallocAlign : align);
}

void* _aligned_recalloc(void* pointer, size_t count, size_t size,
                        size_t align) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    return on_runtime<void*>("_aligned_recalloc", pointer, count, size, align);
  }
  if (!is_power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return resize_zeroed(pointer, count, size,
                       align < kMallocAlign ? kMallocAlign : align);
}

// The import slots the runtime's dllimport declarations call through.
size_t (*__imp__msize)(void*) = _msize;
void* (*__imp__expand)(void*, size_t) = _expand;
void* (*__imp__recalloc)(void*, size_t, size_t) = _recalloc;
void* (*__imp__aligned_malloc)(size_t, size_t) = _aligned_malloc;
void (*__imp__aligned_free)(void*) = _aligned_free;
void* (*__imp__aligned_realloc)(void*, size_t, size_t) = _aligned_realloc;
void* (*__imp__aligned_recalloc)(void*, size_t, size_t,
                                 size_t) = _aligned_recalloc;

}  // extern "C"

#pragma GCC diagnostic pop
