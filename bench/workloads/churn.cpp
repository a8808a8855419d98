// Single-thread churn of a large working set.
//
// One thread keeps 50 000 live objects of mixed sizes up to 32 KiB (about
// 100 MiB in all) and replaces one at random per step, as a long-running
// program with a big heap does. Sizes: 55% 8..256 B, 25% 257 B..2 KiB,
// 15% 2..8 KiB, 5% 8..32 KiB, uniform within each class. Every new block is
// written over its whole length (one 64-bit word per 64-byte cache line, the
// first and the last word), and all of that is checked before the block is
// freed, so where a fresh block comes from (warm in cache or cold, a page
// touched for the first time) weighs as it does in a program that uses its
// memory. --threads is ignored: this workload is single-threaded.
#include <vector>

#include "common.hpp"

namespace {

struct Slot {
  void* p = nullptr;
  uint32_t size = 0;
  uint64_t tag = 0;
};

uint32_t churn_size(bench::Rng& rng) {
  const uint64_t r = rng.next();
  const uint64_t c = r % 100;
  const uint64_t v = r >> 8;
  if (c < 55) return static_cast<uint32_t>(8 + v % 249);           // 8..256
  if (c < 80) return static_cast<uint32_t>(257 + v % 1792);        // 257..2048
  if (c < 95) return static_cast<uint32_t>(2049 + v % 6144);       // 2049..8192
  return static_cast<uint32_t>(8193 + v % 24576);                  // 8193..32768
}

constexpr size_t kStride = 64;  // one word per cache line

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const size_t slots = 50000;
  const uint64_t steps = a.n(2'500'000, 1000);
  bench::Rng rng(4242);
  std::vector<Slot> ws(slots);
  uint64_t sum = 0;
  auto make = [&](Slot& s) {
    s.size = churn_size(rng);
    s.tag = rng.next();
    s.p = std::malloc(s.size);
    bench::fill(s.p, s.size, s.tag, kStride);
  };
  for (Slot& s : ws) make(s);
  for (uint64_t i = 0; i < steps; ++i) {
    Slot& s = ws[rng.next() % slots];
    sum = bench::mix(sum ^ bench::check(s.p, s.size, s.tag, kStride));
    std::free(s.p);
    make(s);
  }
  for (Slot& s : ws) {
    sum = bench::mix(sum ^ bench::check(s.p, s.size, s.tag, kStride));
    std::free(s.p);
  }
  bench::report("churn", sum, steps);
  return 0;
}
