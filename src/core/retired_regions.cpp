#include "core/retired_regions.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>

#include "platform/platform.hpp"

namespace rulloc::core::retired_regions {
namespace {

constexpr std::size_t kSlots = 16;

struct Slot {
  std::atomic<std::uintptr_t> base{0};
  std::atomic<std::size_t> length{0};
};

// Writers take the lock (retiring is rare and costs a system call anyway);
// contains() reads without it, on every free.
std::mutex writers;
Slot slots[kSlots];
std::size_t next_slot = 0;

struct Range {
  std::uintptr_t base;
  std::size_t length;
};

// Empties a slot and returns what it held. `writers` must be held.
Range take(Slot& slot) noexcept {
  Range range{slot.base.load(), slot.length.load()};
  slot.base.store(0);
  return range;
}

void unmap(Range range) noexcept {
  if (range.base != 0) {
    platform::unmap(reinterpret_cast<void*>(range.base), range.length);
  }
}

}  // namespace

bool retire(void* base, std::size_t length) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(base);
  Range evicted;
  Slot* slot;
  {
    std::lock_guard lock(writers);
    slot = &slots[next_slot++ % kSlots];
    evicted = take(*slot);
    slot->length.store(length);
    slot->base.store(address, std::memory_order_release);
  }
  // Unmapped only once no slot names it: the kernel may reuse it at once.
  unmap(evicted);
  if (platform::retire(base, length)) return true;
  {
    std::lock_guard lock(writers);
    if (slot->base.load() == address) take(*slot);
  }
  return platform::unmap(base, length);
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

bool release_all() noexcept {
  Range ranges[kSlots];
  {
    std::lock_guard lock(writers);
    for (std::size_t i = 0; i < kSlots; ++i) ranges[i] = take(slots[i]);
  }
  bool any = false;
  for (Range range : ranges) {
    any = any || range.base != 0;
    unmap(range);
  }
  return any;
}

}  // namespace rulloc::core::retired_regions
