// Large blocks, 64 KiB to 16 MiB.
//
// Each thread keeps 6 large buffers and replaces a random one per step with a
// new buffer of a log-uniform size between 64 KiB and 16 MiB, as programs do
// with I/O buffers, images or decoded files. Every page of a new buffer is
// written and verified before it is freed, so the cost of getting memory from
// the kernel (page faults, mmap/munmap) and of giving it back shows in the
// time, and how much the allocator keeps shows in the peak RSS.
#include <cmath>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Slot {
  void* p = nullptr;
  size_t size = 0;
  uint64_t tag = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t steps = a.n(1000, 20);
  const double lo = std::log(64.0 * 1024), hi = std::log(16.0 * 1024 * 1024);
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      bench::Rng rng(4242 + static_cast<uint64_t>(t));
      std::vector<Slot> ws(6);
      uint64_t sum = 0;
      for (uint64_t i = 0; i < steps; ++i) {
        Slot& s = ws[rng.next() % ws.size()];
        if (s.p != nullptr) {
          sum += bench::check(s.p, s.size, s.tag);
          std::free(s.p);
        }
        s.size = static_cast<size_t>(std::exp(lo + (hi - lo) * rng.unit()));
        s.tag = rng.next();
        s.p = std::malloc(s.size);
        bench::fill(s.p, s.size, s.tag);
      }
      for (Slot& s : ws)
        if (s.p != nullptr) {
          sum += bench::check(s.p, s.size, s.tag);
          std::free(s.p);
        }
      sums[static_cast<size_t>(t)] = sum;
    });
  }
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("large", sum, steps * static_cast<uint64_t>(a.threads));
  return 0;
}
