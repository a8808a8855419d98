#include "heap/cache_checks.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>

#include "base/spin_lock.hpp"
#include "heap/inspect.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

// Threads beyond this many are not asked (and counted as unchecked).
constexpr std::size_t kSlots = 512;

struct Slot {
  std::atomic<bool> taken{false};
  std::atomic<std::uint64_t> answered{0};  // the last request answered
};

Slot slots[kSlots];
// Requests so far; a slot answered up to this one owes nothing.
std::atomic<std::uint64_t> requested{0};
// Threads with a cache that found no free slot.
std::atomic<std::size_t> without_slot{0};

// The first violation an answer found, and the request it answered.
base::SpinLock violation_lock;
char violation[256] RULLOC_GUARDED_BY(violation_lock);
std::uint64_t violation_request RULLOC_GUARDED_BY(violation_lock) = 0;

// The calling thread's slot (-1: none) and the last request it answered.
__thread int own_slot __attribute__((tls_model("initial-exec"))) = -1;
__thread bool slotless __attribute__((tls_model("initial-exec"))) = false;

void answer(std::uint64_t request) noexcept {
  char found[sizeof(violation)];
  base::Bounded bounded(found, sizeof(found));
  bool sound;
  {
    base::Text out(base::Bounded::sink, &bounded);
    sound = check_own_cache(out, "another thread's");
  }
  if (!sound) {
    base::LockGuard guard(violation_lock);
    if (violation_request < request) {
      std::memcpy(violation, found, sizeof(found));
      violation_request = request;
    }
  }
  slots[own_slot].answered.store(request, std::memory_order_release);
}

}  // namespace

void cache_checks_join() noexcept {
  const std::uint64_t now = requested.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!slots[i].taken.load(std::memory_order_relaxed) &&
        slots[i].taken.compare_exchange_strong(expected, true,
                                               std::memory_order_acq_rel)) {
      // A new cache is empty: it owes nothing asked before.
      slots[i].answered.store(now, std::memory_order_release);
      own_slot = static_cast<int>(i);
      return;
    }
  }
  slotless = true;
  without_slot.fetch_add(1, std::memory_order_relaxed);
}

void cache_checks_leave() noexcept {
  if (own_slot >= 0) {
    slots[own_slot].taken.store(false, std::memory_order_release);
    own_slot = -1;
  } else if (slotless) {
    slotless = false;
    without_slot.fetch_sub(1, std::memory_order_relaxed);
  }
}

void cache_checks_answer() noexcept {
  if (own_slot < 0) return;
  const std::uint64_t request = requested.load(std::memory_order_acquire);
  if (request != slots[own_slot].answered.load(std::memory_order_relaxed)) {
    answer(request);
  }
}

bool check_other_caches(base::Text& error, unsigned long wait_ms,
                        std::size_t* unchecked) noexcept {
  const std::uint64_t request =
      requested.fetch_add(1, std::memory_order_acq_rel) + 1;
  // The caller's own cache is checked by the caller itself; its slot is
  // marked so that a concurrent checker does not wait for it.
  if (own_slot >= 0) {
    slots[own_slot].answered.store(request, std::memory_order_release);
  }
  const unsigned long long deadline = platform::monotonic_ms() + wait_ms;
  std::size_t pending;
  for (;;) {
    pending = 0;
    for (std::size_t i = 0; i < kSlots; ++i) {
      if (static_cast<int>(i) != own_slot &&
          slots[i].taken.load(std::memory_order_acquire) &&
          slots[i].answered.load(std::memory_order_acquire) < request) {
        ++pending;
      }
    }
    if (pending == 0 || platform::monotonic_ms() >= deadline) break;
    platform::sleep_ms(1);
  }
  *unchecked = pending + without_slot.load(std::memory_order_relaxed);
  base::LockGuard guard(violation_lock);
  if (violation_request >= request) {
    error << violation;
    return false;
  }
  return true;
}

void cache_checks_after_fork_in_child() noexcept {
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (static_cast<int>(i) != own_slot) {
      slots[i].taken.store(false, std::memory_order_relaxed);
    }
  }
  without_slot.store(0, std::memory_order_relaxed);
  slotless = false;
}

}  // namespace rulloc::heap
