// Scoped holders for any lock with lock() and unlock() declared as a
// capability (SpinLock, Mutex): Clang's thread-safety analysis then knows
// which lock a scope holds, and checks the data RULLOC_GUARDED_BY it.
#pragma once

#include "base/thread_safety.hpp"

namespace rulloc::base {

// Holds a lock for a scope.
template <class Lock>
class RULLOC_SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(Lock& lock) noexcept RULLOC_ACQUIRE(lock) : lock_(lock) {
    lock_.lock();
  }
  ~LockGuard() RULLOC_RELEASE() { lock_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& lock_;
};

// Holds a lock for a scope, and lets it go for a while in between (a copy
// done outside a bucket's lock).
template <class Lock>
class RULLOC_SCOPED_CAPABILITY UniqueLock {
 public:
  explicit UniqueLock(Lock& lock) noexcept RULLOC_ACQUIRE(lock) : lock_(lock) {
    lock_.lock();
  }
  ~UniqueLock() RULLOC_RELEASE() {
    if (held_) lock_.unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;
  void unlock() noexcept RULLOC_RELEASE() {
    lock_.unlock();
    held_ = false;
  }
  void lock() noexcept RULLOC_ACQUIRE() {
    lock_.lock();
    held_ = true;
  }

 private:
  Lock& lock_;
  bool held_ = true;
};

}  // namespace rulloc::base
