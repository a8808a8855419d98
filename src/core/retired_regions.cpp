#include "core/retired_regions.hpp"

#include "core/page_map.hpp"

#include <atomic>
#include <cstdint>

#include "base/mutex.hpp"
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
// The slots are atomics, not guarded: contains() reads them unlocked.
base::Mutex writers;
Slot slots[kSlots];
std::size_t next_slot RULLOC_GUARDED_BY(writers) = 0;
// The smallest range holding every slot's, so that contains() answers most
// pointers (every free of an engine block asks) with two loads.
std::atomic<std::uintptr_t> lowest{UINTPTR_MAX};
std::atomic<std::uintptr_t> highest{0};

struct Range {
  std::uintptr_t base;
  std::size_t length;
};

// Recomputes the bounding range after the slots changed. `writers` must be
// held. A reader racing with a change may miss the range being recorded,
// as it would had it come a moment earlier; once retire() has returned,
// the range is within the bounds.
void bound_locked() noexcept RULLOC_REQUIRES(writers) {
  std::uintptr_t low = UINTPTR_MAX;
  std::uintptr_t high = 0;
  for (const Slot& slot : slots) {
    const std::uintptr_t base = slot.base.load(std::memory_order_relaxed);
    if (base == 0) continue;
    low = base < low ? base : low;
    const std::uintptr_t end =
        base + slot.length.load(std::memory_order_relaxed);
    high = end > high ? end : high;
  }
  lowest.store(low, std::memory_order_release);
  highest.store(high, std::memory_order_release);
}

// Empties a slot and returns what it held. `writers` must be held.
Range take(Slot& slot) noexcept RULLOC_REQUIRES(writers) {
  Range range{slot.base.load(), slot.length.load()};
  slot.base.store(0);
  return range;
}

void unmap(Range range) noexcept {
  if (range.base != 0) {
    platform::unmap(reinterpret_cast<void*>(range.base), range.length);
  }
}

// Puts a range in the ring, in the slot returned; `*evicted` is the range
// it held, which the caller unmaps once the lock is released (the kernel
// may hand it out again at once). `writers` must be held.
Slot& record_locked(void* base, std::size_t length, Range* evicted) noexcept
    RULLOC_REQUIRES(writers) {
  Slot& slot = slots[next_slot++ % kSlots];
  *evicted = take(slot);
  slot.length.store(length);
  slot.base.store(reinterpret_cast<std::uintptr_t>(base),
                  std::memory_order_release);
  bound_locked();
  return slot;
}

}  // namespace

bool retire(void* base, std::size_t length) noexcept {
  page_map::remove(base, length);
  // Recorded before the pages go, so a racing second free is reported
  // rather than reading them. The kernel call stays under the lock: were
  // the slot evicted (and the range unmapped and mapped anew by someone
  // else) before it, retiring would hit that new mapping.
  Range evicted;
  bool retired;
  {
    base::LockGuard lock(writers);
    Slot& slot = record_locked(base, length, &evicted);
    retired = platform::retire(base, length);
    if (!retired) {
      take(slot);
      bound_locked();
    }
  }
  unmap(evicted);
  if (retired || platform::unmap(base, length)) return true;
  page_map::add(base, length);  // still mapped, and its leaves exist
  return false;
}

void retire_moved(void* old_base, std::size_t length) noexcept {
  // Recorded only once reserved: until then another mapping may take it.
  if (!platform::reserve(old_base, length)) return;
  Range evicted;
  {
    base::LockGuard lock(writers);
    record_locked(old_base, length, &evicted);
  }
  unmap(evicted);
}

bool contains(const void* pointer) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(pointer);
  if (address < lowest.load(std::memory_order_acquire) ||
      address >= highest.load(std::memory_order_acquire)) {
    return false;
  }
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
    base::LockGuard lock(writers);
    for (std::size_t i = 0; i < kSlots; ++i) ranges[i] = take(slots[i]);
    bound_locked();
  }
  bool any = false;
  for (Range range : ranges) {
    any = any || range.base != 0;
    unmap(range);
  }
  return any;
}

}  // namespace rulloc::core::retired_regions
