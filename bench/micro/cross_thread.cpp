// Micro: cross-thread free, producer/consumer. Two benchmark threads share a
// single-producer single-consumer ring of 1024 pointers: thread 0 mallocs
// blocks of N bytes and pushes them, thread 1 pops and frees them, so every
// free is a remote free. Both threads run the same number of iterations, so
// the ring is empty between runs. Per-op time = wall time per block passed.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <thread>

namespace {

struct Ring {
  static constexpr size_t kSize = 1024;
  alignas(64) std::atomic<size_t> head{0};
  alignas(64) std::atomic<size_t> tail{0};
  alignas(64) void* slots[kSize];
};

Ring g_ring;

inline void relax(unsigned& spins) {
  if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    spins = 0;
    std::this_thread::yield();
  }
}

}  // namespace

static void BM_cross_thread_free(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Ring& r = g_ring;
  if (state.thread_index() == 0) {
    for (auto _ : state) {
      void* p = std::malloc(n);
      static_cast<volatile char*>(p)[0] = 1;
      const size_t h = r.head.load(std::memory_order_relaxed);
      unsigned spins = 0;
      while (h - r.tail.load(std::memory_order_acquire) >= Ring::kSize) relax(spins);
      r.slots[h % Ring::kSize] = p;
      r.head.store(h + 1, std::memory_order_release);
    }
    state.SetItemsProcessed(state.iterations());
  } else {
    for (auto _ : state) {
      const size_t t = r.tail.load(std::memory_order_relaxed);
      unsigned spins = 0;
      while (r.head.load(std::memory_order_acquire) == t) relax(spins);
      void* p = r.slots[t % Ring::kSize];
      r.tail.store(t + 1, std::memory_order_release);
      std::free(p);
    }
  }
}
BENCHMARK(BM_cross_thread_free)->Arg(16)->Arg(256)->Arg(4096)->Threads(2)->UseRealTime();
