#include "heap/purger.hpp"

#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

// The thread wakes this often to leave soon after the program's last thread.
constexpr long kWakeMs = 50;

}  // namespace

Purger::Purger(Segments& segments, PurgerConfig config) noexcept
    : segments_(segments), config_(config), delay_ms_(config.delay_ms) {
  next_round_ms_.store(config_.now_ms() + tick_ms(), std::memory_order_relaxed);
}

long Purger::tick_ms() const noexcept {
  const long delay = delay_ms();
  return delay / 2 > 0 ? delay / 2 : 1;
}

// Gives back what stayed free since the round before: slabs freed before
// the last tick, and what the engine's buckets left unused since then.
bool Purger::run_round() noexcept {
  if (round_busy_.exchange(true)) return false;
  if (stopped_.load()) {  // seq_cst with stop(): one of them sees the other
    round_busy_.store(false, std::memory_order_release);
    return false;
  }
  segments_.advance_purge_epoch();
  const std::uint32_t now = segments_.purge_epoch();
  if (now >= 2) segments_.purge_slabs_freed_before(now - 1);
  if (config_.trim_engine != nullptr) config_.trim_engine(config_.context);
  if (config_.trim_pools != nullptr) config_.trim_pools(config_.context);
  freed_since_round_.store(0, std::memory_order_relaxed);
  rounds_.fetch_add(1, std::memory_order_release);
  round_busy_.store(false, std::memory_order_release);
  return true;
}

void Purger::loop() noexcept {
  thread_runs_.store(true, std::memory_order_relaxed);
  for (long slept = 0;;) {
    // mallopt() may shorten the tick while this one sleeps: never negative.
    const long left = tick_ms() - slept;
    const long nap = left < kWakeMs ? (left > 0 ? left : 0) : kWakeMs;
    if (nap > 0) platform::sleep_ms(static_cast<unsigned long>(nap));
    slept += nap;
    // A process ends when its last thread does: if the program's threads
    // have all exited (pthread_exit), this one must not keep it alive.
    if (config_.live_threads(config_.context) <= 0) {
      thread_runs_.store(false, std::memory_order_relaxed);
      thread_started_.store(false, std::memory_order_release);
      return;
    }
    if (slept < tick_ms()) continue;
    slept = 0;
    run_round();
  }
}

// Only where no lock of the C library can be held (purger.hpp).
void Purger::start_thread() noexcept {
  if (thread_started_.exchange(true, std::memory_order_acq_rel)) return;
  if (config_.before_start != nullptr) config_.before_start(config_.context);
  if (!config_.start_thread(config_.context)) {
    thread_started_.store(false, std::memory_order_release);
  }
  if (config_.after_start != nullptr) config_.after_start(config_.context);
}

void Purger::note_freed_slow(std::size_t bytes) noexcept {
  if (delay_ms() <= 0) return;
  const std::size_t freed =
      freed_since_round_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (config_.thread_allowed && config_.start_thread != nullptr &&
      freed >= config_.start_bytes &&
      !thread_started_.load(std::memory_order_relaxed) &&
      platform::thread_start_is_safe_anywhere()) {
    start_thread();
    return;
  }
  const unsigned long long now = config_.now_ms();
  unsigned long long due = next_round_ms_.load(std::memory_order_relaxed);
  if (now < due) return;
  const unsigned long long next = now + tick_ms();
  if (!next_round_ms_.compare_exchange_strong(due, next,
                                              std::memory_order_relaxed)) {
    return;
  }
  if (!run_round() && !stopped_.load(std::memory_order_relaxed)) {
    // Another round was still under way: this one stays due, so the next
    // free runs it (else it would wait for the tick after, or for ever
    // when nothing moves the clock).
    unsigned long long mine = next;
    next_round_ms_.compare_exchange_strong(mine, due,
                                           std::memory_order_relaxed);
  }
}

void Purger::before_thread_create() noexcept {
  if (delay_ms() <= 0 || !config_.thread_allowed ||
      config_.start_thread == nullptr) {
    return;
  }
  if (thread_started_.load(std::memory_order_relaxed)) return;
  start_thread();
}

void Purger::after_fork_in_child() noexcept {
  thread_runs_.store(false, std::memory_order_relaxed);
  thread_started_.store(false, std::memory_order_relaxed);
  // The parent's thread may have been inside a round.
  round_busy_.store(false, std::memory_order_relaxed);
}

void Purger::stop() noexcept {
  stopped_.store(true);
  while (round_busy_.load()) platform::yield();
}

bool Purger::set_delay(long ms) noexcept {
  // 0 and "off" shape the heap when it is built (no big-block bucket, no
  // cache): only the config sets them.
  if (ms <= 0 || ms > 86400000 || delay_ms() <= 0) return false;
  delay_ms_.store(ms, std::memory_order_relaxed);
  return true;
}

}  // namespace rulloc::heap
