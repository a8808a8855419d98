#include "core/retired_regions.hpp"

#include <atomic>
#include <cstdint>

namespace rulloc::core::retired_regions {
namespace {

constexpr std::size_t kSlots = 16;

struct Slot {
  std::atomic<std::uintptr_t> base{0};
  std::atomic<std::size_t> length{0};
};

Slot slots[kSlots];
std::atomic<std::size_t> next_slot{0};

}  // namespace

void record(const void* base, std::size_t length) noexcept {
  Slot& slot = slots[next_slot.fetch_add(1) % kSlots];
  slot.base.store(0);
  slot.length.store(length);
  slot.base.store(reinterpret_cast<std::uintptr_t>(base));
}

void forget(const void* base, std::size_t length) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(base);
  for (Slot& slot : slots) {
    std::uintptr_t other = slot.base.load();
    if (other != 0 && other < begin + length &&
        begin < other + slot.length.load()) {
      slot.base.compare_exchange_strong(other, 0);
    }
  }
}

bool contains(const void* pointer) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  for (Slot& slot : slots) {
    const std::uintptr_t base = slot.base.load(std::memory_order_acquire);
    if (base != 0 && address >= base &&
        address - base < slot.length.load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

}  // namespace rulloc::core::retired_regions
