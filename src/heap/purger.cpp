#include "heap/purger.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "heap/segments.hpp"
#include "heap/thread_cache.hpp"
#include "rulloc/detail/engine.hpp"

namespace rulloc::heap {
namespace {

constexpr long kDefaultDelayMs = 1000;

detail::Engine* engine = nullptr;
long delay_ms = kDefaultDelayMs;
std::atomic<bool> started{false};
std::atomic<bool> running{false};

void sleep_ms(long ms) noexcept {
  timespec pause{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0) {
  }
}

// Wakes often enough to leave soon after the program's last thread; purges
// every half delay.
constexpr long kWakeMs = 50;

void* purge_loop(void*) noexcept {
  const long tick = delay_ms / 2 > 0 ? delay_ms / 2 : 1;
  for (long slept = 0;;) {
    const long nap = tick - slept < kWakeMs ? tick - slept : kWakeMs;
    sleep_ms(nap);
    slept += nap;
    // A process ends when its last thread does: if the program's threads
    // have all exited (pthread_exit), this one must not keep it alive.
    if (cache_live_threads() <= 0) {
      running.store(false, std::memory_order_relaxed);
      started.store(false, std::memory_order_release);
      return nullptr;  // not pthread_exit: it unwinds, through noexcept
    }
    if (slept < tick) continue;
    slept = 0;
    advance_purge_epoch();
    // Slabs given back before the last tick.
    const std::uint32_t now = purge_epoch();
    if (now >= 2) purge_slabs_freed_before(now - 1);
    // What the engine's buckets left unused since the last tick: like the
    // slabs, it goes back one to two ticks after its last use.
    engine->trim_unused();
  }
}

// The thread must not take the program's signals, so it starts with every
// signal blocked.
void start() noexcept {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  pthread_t thread;
  if (pthread_create(&thread, &attributes, purge_loop, nullptr) == 0) {
    pthread_setname_np(thread, "rulloc-purge");
    running.store(true, std::memory_order_relaxed);
  }
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

long purger_read_delay() noexcept {
  const char* text = std::getenv("RULLOC_PURGE_DELAY_MS");
  if (text != nullptr && text[0] != '\0') {
    if (std::strcmp(text, "off") == 0) {
      delay_ms = -1;
    } else {
      char* end = nullptr;
      const long value = std::strtol(text, &end, 10);
      if (end != text && *end == '\0' && value >= 0) delay_ms = value;
    }
  }
  return delay_ms;
}

void purger_configure(detail::Engine* target) noexcept {
  engine = target;
  // Free slabs keep their pages until the purger comes (or forever, when
  // off): a program that frees and allocates again reuses them without
  // page faults. With a delay of 0 they are purged at once.
  set_max_dirty_slabs(delay_ms == 0 ? 0 : SIZE_MAX);
  if (delay_ms <= 0) started.store(true, std::memory_order_relaxed);
}

bool purger_wanted() noexcept {
  return !started.load(std::memory_order_relaxed);
}

void purger_wake() noexcept {
  if (started.exchange(true, std::memory_order_acq_rel)) return;
  start();
}

void purger_after_fork_in_child() noexcept {
  running.store(false, std::memory_order_relaxed);
  if (delay_ms > 0) started.store(false, std::memory_order_relaxed);
}

bool purger_running() noexcept {
  return running.load(std::memory_order_relaxed);
}

long purger_delay_ms() noexcept { return delay_ms; }

}  // namespace rulloc::heap
