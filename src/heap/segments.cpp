#include "heap/segments.hpp"

#include <atomic>
#include <bit>

#include "base/spin_lock.hpp"
#include "heap/secure.hpp"
#include "heap/size_classes.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

// Secure mode's guard at the end of each slab: one page.
std::size_t guard_bytes() noexcept {
  return kSecure ? platform::page_size() : 0;
}

// Slab 0 holds the header; every other slab starts free.
constexpr std::uint64_t kAllSlabs = ~std::uint64_t{1};

std::size_t map_index(const Segment* segment) noexcept {
  return reinterpret_cast<std::uintptr_t>(segment) >> kSegmentShift;
}

void mark(const Segment* segment) noexcept {
  const std::size_t index = map_index(segment);
  segment_map[index / 64].fetch_or(std::uint64_t{1} << (index % 64),
                                   std::memory_order_release);
}

void unmark(const Segment* segment) noexcept {
  const std::size_t index = map_index(segment);
  segment_map[index / 64].fetch_and(~(std::uint64_t{1} << (index % 64)),
                                    std::memory_order_release);
}

std::size_t index_of(const Slab* slab) noexcept {
  return static_cast<std::size_t>(slab - segment_of(slab)->slabs);
}

}  // namespace

void Segments::add_open(Segment* segment) noexcept {
  segment->prev = nullptr;
  segment->next = open_;
  if (open_ != nullptr) open_->prev = segment;
  open_ = segment;
  segment->open = true;
}

void Segments::remove_open(Segment* segment) noexcept {
  if (segment->prev != nullptr) {
    segment->prev->next = segment->next;
  } else {
    open_ = segment->next;
  }
  if (segment->next != nullptr) segment->next->prev = segment->prev;
  segment->open = false;
}

// Aligned to its size, so a pointer's segment is its address rounded down.
Segment* Segments::map_segment() noexcept {
  if (segment_count_ >= max_segments_) return nullptr;
  const auto aligned = static_cast<std::byte*>(
      platform::map_aligned(kSegmentBytes, kSegmentBytes));
  if (aligned == nullptr) return nullptr;
  auto* segment = reinterpret_cast<Segment*>(aligned);
  segment->free_slabs = kAllSlabs;
  segment->dirty_slabs = 0;
  if constexpr (kSecure) {
    // The last page of every slab: an overflow off a slab's last block
    // stops the program instead of reaching the next slab.
    for (std::size_t i = 1; i < kSlabsPerSegment; ++i) {
      platform::make_guard(aligned + (i + 1) * kSlabBytes - guard_bytes(),
                           guard_bytes());
    }
  }
  mark(segment);
  ++segment_count_;
  add_open(segment);
  segment->older = all_.load(std::memory_order_relaxed);
  all_.store(segment, std::memory_order_release);
  return segment;
}

// Purges the dirty free slabs of one segment given back before `before`
// (all when it is 0), a run of neighbours at a time.
std::size_t Segments::purge(Segment* segment, std::uint32_t before) noexcept {
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
  dirty_slabs_ -= purged / kSlabBytes;
  segment->dirty_slabs &= ~purging;
  return purged;
}

