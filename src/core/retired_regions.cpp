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

// Puts a range in the ring and returns the one it evicts, which the caller
// unmaps once the lock is released (the kernel may hand it out again at
// once). `writers` must be held.
Range record_locked(void* base, std::size_t length) noexcept {
  Slot& slot = slots[next_slot++ % kSlots];
  const Range evicted = take(slot);
  slot.length.store(length);
  slot.base.store(reinterpret_cast<std::uintptr_t>(base),
                  std::memory_order_release);
  return evicted;
}

}  // namespace

bool retire(void* base, std::size_t length) noexcept {
  // Recorded before the pages go, so a racing second free is reported
  // rather than reading them. The kernel call stays under the lock: were
  // the slot evicted (and the range unmapped and mapped anew by someone
  // else) before it, retiring would hit that new mapping.
  Range evicted;
  bool retired;
  {
    std::lock_guard lock(writers);
    evicted = record_locked(base, length);
    retired = platform::retire(base, length);
    if (!retired) {
      for (Slot& slot : slots) {
        if (slot.base.load() == reinterpret_cast<std::uintptr_t>(base)) {
          take(slot);
        }
      }
    }
  }
  unmap(evicted);
  return retired || platform::unmap(base, length);
}

void retire_moved(void* old_base, std::size_t length) noexcept {
  // Recorded only once reserved: until then another mapping may take it.
  if (!platform::reserve(old_base, length)) return;
  Range evicted;
  {
    std::lock_guard lock(writers);
    evicted = record_locked(old_base, length);
  }
  unmap(evicted);
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
