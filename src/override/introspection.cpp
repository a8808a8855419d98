// glibc's introspection calls, answered with rulloc's own figures so that
// monitoring code sees the heap the program really uses: mallinfo2,
// mallinfo, malloc_stats, malloc_info, mallopt. And the other names glibc
// gives its malloc family (__libc_malloc, cfree, C23's free_sized), so that
// no caller mixes heaps.
//
// mallinfo2's fields (the README has the same table):
//   arena     bytes of slabs in use and of the fixed engine buckets' regions
//   ordblks   free blocks in the engine's buckets
//   smblks    0 (no fastbins)
//   hblks     regions of the dynamic bucket (blocks of mmap_threshold,
//             32 MiB, and more)
//   hblkhd    bytes of those regions
//   usmblks   0 (always 0 in glibc too)
//   fsmblks   0 (no fastbins)
//   uordblks  bytes in use by the program (usable sizes), as the thread
//             counters last reported them: each thread adds its counts every
//             1024 calls or 1 MiB, the calling thread's at once
//   fordblks  arena + hblkhd - uordblks: mapped and not in use
//   keepcost  0 (no top chunk: rulloc_trim gives back what is unused)
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include <cstdio>

#include <cstdint>

#include "heap/process_heap.hpp"
#include "rulloc/malloc.h"