Slab* Segments::take_slab(std::size_t size_class, std::size_t lane,
                          bool only_with_pages) noexcept {
  base::LockGuard guard(lock_);
  if (only_with_pages && dirty_slabs_ == 0) return nullptr;
  // A slab whose pages are still there costs no page faults and no memory.
  Segment* segment = open_;
  if (dirty_slabs_ > 0) {
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
  if ((segment->dirty_slabs & bit) != 0) --dirty_slabs_;
  segment->free_slabs &= ~bit;
  segment->dirty_slabs &= ~bit;
  if (segment->free_slabs == 0) remove_open(segment);
  ++slabs_in_use_;

  Slab* slab = &segment->slabs[index];
  *slab = Slab{};
  const std::size_t size = class_size(size_class);
  SlabShape& shape = segment->shapes[index];
  const std::size_t capacity = (kSlabBytes - guard_bytes()) / size;
  shape.multiple_test = multiple_test(size);
  shape.block_size = static_cast<std::uint16_t>(size);
  shape.last_block = static_cast<std::uint16_t>((capacity - 1) * size);
  shape.capacity = static_cast<std::uint16_t>(capacity);
  shape.size_class = static_cast<std::uint8_t>(size_class);
  shape.lane = static_cast<std::uint8_t>(lane);
  return slab;
}

void Segments::give_back_slab(Slab* slab) noexcept {
  base::LockGuard guard(lock_);
  Segment* segment = segment_of(slab);
  const std::uint64_t bit = std::uint64_t{1} << index_of(slab);
  // From now on no pointer into this slab passes is_block_start().
  slab_shape(slab) = SlabShape{};
  segment->free_slabs |= bit;
  segment->dirty_slabs |= bit;
  slab->freed_at = epoch_.load(std::memory_order_relaxed);
  --slabs_in_use_;
  if (!segment->open) add_open(segment);
  if (++dirty_slabs_ > max_dirty_slabs_) purge(segment);
}

std::size_t Segments::purge_free_slabs() noexcept {
  base::LockGuard guard(lock_);
  std::size_t purged = 0;
  for (Segment* segment = open_; segment != nullptr; segment = segment->next) {
    purged += purge(segment);
  }
  return purged;
}

std::size_t Segments::purge_slabs_freed_before(std::uint32_t before) noexcept {
  base::LockGuard guard(lock_);
  if (dirty_slabs_ == 0 || before == 0) return 0;
  std::size_t purged = 0;
  for (Segment* segment = open_; segment != nullptr; segment = segment->next) {
    purged += purge(segment, before);
  }
  return purged;
}

void Segments::set_max_dirty_slabs(std::size_t count) noexcept {
  base::LockGuard guard(lock_);
  max_dirty_slabs_ = count;
}

SegmentStats Segments::stats() noexcept {
  base::LockGuard guard(lock_);
  return {segment_count_, slabs_in_use_, dirty_slabs_};
}

void Segments::unmap_all() noexcept {
  base::LockGuard guard(lock_);
  Segment* segment = all_.exchange(nullptr, std::memory_order_acq_rel);
  while (segment != nullptr) {
    Segment* older = segment->older;
    unmark(segment);
    platform::unmap(segment, kSegmentBytes);
    segment = older;
  }
  open_ = nullptr;
  segment_count_ = slabs_in_use_ = dirty_slabs_ = 0;
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
bool shape_is_sound(const SlabShape& shape, std::size_t lanes) noexcept {
  if (shape.size_class >= kClassCount || shape.lane >= lanes) return false;
  const std::size_t size = class_size(shape.size_class);
  const std::size_t capacity = (kSlabBytes - guard_bytes()) / size;
  return shape.block_size == size &&
         shape.multiple_test == multiple_test(size) &&
         shape.capacity == capacity &&
         shape.last_block == (capacity - 1) * size;
}

}  // namespace

bool Segments::check(base::Text& error, std::size_t lanes) noexcept {
  base::LockGuard guard(lock_);
  std::size_t segments = 0, in_use = 0, dirty = 0, listed_open = 0;
  for (const Segment* s = open_; s != nullptr; s = s->next) {
    if (++listed_open > segment_count_) {
      return fail(error, s, 0, "the list of open segments has a cycle");
    }
    if (!s->open) return fail(error, s, 0, "listed as open but marked closed");
    if (s->next != nullptr && s->next->prev != s) {
      return fail(error, s, 0, "broken links of the open segments");
    }
  }
  for (const Segment* s = newest(); s != nullptr; s = s->older) {
    if (++segments > segment_count_) {
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
      if (!shape_is_sound(shape, lanes)) {
        return fail(error, s, i,
                    "shape (block size, capacity, block test, lane) does not "
                    "match its size class");
      }
    }
    dirty += static_cast<std::size_t>(std::popcount(s->dirty_slabs));
  }
  if (segments != segment_count_) {
    return fail(error, nullptr, 0, "fewer segments than counted");
  }
  if (in_use != slabs_in_use_) {
    return fail(error, nullptr, 0, "slabs in use miscounted");
  }
  if (dirty != dirty_slabs_) {
    return fail(error, nullptr, 0, "dirty free slabs miscounted");
  }
  return true;
}

// With `try_only`, the lock only if it is free now or soon (a signal
// handler's way: the thread it interrupted may hold it).
bool Segments::lock_briefly(bool try_only) noexcept {
  if (!try_only) {
    lock_.lock();
    return true;
  }
  for (int spins = 0; spins < 4000; ++spins) {
    if (lock_.try_lock()) return true;
    base::cpu_relax();
  }
  return false;
}

bool Segments::view(const Segment* segment, SegmentView* view,
                    bool try_only) noexcept {
  if (!lock_briefly(try_only)) return false;
  view->free_slabs = segment->free_slabs;
  view->dirty_slabs = segment->dirty_slabs;
  for (std::size_t i = 0; i < kSlabsPerSegment; ++i) {
    view->shapes[i] = segment->shapes[i];
  }
  lock_.unlock();
  return true;
}

bool Segments::slab_has_shape(const Slab* slab, const SlabShape& shape,
                              bool try_only, bool* busy) noexcept {
  if (!lock_briefly(try_only)) {
    *busy = true;
    return false;
  }
  const Segment* segment = segment_of(slab);
  const std::size_t index = static_cast<std::size_t>(slab - segment->slabs);
  const SlabShape& now = segment->shapes[index];
  const bool same =
      ((segment->free_slabs >> index) & 1) == 0 &&
      now.block_size == shape.block_size && now.capacity == shape.capacity &&
      now.size_class == shape.size_class && now.lane == shape.lane;
  lock_.unlock();
  return same;
}

}  // namespace rulloc::heap
