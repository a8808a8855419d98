#include "platform/faults.hpp"

#include <atomic>

namespace rulloc::platform::faults {
namespace {

enum Mode : int { kOff, kAllAfter, kOneAfter };

std::atomic<int> mode{kOff};
std::atomic<std::size_t> remaining{0};  // successes still allowed
std::atomic<std::size_t> refusals{0};

void arm(Mode new_mode, std::size_t successes) noexcept {
  remaining.store(successes, std::memory_order_relaxed);
  refusals.store(0, std::memory_order_relaxed);
  mode.store(new_mode, std::memory_order_release);
}

}  // namespace

void fail_maps_after(std::size_t successes) noexcept {
  arm(kAllAfter, successes);
}

void fail_one_map_after(std::size_t successes) noexcept {
  arm(kOneAfter, successes);
}

void disarm() noexcept { mode.store(kOff, std::memory_order_release); }

std::size_t refused() noexcept {
  return refusals.load(std::memory_order_relaxed);
}

bool map_should_fail() noexcept {
  const int current = mode.load(std::memory_order_acquire);
  if (current == kOff) [[likely]]
    return false;
  std::size_t left = remaining.load(std::memory_order_relaxed);
  while (left > 0) {
    if (remaining.compare_exchange_weak(left, left - 1,
                                        std::memory_order_relaxed)) {
      return false;
    }
  }
  if (current == kOneAfter) disarm();
  refusals.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace rulloc::platform::faults
