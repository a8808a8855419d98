// Passive false sharing (cache-scratch style).
//
// The main thread allocates one small object per thread, back to back, so
// they likely share a cache line, and hands one to each thread. Each thread
// frees the object it was given, then repeatedly allocates an object of the
// same size, writes to it many times and frees it. An allocator that puts the
// freed object in the freeing thread's cache hands it straight back, and the
// threads then write to one cache line from two cores.
#include <thread>
#include <vector>

#include "common.hpp"

int main(int argc, char** argv) {
  const bench::Args a = bench::parse_args(argc, argv);
  const uint64_t iterations = a.n(1'000'000, 10);
  const uint64_t writes = 1000;
  const size_t objsize = 8;
  std::vector<unsigned char*> given(static_cast<size_t>(a.threads));
  for (int t = 0; t < a.threads; ++t) {
    given[static_cast<size_t>(t)] = static_cast<unsigned char*>(std::malloc(objsize));
    bench::fill(given[static_cast<size_t>(t)], objsize, 99 + static_cast<uint64_t>(t));
  }
  std::vector<uint64_t> sums(static_cast<size_t>(a.threads), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t sum = bench::check(given[static_cast<size_t>(t)], objsize, 99 + static_cast<uint64_t>(t));
      std::free(given[static_cast<size_t>(t)]);
      for (uint64_t i = 0; i < iterations; ++i) {
        auto* p = static_cast<volatile unsigned char*>(std::malloc(objsize));
        if (p == nullptr) bench::oom(objsize);
        for (size_t k = 0; k < objsize; ++k) p[k] = static_cast<unsigned char>(t * 3 + k);
        for (uint64_t w = 0; w < writes; ++w) p[w % objsize] = static_cast<unsigned char>(p[w % objsize] + 1);
        for (size_t k = 0; k < objsize; ++k) {
          if (p[k] != static_cast<unsigned char>(t * 3 + k + writes / objsize)) bench::fail("object value", (const void*)p, objsize, k);
          sum = sum * 31 + p[k];
        }
        std::free(const_cast<unsigned char*>(p));
      }
      sums[static_cast<size_t>(t)] = sum;
    });
  }
  for (auto& th : threads) th.join();
  uint64_t sum = 0;
  for (uint64_t s : sums) sum = bench::mix(sum ^ s);
  bench::report("cache-scratch", sum, iterations * static_cast<uint64_t>(a.threads));
  return 0;
}
