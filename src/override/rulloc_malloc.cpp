// The rulloc_* functions of rulloc/malloc.h: the malloc family under
// rulloc's names (for programs that keep their C library's malloc), the
// process heap's figures, an explicit trim, the purger's rounds, and the live
// heap's check, map and JSON figures (heap/inspect.cpp), as C entry points
// beside the malloc family they describe. The heap itself exports nothing
// (src/heap/ has no extern "C"; .ci/check-layers checks that).
#include <errno.h>

#include "base/alignment.hpp"
#include "heap/process_heap.hpp"
#include "override/malloc_family.hpp"
#include "rulloc/malloc.h"

#define RULLOC_EXPORT extern "C" __attribute__((visibility("default")))

RULLOC_EXPORT int rulloc_get_malloc_stats(rulloc_malloc_stats* out) {
  rulloc::heap::get_stats(out);
  return 0;
}

RULLOC_EXPORT void rulloc_print_malloc_stats(void) {
  rulloc::heap::print_stats();
}

RULLOC_EXPORT size_t rulloc_trim(void) { return rulloc::heap::trim(); }

RULLOC_EXPORT unsigned long long rulloc_purge_rounds(void) {
  return rulloc::heap::purge_rounds();
}

RULLOC_EXPORT int rulloc_check(char* error, size_t size) {
  return rulloc::heap::check(error, size);
}

RULLOC_EXPORT void rulloc_dump(int fd) { rulloc::heap::dump(fd); }

RULLOC_EXPORT size_t rulloc_stats_json(char* buffer, size_t size) {
  return rulloc::heap::stats_json(buffer, size);
}

RULLOC_EXPORT size_t rulloc_map_json(char* buffer, size_t size) {
  return rulloc::heap::map_json(buffer, size);
}

RULLOC_EXPORT void* rulloc_malloc(size_t size) {
  return rulloc::heap::allocate(size, rulloc::heap::kMallocAlign, false);
}

RULLOC_EXPORT void* rulloc_calloc(size_t count, size_t size) {
  return rulloc::override_layer::calloc_or_enomem(count, size);
}

RULLOC_EXPORT void* rulloc_aligned_malloc(size_t align, size_t size) {
  if (!rulloc::base::is_power_of_two(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return rulloc::heap::allocate(size, align, false);
}

RULLOC_EXPORT void* rulloc_malloc_realloc(void* pointer, size_t size) {
  return rulloc::override_layer::reallocate_or_enomem(pointer, size);
}

RULLOC_EXPORT void rulloc_malloc_free(void* pointer) {
  rulloc::heap::release(pointer);
}

RULLOC_EXPORT size_t rulloc_malloc_usable_size(const void* pointer) {
  return rulloc::heap::usable_size(pointer);
}
