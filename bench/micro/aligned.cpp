// Micro: aligned allocation, posix_memalign with alignments 64..4096 bytes
// (256-byte blocks), each followed by free. The alignment is checked; a
// misaligned block aborts the run. Per-op time = one posix_memalign + free.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

static void BM_posix_memalign(benchmark::State& state) {
  const auto align = static_cast<size_t>(state.range(0));
  const size_t size = 256;
  for (auto _ : state) {
    void* p = nullptr;
    if (posix_memalign(&p, align, size) != 0 || (reinterpret_cast<uintptr_t>(p) & (align - 1)) != 0) {
      std::fprintf(stderr, "posix_memalign(%zu, %zu) failed or misaligned: %p\n", align, size, p);
      std::abort();
    }
    benchmark::DoNotOptimize(p);
    static_cast<volatile char*>(p)[0] = 1;
    std::free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_posix_memalign)->RangeMultiplier(2)->Range(64, 4096)->UseRealTime();
