// base::SpinLock (src/base/spin_lock.hpp): one holder at a time among
// threads that contend for it, and a waiter that finds it held for long
// sleeps in the kernel (next to no CPU) until the unlock wakes it, so that
// a holder of lower priority can run.
#include "base/spin_lock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "platform/platform.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

namespace {

using rulloc::base::SpinLock;

// CPU time of the whole process so far, in seconds.
double process_cpu_seconds() {
#ifdef _WIN32
  FILETIME created, exited, kernel, user;
  GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user);
  auto ticks = [](const FILETIME& t) {
    return (static_cast<unsigned long long>(t.dwHighDateTime) << 32) |
           t.dwLowDateTime;
  };
  return static_cast<double>(ticks(kernel) + ticks(user)) * 1e-7;
#else
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) * 1e-9;
#endif
}

TEST(SpinLock, OneHolderAtATime) {
  SpinLock lock;
  long counter = 0;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50000; ++i) {
        lock.lock();
        if (inside.fetch_add(1, std::memory_order_relaxed) != 0) {
          overlapped = true;
        }
        ++counter;
        inside.fetch_sub(1, std::memory_order_relaxed);
        lock.unlock();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(counter, 4 * 50000);
}

TEST(SpinLock, AWaiterSleepsUntilTheUnlockWakesIt) {
  SpinLock lock;
  lock.lock();
  std::atomic<bool> got{false};
  const double before = process_cpu_seconds();
  std::thread waiter([&] {
    lock.lock();
    got = true;
    lock.unlock();
  });
  rulloc::platform::sleep_ms(300);
  const double spent = process_cpu_seconds() - before;
  EXPECT_FALSE(got);
  lock.unlock();
  waiter.join();
  EXPECT_TRUE(got);
  // A waiter that spins or yields burns the 0.3 s.
  EXPECT_LT(spent, 0.1);
  if (lock.try_lock()) {
    lock.unlock();
  } else {
    ADD_FAILURE() << "the lock stayed held after its unlock";
  }
}

}  // namespace