namespace {

struct Figures {
  rulloc_malloc_stats stats;
  std::size_t arena, free_blocks, big_regions, big_bytes;
};

Figures figures() noexcept {
  Figures f{};
  rulloc::heap::get_stats(&f.stats);
  f.arena = f.stats.slab_bytes;
  for (std::size_t i = 0; i < f.stats.bucket_count; ++i) {
    const rulloc_bucket_stats& b = f.stats.buckets[i];
    f.free_blocks += b.free_blocks;
    if (b.limit == SIZE_MAX) {
      f.big_regions += b.regions;
      f.big_bytes += b.mapped_bytes;
    } else {
      f.arena += b.mapped_bytes;
    }
  }
  return f;
}

std::size_t free_bytes(const Figures& f) noexcept {
  const std::size_t mapped = f.arena + f.big_bytes;
  return mapped > f.stats.bytes_in_use ? mapped - f.stats.bytes_in_use : 0;
}

int clamp_int(std::size_t value) noexcept {
  return value > INT32_MAX ? INT32_MAX : static_cast<int>(value);
}

// glibc's limits where a parameter has one.
constexpr int kMaxFast = 80 * sizeof(std::size_t) / 4;
constexpr long kMaxMmapThreshold = 4L * 1024 * 1024 * sizeof(long);

// The totals glibc prints per heap and for the process: the same here, as
// rulloc has one heap.
void print_totals(FILE* out, const Figures& f, bool with_mmap) noexcept {
  const std::size_t mapped = f.arena + f.big_bytes;
  const std::size_t address_space =
      f.stats.segment_bytes + mapped - f.stats.slab_bytes;
  std::fprintf(out, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
  std::fprintf(out, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
               f.free_blocks, free_bytes(f));
  if (with_mmap) {
    std::fprintf(out, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n",
                 f.big_regions, f.big_bytes);
  }
  std::fprintf(out, "<system type=\"current\" size=\"%zu\"/>\n", mapped);
  std::fprintf(out, "<system type=\"max\" size=\"%zu\"/>\n", mapped);
  std::fprintf(out, "<aspace type=\"total\" size=\"%zu\"/>\n", address_space);
  std::fprintf(out, "<aspace type=\"mprotect\" size=\"%zu\"/>\n",
               address_space);
}

// rulloc's own element: its counters and engine buckets.
void print_rulloc(FILE* out, const Figures& f) noexcept {
  std::fprintf(out,
               "<rulloc allocations=\"%zu\" frees=\"%zu\" in_use=\"%zu\" "
               "peak=\"%zu\" slab_bytes=\"%zu\" segment_bytes=\"%zu\">\n",
               f.stats.allocations, f.stats.frees, f.stats.bytes_in_use,
               f.stats.peak_bytes_in_use, f.stats.slab_bytes,
               f.stats.segment_bytes);
  for (std::size_t i = 0; i < f.stats.bucket_count; ++i) {
    const rulloc_bucket_stats& b = f.stats.buckets[i];
    char limit[32] = "dynamic";
    if (b.limit != SIZE_MAX)
      std::snprintf(limit, sizeof(limit), "%zu", b.limit);
    std::fprintf(out,
                 "  <bucket limit=\"%s\" regions=\"%zu\" blocks=\"%zu\" "
                 "free=\"%zu\" mapped=\"%zu\"/>\n",
                 limit, b.regions, b.blocks, b.free_blocks, b.mapped_bytes);
  }
  std::fprintf(out, "</rulloc>\n");
}

}  // namespace

#define RULLOC_EXPORT extern "C" __attribute__((visibility("default")))

RULLOC_EXPORT struct mallinfo2 mallinfo2(void) noexcept {
  const Figures f = figures();
  struct mallinfo2 info {};
  info.arena = f.arena;
  info.ordblks = f.free_blocks;
  info.hblks = f.big_regions;
  info.hblkhd = f.big_bytes;
  info.uordblks = f.stats.bytes_in_use;
  info.fordblks = free_bytes(f);
  return info;
}

// The old structure's ints, clamped as glibc 2.33+ does (not wrapped).
RULLOC_EXPORT struct mallinfo mallinfo(void) noexcept {
  const struct mallinfo2 wide = mallinfo2();
  struct mallinfo info {};
  info.arena = clamp_int(wide.arena);
  info.ordblks = clamp_int(wide.ordblks);
  info.hblks = clamp_int(wide.hblks);
  info.hblkhd = clamp_int(wide.hblkhd);
  info.uordblks = clamp_int(wide.uordblks);
  info.fordblks = clamp_int(wide.fordblks);
  return info;
}

RULLOC_EXPORT void malloc_stats(void) noexcept { rulloc::heap::print_stats(); }

// glibc's shape (<malloc version>, <heap>, <sizes>, <total>, <system>,
// <aspace>), one heap for the whole process, then rulloc's own element.
RULLOC_EXPORT int malloc_info(int options, FILE* out) noexcept {
  if (options != 0 || out == nullptr) {
    errno = EINVAL;
    return -1;
  }
  const Figures f = figures();
  std::fprintf(out,
               "<malloc version=\"rulloc-1\">\n<heap nr=\"0\">\n<sizes>\n");
  for (std::size_t i = 0; i < f.stats.bucket_count; ++i) {
    const rulloc_bucket_stats& b = f.stats.buckets[i];
    std::fprintf(
        out, "  <size from=\"0\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
        b.limit, b.mapped_bytes, b.free_blocks);
  }
  std::fprintf(out, "</sizes>\n");
  print_totals(out, f, false);
  std::fprintf(out, "</heap>\n");
  print_totals(out, f, true);
  print_rulloc(out, f);
  std::fprintf(out, "</malloc>\n");
  return 0;
}

// What has a meaning here changes behaviour; the rest is accepted and
// ignored as glibc does, and a value out of glibc's range returns 0.
RULLOC_EXPORT int mallopt(int parameter, int value) noexcept {
  switch (parameter) {
    case M_MXFAST:
      return value >= 0 && value <= kMaxFast ? 1 : 0;
    case M_ARENA_MAX:
      if (value <= 0) return 0;
      rulloc::heap::set_lanes(static_cast<std::size_t>(value));
      return 1;
    case M_ARENA_TEST:
      return value > 0 ? 1 : 0;
    case M_MMAP_THRESHOLD:
      if (value < 0 || value > kMaxMmapThreshold) return 0;
      rulloc::heap::set_mmap_threshold(static_cast<std::size_t>(value));
      return 1;
    case M_TRIM_THRESHOLD:  // negative: never, as glibc reads it unsigned
      rulloc::heap::set_trim_threshold(value);
      return 1;
    case RULLOC_M_PURGE_DELAY_MS:
      return rulloc::heap::set_purge_delay(value) ? 1 : 0;
    default:  // M_TOP_PAD, M_MMAP_MAX, M_CHECK_ACTION, M_PERTURB, ...
      return 1;
  }
}

// glibc's other names for the same functions: a caller of __libc_free
// (a sanitizer runtime, a language VM) must free into this heap.
RULLOC_EXPORT void* __libc_malloc(size_t size) noexcept { return malloc(size); }
RULLOC_EXPORT void __libc_free(void* pointer) noexcept { free(pointer); }
RULLOC_EXPORT void cfree(void* pointer) noexcept { free(pointer); }
RULLOC_EXPORT void* __libc_calloc(size_t count, size_t size) noexcept {
  return calloc(count, size);
}
RULLOC_EXPORT void* __libc_realloc(void* pointer, size_t size) noexcept {
  return realloc(pointer, size);
}
RULLOC_EXPORT void* __libc_memalign(size_t align, size_t size) noexcept {
  return memalign(align, size);
}
RULLOC_EXPORT void* __libc_valloc(size_t size) noexcept { return valloc(size); }
RULLOC_EXPORT void* __libc_pvalloc(size_t size) noexcept {
  return pvalloc(size);
}

// C23: the size (and alignment) the block was asked with. A size larger
// than the block can hold is a misuse; rulloc frees by the block's own
// header and checks nothing more.
RULLOC_EXPORT void free_sized(void* pointer, size_t /*size*/) noexcept {
  rulloc::heap::release(pointer);
}

RULLOC_EXPORT void free_aligned_sized(void* pointer, size_t /*align*/,
                                      size_t /*size*/) noexcept {
  rulloc::heap::release(pointer);
}
