// The purge rounds of the process heap (rulloc_heap, no override) while
// threads free, create threads and exit at the same time: in every build,
// TSan included. CTest runs it with RULLOC_PURGE_DELAY_MS=20 (a round every
// 10 ms), once with the purger's thread allowed and once with
// RULLOC_PURGE_THREAD=0, where only the threads' own frees run rounds.
// Waits are for rounds, never for a clock; CTest's timeout ends a hang.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "heap/process_heap.hpp"

namespace {

namespace heap = rulloc::heap;

// Frees big and small blocks until `rounds` more purge rounds have run.
void free_until_rounds(std::uint64_t rounds, unsigned seed) {
  const std::uint64_t until = heap::purge_rounds() + rounds;
  for (unsigned i = seed; heap::purge_rounds() < until; ++i) {
    void* big = heap::allocate(64 * 1024 + (i % 7) * 40000, 16, false);
    void* small = heap::allocate(16 + i % 3000, 16, false);
    ASSERT_NE(big, nullptr);
    ASSERT_NE(small, nullptr);
    std::memset(big, static_cast<int>(i), 4096);
    heap::release(big);
    heap::release(small);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(PurgeRounds, RunWhileThreadsFree) {
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([t] { free_until_rounds(5, t * 1000); });
  }
  for (std::thread& thread : threads) thread.join();
}

// Threads that announce thread creation (as the override's pthread_create
// does), free and exit, all at once: the purger starts at most once and
// rounds go on.
TEST(PurgeRounds, GoOnWhileThreadsComeAndGo) {
  std::atomic<bool> stop{false};
  std::thread watcher([&] { free_until_rounds(10, 7); });
  std::vector<std::thread> churn;
  for (unsigned t = 0; t < 3; ++t) {
    churn.emplace_back([&, t] {
      while (!stop.load()) {
        heap::before_thread_create();
        std::thread short_lived([t] {
          void* p = heap::allocate(100000 + t, 16, false);
          ASSERT_NE(p, nullptr);
          heap::release(p);
        });
        short_lived.join();
      }
    });
  }
  watcher.join();
  stop.store(true);
  for (std::thread& thread : churn) thread.join();
}

}  // namespace
