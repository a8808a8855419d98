// A lock for short critical sections (a bucket's first fit, split and
// merge; a batch of blocks moved between a thread cache and a pool):
// spinning a little is cheaper than sleeping in the kernel and being woken,
// which std::mutex does as soon as two threads meet. After a while it
// yields, so a preempted holder gets the CPU back. Held through LockGuard
// (or UniqueLock, base/lock_guard.hpp), which Clang's thread-safety analysis
// follows.
#pragma once

#include <atomic>

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
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      // Wait on a plain load: the cache line is not written until free.
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 128) {
          cpu_relax();
        } else {
          platform::yield();
        }
      }
    }
  }
  void unlock() noexcept RULLOC_RELEASE() {
    locked_.store(false, std::memory_order_release);
  }
  // Takes the lock only if it is free now (spins at most `spins` times
  // first, never yields): how a signal handler looks at what a lock guards,
  // since the thread it interrupted may be the holder.
  bool try_lock(int spins = 0) noexcept RULLOC_TRY_ACQUIRE(true) {
    for (;;) {
      if (!locked_.load(std::memory_order_relaxed) &&
          !locked_.exchange(true, std::memory_order_acquire)) {
        return true;
      }
      if (spins-- <= 0) return false;
      cpu_relax();
    }
  }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace rulloc::base
