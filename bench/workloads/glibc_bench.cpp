// glibc-bench style malloc/free loops (after glibc's bench-malloc-simple and
// bench-malloc-thread), single- or multi-threaded with --threads.
//
// Each thread runs two phases:
//  1. simple: for sizes 16..1024 bytes, allocate a batch of 1000 blocks and
//     free them all, alternating FIFO and LIFO order;
//  2. random: a working set of 1024 slots; each step frees a random slot and
//     allocates a new block, 90% of sizes in 1..512 bytes, 9% up to 4 KiB,
//     1% up to 32 KiB; one allocation in 8 uses calloc, whose zeroing is
//     checked.
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Slot {
  void* p = nullptr;
  uint32_t size = 0;
  uint64_t tag = 0;
};

uint32_t random_size(bench::Rng& rng) {
  const uint64_t r = rng.next();
  const uint64_t pick = r % 100;
  const uint64_t v = r >> 8;
  if (pick < 90) return static_cast<uint32_t>(1 + v % 512);
  if (pick < 99) return static_cast<uint32_t>(513 + v % (4096 - 512));
  return static_cast<uint32_t>(4097 + v % (32768 - 4096));
}

uint64_t run_thread(int t, uint64_t simple_rounds, uint64_t random_steps) {
  uint64_t sum = 0;
  bench::Rng rng(555 + static_cast<uint64_t>(t));
  // Phase 1: batches of fixed sizes.
  std::vector<void*> batch(1000);
  static constexpr uint32_t sizes[] = {16, 32, 64, 128, 256, 512, 1024};
  for (uint64_t round = 0; round < simple_rounds; ++round) {
    for (uint32_t size : sizes) {
      const uint64_t tag = rng.next();
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i] = std::malloc(size);
        bench::fill(batch[i], size, tag + i);
      }
      if (round & 1) {
        for (size_t i = batch.size(); i-- > 0;) {
          sum += bench::check(batch[i], size, tag + i);
          std::free(batch[i]);
        }
      } else {
        for (size_t i = 0; i < batch.size(); ++i) {
          sum += bench::check(batch[i], size, tag + i);
          std::free(batch[i]);
        }
      }
    }
  }
  // Phase 2: random working set.
  std::vector<Slot> ws(1024);
  for (uint64_t i = 0; i < random_steps; ++i) {
    Slot& s = ws[rng.next() % ws.size()];
    if (s.p != nullptr) {
      sum += bench::check(s.p, s.size, s.tag);
      std::free(s.p);
    }
    s.size = random_size(rng);
    s.tag = rng.next();
    if ((s.tag & 7) == 0) {
      s.p = std::calloc(1, s.size);
      if (s.p == nullptr) bench::oom(s.size);
      auto* b = static_cast<const unsigned char*>(s.p);
      for (size_t k = 0; k < s.size; k += 61)
        if (b[k] != 0) bench::fail("calloc memory not zeroed", s.p, s.size, k);
      if (b[s.size - 1] != 0) bench::fail("calloc memory not zeroed", s.p, s.size, s.size - 1);
    } else {
      s.p = std::malloc(s.size);
    }
    bench::fill(s.p, s.size, s.tag);
  }
  for (Slot& s : ws) {
    if (s.p == nullptr) continue;
    sum += bench::check(s.p, s.size, s.tag);
    std::free(s.p);
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t simple_rounds = a.n(600, 2);
  const uint64_t random_steps = a.n(24'000'000, 1000);
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  if (a.threads == 1) {
    sums[0] = run_thread(0, simple_rounds, random_steps);
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < a.threads; ++t)
      threads.emplace_back([&, t] { sums[static_cast<size_t>(t)] = run_thread(t, simple_rounds, random_steps); });
    for (auto& th : threads) th.join();
  }
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report(a.threads == 1 ? "glibc-bench-st" : "glibc-bench-mt", sum,
                (simple_rounds * 7000 + random_steps) * static_cast<uint64_t>(a.threads));
  return 0;
}
