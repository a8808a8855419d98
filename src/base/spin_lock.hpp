// A lock for short critical sections (a bucket's first fit, split and
// merge; a batch of blocks moved between a thread cache and a pool):
// spinning a little is cheaper than sleeping in the kernel and being woken,
// which std::mutex does as soon as two threads meet. After a while the
// waiter sleeps until the holder's unlock wakes it: a holder preempted by
// a waiter of higher priority (SCHED_FIFO) then gets its CPU back, where a
// waiter that spins or yields keeps it from running (a yield passes the
// CPU only to threads of its own priority or above). Held through
// LockGuard (or UniqueLock, base/lock_guard.hpp), which Clang's
// thread-safety analysis follows.
//
//   state: 0 free -> 1 held -> 2 held, someone may sleep on it
//   unlock: 2 -> 0 wakes one sleeper
#pragma once

#include <atomic>
#include <cstdint>

#include "base/lock_guard.hpp"
#include "base/thread_safety.hpp"
#include "platform/platform.hpp"

namespace rulloc::base {

// Tells the CPU we are spinning (saves power, lets a sibling thread run).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

class RULLOC_CAPABILITY("spin lock") SpinLock {
 public:
  void lock() noexcept RULLOC_ACQUIRE() {
    if (take()) [[likely]] {
      return;
    }
    lock_contended();
  }
  void unlock() noexcept RULLOC_RELEASE() {
    if (state_.exchange(kFree, std::memory_order_release) == kSleepers)
        [[unlikely]] {
      platform::wake_one(state_);
    }
  }
  // Takes the lock only if it is free now (spins at most `spins` times
  // first, never sleeps): how a signal handler looks at what a lock
  // guards, since the thread it interrupted may be the holder.
  bool try_lock(int spins = 0) noexcept RULLOC_TRY_ACQUIRE(true) {
    for (;;) {
      if (take_if_free()) return true;
      if (spins-- <= 0) return false;
      cpu_relax();
    }
  }

 private:
  static constexpr std::uint32_t kFree = 0;
  static constexpr std::uint32_t kHeld = 1;
  static constexpr std::uint32_t kSleepers = 2;

  bool take() noexcept {
    std::uint32_t expected = kFree;
    return state_.compare_exchange_strong(
        expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed);
  }
  // Waits on a plain load: the cache line is not written until free.
  bool take_if_free() noexcept {
    return state_.load(std::memory_order_relaxed) == kFree && take();
  }
  [[gnu::noinline]] void lock_contended() noexcept {
    for (int spins = 0; spins < 128; ++spins) {
      cpu_relax();
      if (take_if_free()) return;
    }
    // Taken as kSleepers: this thread cannot know whether others sleep.
    while (state_.exchange(kSleepers, std::memory_order_acquire) != kFree) {
      platform::wait_while(state_, kSleepers);
    }
  }

  std::atomic<std::uint32_t> state_{kFree};
};

}  // namespace rulloc::base
