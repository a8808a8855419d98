// The malloc family, replaced: each entry point checks its arguments the way
// glibc documents, then calls the process heap.
#include <errno.h>
#include <stddef.h>

#include <atomic>

#include "base/alignment.hpp"
#include "heap/process_heap.hpp"
#include "override/malloc_family.hpp"
#include "override/runtime_heap.hpp"
#include "platform/platform.hpp"

namespace {

using rulloc::base::is_power_of_two;
using rulloc::heap::kMallocAlign;
using rulloc::override_layer::is_runtime_block;
using rulloc::override_layer::multiply_overflows;
using rulloc::override_layer::runtime_function;

// Blocks of the C runtime's own heap (override/runtime_heap.hpp), out of
// line: never taken where the runtime has no heap of its own.
[[gnu::noinline]] void runtime_free(void* pointer) noexcept {
  static std::atomic<void (*)(void*)> function{nullptr};
  runtime_function(function, "free", pointer)(pointer);
}
[[gnu::noinline]] void* runtime_realloc(void* pointer, size_t size) noexcept {
  static std::atomic<void* (*)(void*, size_t)> function{nullptr};
  return runtime_function(function, "realloc", pointer)(pointer, size);
}
[[gnu::noinline]] size_t runtime_size(void* pointer) noexcept {
  static std::atomic<size_t (*)(void*)> function{nullptr};
  return runtime_function(function, "_msize", pointer)(pointer);
}

}  // namespace

#define RULLOC_EXPORT extern "C" __attribute__((visibility("default")))

// The malloc/free path, layer by layer (override -> heap -> core ->
// platform). Fast path: the lines marked *, inlined into malloc and free,
// touch only the thread's own cache (no lock, no atomic, no call).
//
// malloc(size)                                     override/malloc.cpp
// * heap::allocate(size, 16, false)                heap/process_heap.hpp
// *   size <= 32 KiB: allocate_small(class)
// *     cache_pop(class): counts one event         heap/thread_cache.hpp
//       every 1024 events: flush_counters_then     heap/process_heap.cpp
//         empty: allocate_small_slow
//           engine(): builds the heap, once (settings, fork hooks, secret)
//           cache_pop_slow(class)                  heap/thread_cache.cpp
//             ready(): the cache, its lane, the thread-exit hook
//             pool_take(lane, class, batch)        heap/class_pool.cpp
//               a slab with room, under the pool's spin lock, or
//               take_slab(class) -> map_segment()  heap/segments.cpp
//                 platform::map(8 MiB): an aligned 4 MiB kept
//               carve: blocks cut from the slab's untouched end
//     larger or more aligned: allocate_other
//       LanedEngine::allocate(layout, lane)        core/engine.cpp
//         Bucket::allocate: first fit, split       core/bucket.cpp
//           or map_region -> platform::map
//
// free(pointer)
// * heap::release(pointer)                         heap/process_heap.hpp
// *   shape_of(pointer): one bit per 4 MiB         heap/slab.hpp
// *   release_small: checked (double free: base::report_misuse)
// *     cache_push(class, lane, block)             heap/thread_cache.hpp
//         full, another lane's block, or counters due: release_small_slow
//           cache_push_slow: half the cache, or the outbox, to
//             pool_give(blocks) -> each to its slab; an empty slab to
//             give_back_slab                       heap/segments.cpp
//           purger_note_freed: a round when due    heap/purger.cpp
//   no slab: release_other
//     LanedEngine::deallocate(pointer, "free")     core/engine.cpp
//       resolve: the page map, the header          core/page_map.cpp
//       Bucket::deallocate: merge, unmap or keep   core/bucket.cpp
//     purger_note_freed(bytes)
RULLOC_EXPORT void* malloc(size_t size) noexcept {
  return rulloc::heap::allocate(size, kMallocAlign, false);
}

RULLOC_EXPORT void free(void* pointer) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    runtime_free(pointer);
    return;
  }
  rulloc::heap::release(pointer);
}

RULLOC_EXPORT void* calloc(size_t count, size_t size) noexcept {
  return rulloc::override_layer::calloc_or_enomem(count, size);
}

RULLOC_EXPORT void* realloc(void* pointer, size_t size) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]] {
    return runtime_realloc(pointer, size);
  }
  return rulloc::override_layer::reallocate_or_enomem(pointer, size);
}

RULLOC_EXPORT void* reallocarray(void* pointer, size_t count,
                                 size_t size) noexcept {
  size_t total;
  if (multiply_overflows(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(pointer, total);
}

RULLOC_EXPORT int posix_memalign(void** out, size_t align,
                                 size_t size) noexcept {
  if (!is_power_of_two(align) || align % sizeof(void*) != 0) return EINVAL;
  void* pointer = rulloc::heap::allocate(size, align, false);
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}

RULLOC_EXPORT void* aligned_alloc(size_t align, size_t size) noexcept {
  if (!is_power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return rulloc::heap::allocate(size, align, false);
}

RULLOC_EXPORT void* memalign(size_t align, size_t size) noexcept {
  // glibc rounds an alignment that is not a power of two up to one.
  if (align > (SIZE_MAX >> 1) + 1) {
    errno = EINVAL;
    return nullptr;
  }
  size_t power = kMallocAlign;
  while (power < align) power <<= 1;
  return rulloc::heap::allocate(size, power, false);
}

RULLOC_EXPORT void* valloc(size_t size) noexcept {
  return rulloc::heap::allocate(size, rulloc::platform::page_size(), false);
}

RULLOC_EXPORT void* pvalloc(size_t size) noexcept {
  const size_t page = rulloc::platform::page_size();
  size_t rounded = rulloc::base::align_up(size == 0 ? 1 : size, page);
  if (rounded == 0) {
    errno = ENOMEM;
    return nullptr;
  }
  return rulloc::heap::allocate(rounded, page, false);
}

// glibc's: returns 1 when memory was given back. The padding is not kept:
// rulloc gives back only what nothing uses.
RULLOC_EXPORT int malloc_trim(size_t /*pad*/) noexcept {
  return rulloc::heap::trim() > 0 ? 1 : 0;
}

RULLOC_EXPORT size_t malloc_usable_size(void* pointer) noexcept {
  if (is_runtime_block(pointer)) [[unlikely]]
    return runtime_size(pointer);
  return rulloc::heap::usable_size(pointer);
}
