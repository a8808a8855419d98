// Thread churn (mstress style).
//
// The program runs many rounds; each round starts `threads` fresh threads and
// joins them. A thread frees (after verifying) the blocks that the thread of
// the previous round in the neighbouring slot handed over, allocates a mix of
// blocks (16 bytes .. 8 KiB), frees half of them itself and hands the other
// half to the next round. So every thread is short-lived, frees memory of a
// dead thread and leaves live memory behind when it exits: the allocator's
// per-thread state is created and torn down over and over.
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Block {
  void* p;
  uint32_t size;
  uint64_t tag;
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t rounds = a.n(3000, 4);
  const size_t per_thread = 1000;
  const auto T = static_cast<size_t>(a.threads);
  std::vector<std::vector<Block>> handoff(T), next(T);
  std::vector<uint64_t> sums(T, 0);
  for (uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    threads.reserve(T);
    for (size_t t = 0; t < T; ++t) {
      threads.emplace_back([&, t, round] {
        uint64_t sum = 0;
        for (const Block& b : handoff[(t + 1) % T]) {  // left by a dead thread
          sum += bench::check(b.p, b.size, b.tag);
          std::free(b.p);
        }
        bench::Rng rng(bench::mix(round * 131 + t));
        std::vector<Block> mine;
        mine.reserve(per_thread);
        for (size_t i = 0; i < per_thread; ++i) {
          const uint64_t r = rng.next();
          uint32_t size = (r & 15) == 0 ? static_cast<uint32_t>(1024 + (r >> 8) % 7169)
                                        : static_cast<uint32_t>(16 + (r >> 8) % 241);
          Block b{std::malloc(size), size, rng.next()};
          bench::fill(b.p, b.size, b.tag);
          mine.push_back(b);
        }
        std::vector<Block>& out = next[t];
        out.clear();
        for (size_t i = 0; i < mine.size(); ++i) {
          if (i & 1) {
            out.push_back(mine[i]);
          } else {
            sum += bench::check(mine[i].p, mine[i].size, mine[i].tag);
            std::free(mine[i].p);
          }
        }
        sums[t] += sum;
      });
    }
    for (auto& th : threads) th.join();
    std::swap(handoff, next);
  }
  uint64_t sum = 0;
  for (auto& v : handoff)
    for (const Block& b : v) {
      sum += bench::check(b.p, b.size, b.tag);
      std::free(b.p);
    }
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("mstress", sum, rounds * T * per_thread);
  return 0;
}
