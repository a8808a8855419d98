// Active false sharing (cache-thrash style).
//
// Every thread repeatedly allocates a small object (8 bytes), writes to it
// many times and frees it. If the allocator hands objects from one cache line
// to different threads at the same time, their writes invalidate each other's
// cache line and the run slows down by an order of magnitude. An allocator
// with per-thread memory keeps them apart.
#include <thread>
#include <vector>

#include "common.hpp"

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t iterations = a.n(2'500'000, 10);
  const uint64_t writes = 1000;
  const size_t objsize = 8;
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t sum = 0;
      for (uint64_t i = 0; i < iterations; ++i) {
        auto* p = static_cast<volatile unsigned char*>(std::malloc(objsize));
        if (p == nullptr) bench::oom(objsize);
        for (size_t k = 0; k < objsize; ++k) p[k] = static_cast<unsigned char>(t + k);
        for (uint64_t w = 0; w < writes; ++w) p[w % objsize] = static_cast<unsigned char>(p[w % objsize] + 1);
        for (size_t k = 0; k < objsize; ++k) sum = sum * 31 + p[k];
        // Each byte started at t+k and was incremented writes/objsize times.
        for (size_t k = 0; k < objsize; ++k)
          if (p[k] != static_cast<unsigned char>(t + k + writes / objsize)) bench::fail("object value", (const void*)p, objsize, k);
        std::free(const_cast<unsigned char*>(p));
      }
      sums[static_cast<size_t>(t)] = sum;
    });
  }
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("cache-thrash", sum, iterations * static_cast<uint64_t>(a.threads));
  return 0;
}
