// A sleeping lock for rare, longer critical sections (mapping a segment,
// retiring a region: each costs a system call anyway), declared as a
// capability so that Clang's thread-safety analysis checks what it guards.
// std::mutex carries no such attributes in libstdc++. Over platform::Mutex,
// which never allocates (mingw-w64's std::mutex does, on its first lock).
#pragma once

#include "base/lock_guard.hpp"
#include "base/thread_safety.hpp"
#include "platform/mutex.hpp"

namespace rulloc::base {

class RULLOC_CAPABILITY("mutex") Mutex {
 public:
  // constexpr (platform::Mutex's is, on every system): a constant-
  // initialised global, ready before any constructor runs (the heap is
  // built on first use, maybe from another file's constructor).
  constexpr Mutex() noexcept = default;
  void lock() noexcept RULLOC_ACQUIRE() { mutex_.lock(); }
  void unlock() noexcept RULLOC_RELEASE() { mutex_.unlock(); }
  bool try_lock() noexcept RULLOC_TRY_ACQUIRE(true) {
    return mutex_.try_lock();
  }

 private:
  platform::Mutex mutex_;
};

}  // namespace rulloc::base
