// Micro: malloc+free pairs by size, 16 bytes .. 64 KiB.
//  BM_malloc_free/N        one malloc(N) then free, the allocator's fast path;
//  BM_malloc_free_batch/N  64 mallocs then the 64 frees in allocation order,
//                          which keeps more than one block live per size.
// Per-op time = time per malloc+free pair (items_per_second counts pairs).
#include <benchmark/benchmark.h>

#include <cstdlib>

static void BM_malloc_free(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::malloc(n);
    benchmark::DoNotOptimize(p);
    static_cast<volatile char*>(p)[0] = 1;
    std::free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_malloc_free)->RangeMultiplier(2)->Range(16, 64 << 10)->UseRealTime();

static void BM_malloc_free_batch(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  void* blocks[64];
  for (auto _ : state) {
    for (void*& p : blocks) {
      p = std::malloc(n);
      benchmark::DoNotOptimize(p);
      static_cast<volatile char*>(p)[0] = 1;
    }
    for (void* p : blocks) std::free(p);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_malloc_free_batch)->RangeMultiplier(4)->Range(16, 64 << 10)->UseRealTime();
