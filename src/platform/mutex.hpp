// The OS's sleeping lock, for the heap's and the engine's rarer paths
// (segments, retired regions; base::Mutex wraps it for the thread-safety
// analysis). It never allocates: std::mutex of mingw-w64 (over winpthreads)
// allocates its state with malloc when it is first locked, which inside
// malloc would call the heap from under its own lock. On Windows it is an
// SRWLOCK (one word, all zero when unlocked, no kernel object); elsewhere
// a pthread mutex. Not std::mutex there either: its lock() throws
// std::system_error from the C++ library, which librulloc.so does not link
// (a C program preloading it must not load libstdc++).
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

#include <pthread.h>

namespace rulloc::platform {

class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  // A default mutex fails only when misused (never locked twice here).
  void lock() noexcept { pthread_mutex_lock(&mutex_); }
  bool try_lock() noexcept { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() noexcept { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
};

}  // namespace rulloc::platform

#endif
