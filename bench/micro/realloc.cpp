// Micro: realloc growth.
//  BM_realloc_append/MAX  grow a block from 16 bytes to MAX by 16 bytes per
//                         realloc (a string built one small piece at a time);
//  BM_realloc_double/MAX  double a block from 16 bytes to MAX (vector-like).
// Per-op time = time per realloc call (the final free is included).
#include <benchmark/benchmark.h>

#include <cstdlib>

static void BM_realloc_append(benchmark::State& state) {
  const auto max = static_cast<size_t>(state.range(0));
  int64_t calls = 0;
  for (auto _ : state) {
    void* p = std::malloc(16);
    for (size_t n = 32; n <= max; n += 16) {
      p = std::realloc(p, n);
      benchmark::DoNotOptimize(p);
      static_cast<volatile char*>(p)[n - 1] = 1;
      ++calls;
    }
    std::free(p);
  }
  state.SetItemsProcessed(calls);
}
BENCHMARK(BM_realloc_append)->Arg(1 << 10)->Arg(16 << 10)->Arg(256 << 10)->UseRealTime();

static void BM_realloc_double(benchmark::State& state) {
  const auto max = static_cast<size_t>(state.range(0));
  int64_t calls = 0;
  for (auto _ : state) {
    void* p = std::malloc(16);
    for (size_t n = 32; n <= max; n *= 2) {
      p = std::realloc(p, n);
      benchmark::DoNotOptimize(p);
      static_cast<volatile char*>(p)[n - 1] = 1;
      ++calls;
    }
    std::free(p);
  }
  state.SetItemsProcessed(calls);
}
BENCHMARK(BM_realloc_double)->Arg(64 << 10)->Arg(4 << 20)->UseRealTime();
