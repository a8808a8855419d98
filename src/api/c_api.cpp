// The C API: heaps with any number of buckets, over the same engine.
#include "rulloc/rulloc.h"

#include <cerrno>
#include <new>

#include "base/alignment.hpp"
#include "platform/platform.hpp"
#include "rulloc/rulloc.hpp"

using rulloc::Allocation;
using rulloc::Layout;

// The heap object itself lives in pages of its own, so creating one never
// needs another allocator.
struct rulloc_heap {
  rulloc_heap(const std::size_t* limits, std::size_t count,
              std::size_t keep_empty_regions)
      : engine(storage, limits, count, rulloc::Options{keep_empty_regions, 0}) {
  }

  rulloc::detail::BucketStorage storage[RULLOC_MAX_BUCKETS + 1];
  rulloc::detail::Engine engine;
};

namespace {

// A null heap is the process-wide instance that C++ code sees as
// rulloc::default_instance(), so both languages share one heap.
rulloc::detail::Engine& engine_of(rulloc_heap* heap) {
  return heap != nullptr ? heap->engine
                         : rulloc::default_instance().detail_engine();
}

std::size_t heap_bytes() {
  return rulloc::base::align_up(sizeof(rulloc_heap),
                                rulloc::platform::page_size());
}

void* finish(Allocation allocation, std::size_t align) {
  if (allocation.ptr == nullptr) {
    errno = rulloc::base::is_power_of_two(align) ? ENOMEM : EINVAL;
  }
  return allocation.ptr;
}

}  // namespace

extern "C" {

rulloc_heap* rulloc_heap_create(const size_t* limits, size_t count,
                                size_t keep_empty_regions) {
  constexpr std::size_t kDefault[] = {128, 1024, 8192};
  if (limits == nullptr) {
    limits = kDefault;
    count = 3;
  }
  if (count > RULLOC_MAX_BUCKETS) {
    errno = EINVAL;
    return nullptr;
  }
  void* memory = rulloc::platform::map(heap_bytes());
  if (memory == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  return new (memory) rulloc_heap(limits, count, keep_empty_regions);
}

void rulloc_heap_destroy(rulloc_heap* heap) {
  if (heap == nullptr) return;
  heap->~rulloc_heap();
  rulloc::platform::unmap(heap, heap_bytes());
}

void* rulloc_alloc(rulloc_heap* heap, size_t size, size_t align) {
  return finish(engine_of(heap).allocate(Layout{size, align}, false), align);
}

void* rulloc_alloc_zeroed(rulloc_heap* heap, size_t size, size_t align) {
  return finish(engine_of(heap).allocate(Layout{size, align}, true), align);
}

void* rulloc_realloc(rulloc_heap* heap, void* ptr, size_t new_size,
                     size_t align) {
  rulloc::detail::Engine& engine = engine_of(heap);
  if (ptr == nullptr) return rulloc_alloc(heap, new_size, align);
  // The old requested size is not known here; the usable size stands in.
  const Layout old_layout{engine.usable_size(ptr), align};
  const Layout new_layout{new_size, align};
  return finish(engine.reallocate(ptr, old_layout, new_layout), align);
}

void rulloc_free(rulloc_heap* heap, void* ptr) {
  engine_of(heap).deallocate(ptr);
}

size_t rulloc_usable_size(rulloc_heap* heap, const void* ptr) {
  return engine_of(heap).usable_size(ptr);
}

size_t rulloc_heap_stats(rulloc_heap* heap, rulloc_bucket_stats* out,
                         size_t capacity) {
  rulloc::detail::Engine& engine = engine_of(heap);
  const std::size_t count = engine.bucket_count();
  for (std::size_t i = 0; i < count && i < capacity; ++i) {
    rulloc::BucketStats s = engine.stats(i);
    out[i] = {s.limit, s.regions, s.blocks, s.free_blocks, s.mapped_bytes};
  }
  return count;
}

int rulloc_heap_check(rulloc_heap* heap) {
  return engine_of(heap).check(nullptr) ? 1 : 0;
}

}  // extern "C"
