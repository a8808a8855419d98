#include "heap/segments.hpp"

#include <atomic>
#include <bit>
#include <mutex>

#include "base/alignment.hpp"
#include "base/spin_lock.hpp"
#include "heap/class_pool.hpp"
#include "heap/secure.hpp"
#include "heap/size_classes.hpp"
#include "platform/mutex.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

// Up to this many free slabs keep their pages, so a program that frees and
// allocates in turn does not fault the same pages in again. The purger
// (purger.hpp) sets it.
std::size_t max_dirty_slabs = 16;
std::atomic<std::uint32_t> epoch{0};

platform::Mutex lock;
Segment* open_segments = nullptr;  // segments with at least one free slab
std::atomic<Segment*> all_segments{nullptr};  // newest first, never shrinks
std::size_t segment_count = 0;
std::size_t slabs_in_use = 0;
std::size_t dirty_slabs = 0;

// A different key per segment, none of which gives away the secret.
[[maybe_unused]] std::uintptr_t mix(std::uintptr_t value) noexcept {
  value ^= value >> 31;
  value *= 0x7FB5D329728EA185u;
  value ^= value >> 27;
  value *= 0x81DADEF4BC2DD44Du;
  return value ^ (value >> 33);
}

// Secure mode's guard at the end of each slab: one page.
std::size_t guard_bytes() noexcept {
  return kSecure ? platform::page_size() : 0;
}

// Slab 0 holds the header; every other slab starts free.
constexpr std::uint64_t kAllSlabs = ~std::uint64_t{1};

void open(Segment* segment) noexcept {
  segment->prev = nullptr;
  segment->next = open_segments;
  if (open_segments != nullptr) open_segments->prev = segment;
  open_segments = segment;
  segment->open = true;
}

void close(Segment* segment) noexcept {
  if (segment->prev != nullptr) {
    segment->prev->next = segment->next;
  } else {
    open_segments = segment->next;
  }
  if (segment->next != nullptr) segment->next->prev = segment->prev;
  segment->open = false;
}

void mark(const Segment* segment) noexcept {
  const auto index = reinterpret_cast<std::uintptr_t>(segment) >> kSegmentShift;
  segment_map[index / 64].fetch_or(std::uint64_t{1} << (index % 64),
                                   std::memory_order_release);
}

// Aligned to its size, so a pointer's segment is its address rounded down.
Segment* map_segment() noexcept {
  const auto aligned = static_cast<std::byte*>(
      platform::map_aligned(kSegmentBytes, kSegmentBytes));
  if (aligned == nullptr) return nullptr;
  auto* segment = reinterpret_cast<Segment*>(aligned);
  segment->free_slabs = kAllSlabs;
  segment->dirty_slabs = 0;
  if constexpr (kSecure) {
    segment->key =
        mix(free_block_secret ^ reinterpret_cast<std::uintptr_t>(segment));
    // The last page of every slab: an overflow off a slab's last block
    // stops the program instead of reaching the next slab.
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      platform::make_guard(aligned + (i + 1) * kSlabBytes - guard_bytes(),
                           guard_bytes());
    }
  }
  mark(segment);
  ++segment_count;
  open(segment);
  segment->older = all_segments.load(std::memory_order_relaxed);
  all_segments.store(segment, std::memory_order_release);
  return segment;
}

std::size_t index_of(const Slab* slab) noexcept {
  return static_cast<std::size_t>(slab - segment_of(slab)->slabs);
}

// Purges the dirty free slabs of one segment given back before `before`
// (all when it is 0), a run of neighbours at a time.
std::size_t purge(Segment* segment, std::uint32_t before = 0) noexcept {
  std::size_t purged = 0;
  std::uint64_t dirty = segment->dirty_slabs;
  if (before != 0) {
    for (std::uint64_t bits = dirty; bits != 0; bits &= bits - 1) {
      const auto i = static_cast<std::size_t>(std::countr_zero(bits));
      if (segment->slabs[i].freed_at >= before) {
        dirty &= ~(std::uint64_t{1} << i);
      }
    }
  }
  const std::uint64_t purging = dirty;
  while (dirty != 0) {
    const auto first = static_cast<std::size_t>(std::countr_zero(dirty));
    const auto run = static_cast<std::size_t>(std::countr_one(dirty >> first));
    platform::purge(slab_start(&segment->slabs[first]), run * kSlabBytes);
    purged += run * kSlabBytes;
    dirty &= run == 64 ? 0 : ~(((std::uint64_t{1} << run) - 1) << first);
  }
  dirty_slabs -= purged / kSlabBytes;
  segment->dirty_slabs &= ~purging;
  return purged;
}

}  // namespace

