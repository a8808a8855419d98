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

// Puts a range in the ring and unmaps the one it evicts, once no slot names
// that one any more (the kernel may hand it out again at once).
Slot* record(void* base, std::size_t length) noexcept {
  Range evicted;
  Slot* slot;
  {
    std::lock_guard lock(writers);
    slot = &slots[next_slot++ % kSlots];
    evicted = take(*slot);
    slot->length.store(length);
    slot->base.store(reinterpret_cast<std::uintptr_t>(base),
                     std::memory_order_release);
  }
  unmap(evicted);
  return slot;
}

}  // namespace

bool retire(void* base, std::size_t length) noexcept {
  // Recorded first: a racing second free must not read the pages as they go.
  Slot* slot = record(base, length);
  if (platform::retire(base, length)) return true;
  {
    std::lock_guard lock(writers);
    if (slot->base.load() == reinterpret_cast<std::uintptr_t>(base)) {
      take(*slot);
    }
  }
  return platform::unmap(base, length);
}

void retire_moved(void* old_base, std::size_t length) noexcept {
  // Recorded only once reserved: until then another mapping may take it.
  if (platform::reserve(old_base, length)) record(old_base, length);
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
