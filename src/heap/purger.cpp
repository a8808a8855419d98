#include "heap/purger.hpp"

#include <cstdint>

#include "core/laned_engine.hpp"
#include "heap/options.hpp"
#include "heap/segments.hpp"
#include "heap/thread_cache.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {

std::atomic<bool> purger_thread_runs{false};

namespace {

// What a single-threaded process frees in one tick before it gets the
// thread: below that, its own frees give memory back.
constexpr std::size_t kStartBytes = std::size_t{8} << 20;
// The thread wakes this often to leave soon after the program's last thread.
constexpr long kWakeMs = 50;

core::LanedEngine* engine = nullptr;
// Set when the heap is built (options.hpp); mallopt() may change it later
// (> 0 to > 0), and the trim threshold at any time.
std::atomic<long> delay_ms{0};
std::atomic<long long> trim_threshold{kOff};
bool thread_allowed = true;
std::atomic<bool> thread_started{false};  // created, or being created
std::atomic<std::size_t> freed_since_round{0};
std::atomic<unsigned long long> next_round_ms{0};
std::atomic<std::uint64_t> rounds{0};
std::atomic<bool> round_busy{false};  // one round at a time
std::atomic<bool> stopped{false};     // at exit: no more rounds

long tick_ms() noexcept {
  const long delay = delay_ms.load(std::memory_order_relaxed);
  return delay / 2 > 0 ? delay / 2 : 1;
}

// Gives back what stayed free since the round before: slabs freed before
// the last tick, and what the engine's buckets left unused since then.
void run_round() noexcept {
  if (round_busy.exchange(true)) return;
  if (stopped.load()) {  // seq_cst with purger_stop(): one of them sees it
    round_busy.store(false, std::memory_order_release);
    return;
  }
  advance_purge_epoch();
  const std::uint32_t now = purge_epoch();
  if (now >= 2) purge_slabs_freed_before(now - 1);
  engine->trim_unused();
  freed_since_round.store(0, std::memory_order_relaxed);
  rounds.fetch_add(1, std::memory_order_release);
  round_busy.store(false, std::memory_order_release);
}

void stop_thread() noexcept {
  purger_thread_runs.store(false, std::memory_order_relaxed);
  thread_started.store(false, std::memory_order_release);
}

void purge_loop() noexcept {
  purger_thread_runs.store(true, std::memory_order_relaxed);
  for (long slept = 0;;) {
    // mallopt() may shorten the tick while this one sleeps: never negative.
    const long left = tick_ms() - slept;
    const long nap = left < kWakeMs ? (left > 0 ? left : 0) : kWakeMs;
    if (nap > 0) platform::sleep_ms(static_cast<unsigned long>(nap));
    slept += nap;
    // A process ends when its last thread does: if the program's threads
    // have all exited (pthread_exit), this one must not keep it alive.
    if (cache_live_threads() <= 0) {
      stop_thread();
      return;
    }
    if (slept < tick_ms()) continue;
    slept = 0;
    run_round();
  }
}

// Only where no lock of the C library can be held (purger.hpp). The thread
// must not take the program's signals, so it starts with all blocked
// (platform::start_thread does that); what creating it allocates is the
// library's, not the program's, so it is left out of the counters.
void start_thread() noexcept {
  if (thread_started.exchange(true, std::memory_order_acq_rel)) return;
  flush_counters();
  if (!platform::start_thread(purge_loop, "rulloc-purge")) {
    thread_started.store(false, std::memory_order_release);
  }
  discard_counters();
}

// How many free slabs may keep their pages until a round purges them: none
// at a delay of 0, else what trim_threshold allows (all of them when off).
std::size_t max_dirty_slabs() noexcept {
  if (delay_ms.load(std::memory_order_relaxed) == 0) return 0;
  const long long bytes = trim_threshold.load(std::memory_order_relaxed);
  return bytes < 0 ? SIZE_MAX : static_cast<std::size_t>(bytes) / kSlabBytes;
}

}  // namespace

void purger_configure(core::LanedEngine* target) noexcept {
  engine = target;
  delay_ms.store(static_cast<long>(option(Option::kPurgeDelayMs)),
                 std::memory_order_relaxed);
  thread_allowed = option(Option::kPurgeThread) != 0;
  trim_threshold.store(option(Option::kTrimThreshold),
                       std::memory_order_relaxed);
  // Free slabs keep their pages until a round comes (or forever, when
  // off): a program that frees and allocates again reuses them without
  // page faults. With a delay of 0 they are purged at once.
  set_max_dirty_slabs(max_dirty_slabs());
  next_round_ms.store(platform::monotonic_ms() + tick_ms(),
                      std::memory_order_relaxed);
}

void purger_note_freed_slow(std::size_t bytes) noexcept {
  if (delay_ms.load(std::memory_order_relaxed) <= 0 || engine == nullptr) {
    return;
  }
  const std::size_t freed =
      freed_since_round.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (thread_allowed && freed >= kStartBytes &&
      !thread_started.load(std::memory_order_relaxed) &&
      platform::thread_start_is_safe_anywhere()) {
    start_thread();
    return;
  }
  const unsigned long long now = platform::monotonic_ms();
  unsigned long long due = next_round_ms.load(std::memory_order_relaxed);
  if (now < due) return;
  if (next_round_ms.compare_exchange_strong(due, now + tick_ms(),
                                            std::memory_order_relaxed)) {
    run_round();
  }
}

void purger_before_thread_create() noexcept {
  if (delay_ms.load(std::memory_order_relaxed) <= 0 || !thread_allowed ||
      engine == nullptr) {
    return;
  }
  if (thread_started.load(std::memory_order_relaxed)) return;
  start_thread();
}

void purger_after_fork_in_child() noexcept {
  purger_thread_runs.store(false, std::memory_order_relaxed);
  thread_started.store(false, std::memory_order_relaxed);
  // The parent's thread may have been inside a round.
  round_busy.store(false, std::memory_order_relaxed);
}

bool purger_set_delay(long ms) noexcept {
  // 0 and "off" shape the heap when it is built (no big-block bucket, no
  // cache): only the environment sets them.
  if (ms <= 0 || ms > 86400000 ||
      delay_ms.load(std::memory_order_relaxed) <= 0) {
    return false;
  }
  delay_ms.store(ms, std::memory_order_relaxed);
  return true;
}

void purger_set_trim_threshold(long long bytes) noexcept {
  trim_threshold.store(bytes < 0 ? kOff : bytes, std::memory_order_relaxed);
  set_max_dirty_slabs(max_dirty_slabs());
}

void purger_stop() noexcept {
  stopped.store(true);
  while (round_busy.load()) platform::yield();
}

std::uint64_t purger_rounds() noexcept {
  return rounds.load(std::memory_order_acquire);
}

}  // namespace rulloc::heap