Slab* take_slab(std::size_t size_class, std::size_t lane) noexcept {
  std::lock_guard guard(lock);
  // A slab whose pages are still there costs no page faults and no memory.
  Segment* segment = open_segments;
  if (dirty_slabs > 0) {
    while ((segment->free_slabs & segment->dirty_slabs) == 0) {
      segment = segment->next;
    }
  }
  if (segment == nullptr && (segment = map_segment()) == nullptr) {
    return nullptr;
  }
  std::uint64_t choice = segment->free_slabs & segment->dirty_slabs;
  if (choice == 0) choice = segment->free_slabs;
  const auto index = static_cast<std::size_t>(std::countr_zero(choice));
  const std::uint64_t bit = std::uint64_t{1} << index;
  if ((segment->dirty_slabs & bit) != 0) --dirty_slabs;
  segment->free_slabs &= ~bit;
  segment->dirty_slabs &= ~bit;
  if (segment->free_slabs == 0) close(segment);
  ++slabs_in_use;

  Slab* slab = &segment->slabs[index];
  *slab = Slab{};
  const std::size_t size = class_size(size_class);
  SlabShape& shape = segment->shapes[index];
  shape.block_size = static_cast<std::uint32_t>(size);
  shape.reciprocal =
      static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + size - 1) / size);
  shape.capacity =
      static_cast<std::uint16_t>((kSlabBytes - guard_bytes()) / size);
  shape.size_class = static_cast<std::uint8_t>(size_class);
  shape.lane = static_cast<std::uint8_t>(lane);
  return slab;
}

void give_back_slab(Slab* slab) noexcept {
  std::lock_guard guard(lock);
  Segment* segment = segment_of(slab);
  const std::uint64_t bit = std::uint64_t{1} << index_of(slab);
  // From now on no pointer into this slab passes is_block_start().
  slab_shape(slab) = SlabShape{};
  segment->free_slabs |= bit;
  segment->dirty_slabs |= bit;
  slab->freed_at = epoch.load(std::memory_order_relaxed);
  --slabs_in_use;
  if (!segment->open) open(segment);
  if (++dirty_slabs > max_dirty_slabs) purge(segment);
}

std::size_t purge_free_slabs() noexcept {
  std::lock_guard guard(lock);
  std::size_t purged = 0;
  for (Segment* segment = open_segments; segment != nullptr;
       segment = segment->next) {
    purged += purge(segment);
  }
  return purged;
}

void advance_purge_epoch() noexcept {
  epoch.fetch_add(1, std::memory_order_relaxed);
}

std::uint32_t purge_epoch() noexcept {
  return epoch.load(std::memory_order_relaxed);
}

std::size_t purge_slabs_freed_before(std::uint32_t before) noexcept {
  std::lock_guard guard(lock);
  if (dirty_slabs == 0 || before == 0) return 0;
  std::size_t purged = 0;
  for (Segment* segment = open_segments; segment != nullptr;
       segment = segment->next) {
    purged += purge(segment, before);
  }
  return purged;
}

void set_max_dirty_slabs(std::size_t count) noexcept {
  std::lock_guard guard(lock);
  max_dirty_slabs = count;
}

SegmentStats segment_stats() noexcept {
  std::lock_guard guard(lock);
  return {segment_count, slabs_in_use};
}

void lock_segments() noexcept { lock.lock(); }
void unlock_segments() noexcept { lock.unlock(); }

Segment* newest_segment() noexcept {
  return all_segments.load(std::memory_order_acquire);
}

namespace {

bool fail(base::Text& error, const Segment* segment, std::size_t slab,
          const char* what) noexcept {
  error << "segment " << static_cast<const void*>(segment);
  if (slab != 0) error << " slab " << slab;
  error << ": " << what;
  return false;
}

// The shape a slab of `size_class` gets from take_slab().
bool shape_is_sound(const SlabShape& shape) noexcept {
  if (shape.size_class >= kClassCount || shape.lane >= kLanes) return false;
  const std::size_t size = class_size(shape.size_class);
  return shape.block_size == size &&
         shape.reciprocal ==
             static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + size - 1) /
                                        size) &&
         shape.capacity == (kSlabBytes - guard_bytes()) / size;
}

}  // namespace

