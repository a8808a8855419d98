// Pareto-distributed small sizes.
//
// Object sizes in real programs are heavy-tailed: most requests are tiny, a
// few are large. Each thread keeps a working set of 100000 slots and replaces
// a random one per step with a block whose size follows a Pareto law
// (minimum 8 bytes, shape 1.3, capped at 16 KiB). One step in 32 instead
// frees a run of 64 consecutive slots and refills them later, so the live set
// breathes and the allocator must reuse freed memory of mixed sizes.
#include <cmath>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Slot {
  void* p = nullptr;
  uint32_t size = 0;
  uint64_t tag = 0;
};

uint32_t pareto_size(bench::Rng& rng) {
  const double u = 1.0 - rng.unit();  // (0, 1]
  double x = 8.0 * std::pow(u, -1.0 / 1.3);
  if (x > 16384.0) x = 16384.0;
  return static_cast<uint32_t>(x);
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const size_t slots = 100000;
  const uint64_t steps = a.n(9'000'000, 1000);
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      bench::Rng rng(31337 + static_cast<uint64_t>(t));
      std::vector<Slot> ws(slots);
      uint64_t sum = 0;
      auto release = [&](Slot& s) {
        if (s.p == nullptr) return;
        sum += bench::check(s.p, s.size, s.tag);
        std::free(s.p);
        s.p = nullptr;
      };
      for (uint64_t i = 0; i < steps; ++i) {
        const uint64_t r = rng.next();
        if ((r & 31) == 0) {
          const size_t start = (r >> 8) % slots;
          for (size_t k = 0; k < 64; ++k) release(ws[(start + k) % slots]);
          continue;
        }
        Slot& s = ws[(r >> 8) % slots];
        release(s);
        s.size = pareto_size(rng);
        s.tag = rng.next();
        s.p = std::malloc(s.size);
        bench::fill(s.p, s.size, s.tag);
      }
      for (Slot& s : ws) release(s);
      sums[static_cast<size_t>(t)] = sum;
    });
  }
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("pareto", sum, steps * static_cast<uint64_t>(a.threads));
  return 0;
}
