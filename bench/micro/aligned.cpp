// Micro: aligned allocation, posix_memalign with alignments 64..4096 bytes
// (256-byte blocks), each followed by free. The alignment is checked: a failed
// or misaligned allocation ends that benchmark with an error, which the report
// shows as ERROR for that allocator. Per-op time = one posix_memalign + free.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>

static void BM_posix_memalign(benchmark::State& state) {
  const auto align = static_cast<size_t>(state.range(0));
  const size_t size = 256;
  for (auto _ : state) {
    void* p = nullptr;
    if (posix_memalign(&p, align, size) != 0) {
      state.SkipWithError("posix_memalign failed");
      break;
    }
    if ((reinterpret_cast<uintptr_t>(p) & (align - 1)) != 0) {
      static std::string msg;  // SkipWithError keeps the pointer
      msg = "misaligned: posix_memalign(" + std::to_string(align) + ", 256) returned an address " +
            std::to_string(reinterpret_cast<uintptr_t>(p) % align) + " bytes past a multiple of the alignment";
      std::free(p);
      state.SkipWithError(msg.c_str());
      break;
    }
    benchmark::DoNotOptimize(p);
    static_cast<volatile char*>(p)[0] = 1;
    std::free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_posix_memalign)->RangeMultiplier(2)->Range(64, 4096)->UseRealTime();