bool check_segments(base::Text& error) noexcept {
  std::lock_guard guard(lock);
  std::size_t segments = 0, in_use = 0, dirty = 0, listed_open = 0;
  for (const Segment* s = open_segments; s != nullptr; s = s->next) {
    if (++listed_open > segment_count) {
      return fail(error, s, 0, "the list of open segments has a cycle");
    }
    if (!s->open) return fail(error, s, 0, "listed as open but marked closed");
    if (s->next != nullptr && s->next->prev != s) {
      return fail(error, s, 0, "broken links of the open segments");
    }
  }
  for (const Segment* s = newest_segment(); s != nullptr; s = s->older) {
    if (++segments > segment_count) {
      return fail(error, s, 0, "more segments than counted");
    }
    if (reinterpret_cast<std::uintptr_t>(s) % kSegmentBytes != 0 ||
        shape_of(s) != &s->shapes[0]) {
      return fail(error, s, 0, "not an aligned segment in the segment map");
    }
    if ((s->free_slabs & 1) != 0 || (s->dirty_slabs & 1) != 0) {
      return fail(error, s, 0, "the header's slab 0 is marked free");
    }
    if ((s->dirty_slabs & ~s->free_slabs) != 0) {
      return fail(error, s, 0, "a slab in use is marked dirty (free)");
    }
    if (s->open != (s->free_slabs != 0)) {
      return fail(
          error, s, 0,
          s->open ? "open, with no free slab" : "closed, with free slabs");
    }
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      const SlabShape& shape = s->shapes[i];
      if ((s->free_slabs >> i) & 1) {
        if (shape.block_size != 0 || shape.capacity != 0) {
          return fail(error, s, i, "a free slab keeps the shape of a class");
        }
        continue;
      }
      ++in_use;
      if (!shape_is_sound(shape)) {
        return fail(error, s, i,
                    "shape (block size, capacity, reciprocal, lane) does not "
                    "match its size class");
      }
    }
    dirty += static_cast<std::size_t>(std::popcount(s->dirty_slabs));
  }
  if (segments != segment_count) {
    return fail(error, nullptr, 0, "fewer segments than counted");
  }
  if (in_use != slabs_in_use) {
    return fail(error, nullptr, 0, "slabs in use miscounted");
  }
  if (dirty != dirty_slabs) {
    return fail(error, nullptr, 0, "dirty free slabs miscounted");
  }
  return true;
}

namespace {

// The segments' lock only if it is free now or soon (a signal handler's
// way: the thread it interrupted may hold it).
bool try_lock_briefly() noexcept {
  for (int spins = 0; spins < 4000; ++spins) {
    if (lock.try_lock()) return true;
    base::cpu_relax();
  }
  return false;
}

}  // namespace

bool view_segment(const Segment* segment, SegmentView* view,
                  bool try_only) noexcept {
  if (try_only) {
    if (!try_lock_briefly()) return false;
  } else {
    lock.lock();
  }
  view->free_slabs = segment->free_slabs;
  view->dirty_slabs = segment->dirty_slabs;
  for (std::size_t i = 0; i < kSlabsPerSegment; ++i) {
    view->shapes[i] = segment->shapes[i];
  }
  lock.unlock();
  return true;
}

bool slab_has_shape(const Slab* slab, const SlabShape& shape, bool try_only,
                    bool* busy) noexcept {
  if (try_only) {
    if (!try_lock_briefly()) {
      *busy = true;
      return false;
    }
  } else {
    lock.lock();
  }
  const Segment* segment = segment_of(slab);
  const std::size_t index = static_cast<std::size_t>(slab - segment->slabs);
  const SlabShape& now = segment->shapes[index];
  const bool same =
      ((segment->free_slabs >> index) & 1) == 0 &&
      now.block_size == shape.block_size && now.capacity == shape.capacity &&
      now.size_class == shape.size_class && now.lane == shape.lane;
  lock.unlock();
  return same;
}

}  // namespace rulloc::heap
