// The OS's sleeping lock, for the heap's and the engine's rarer paths
// (segments, retired regions; base::Mutex wraps it for the thread-safety
// analysis). It never allocates: std::mutex of mingw-w64 (over winpthreads)
// allocates its state with malloc when it is first locked, which inside
// malloc would call the heap from under its own lock. On Windows it is an
// SRWLOCK (one word, all zero when unlocked, no kernel object); elsewhere
// std::mutex, which does not allocate.
#pragma once

#if defined(_WIN32)

namespace rulloc::platform {

class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void lock() noexcept;
  bool try_lock() noexcept;
  void unlock() noexcept;

 private:
  void* state_ = nullptr;  // an SRWLOCK: SRWLOCK_INIT is a null pointer
};

}  // namespace rulloc::platform

#else

#include <mutex>

namespace rulloc::platform {

using Mutex = std::mutex;

}  // namespace rulloc::platform

#endif
