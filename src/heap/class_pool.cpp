#include "heap/class_pool.hpp"

#include "base/debug_check.hpp"
#include "heap/random_order.hpp"
#include "heap/secure.hpp"

namespace rulloc::heap {
namespace {

using Pool = ClassPool;

void list(Pool& pool, Slab* slab) noexcept RULLOC_REQUIRES(pool.lock) {
  slab->prev = nullptr;
  slab->next = pool.with_room;
  if (pool.with_room != nullptr) pool.with_room->prev = slab;
  pool.with_room = slab;
  slab->listed = true;
}

void unlist(Pool& pool, Slab* slab) noexcept RULLOC_REQUIRES(pool.lock) {
  if (slab->prev != nullptr) {
    slab->prev->next = slab->next;
  } else {
    pool.with_room = slab->next;
  }
  if (slab->next != nullptr) slab->next->prev = slab->prev;
  slab->listed = false;
}

// Cuts up to `count` blocks from the untouched end of `slab`, in address
// order, in front of `*head`.
std::size_t carve(Slab* slab, std::size_t count, FreeBlock** head,
                  std::uint64_t& random_state) noexcept {
  const SlabShape& shape = slab_shape(slab);
  const std::size_t left = shape.capacity - slab->carved;
  const std::size_t n = count < left ? count : left;
  if (n == 0) return 0;
  std::byte* first =
      slab_start(slab) + std::size_t{slab->carved} * shape.block_size;
  FreeBlock* next = *head;
  if constexpr (kSecure) {
    std::uint16_t order[kSlabBytes / 16];
    if (random_state == 0) random_state = seed_order(&random_state);
    interleave(random_state, order, n);
    for (std::size_t i = n; i-- > 0;) {  // the list is built back to front
      auto* block =
          reinterpret_cast<FreeBlock*>(first + order[i] * shape.block_size);
      set_next(block, next);
      block->canary = canary_of(block);
      next = block;
    }
  } else {
    for (std::size_t i = n; i-- > 0;) {
      auto* block = reinterpret_cast<FreeBlock*>(first + i * shape.block_size);
      set_next(block, next);
      block->canary = canary_of(block);
      next = block;
    }
  }
  *head = next;
  slab->carved = static_cast<std::uint16_t>(slab->carved + n);
  return n;
}

// A chain being built: its ends and length.
struct Chain {
  FreeBlock* head = nullptr;
  FreeBlock* tail = nullptr;
  std::size_t count = 0;
};

void append(Chain& chain, FreeBlock* head, FreeBlock* tail,
            std::size_t count) noexcept {
  if (chain.tail != nullptr) {
    set_next(chain.tail, head);
  } else {
    chain.head = head;
  }
  chain.tail = tail;
  chain.count += count;
}

// Moves `slab`'s free list to the end of `out` as it is: whole when it
// holds at most `room` blocks (its length and last block are known), else
// its first `room` blocks, found by reading their links. Returns how many;
// the caller, holding the pool's lock, hands them out.
std::size_t take_list(Slab* slab, std::size_t room, Chain& out) noexcept {
  FreeBlock* first = slab->free;
  const std::size_t listed = std::size_t{slab->carved} - slab->used;
  base::debug_check(listed > 0, first,
                    "a free list on a slab with no free block");
  FreeBlock* last = first;
  std::size_t n = listed;
  if (listed <= room) {
    last = free_tail_of(slab);
    if constexpr (kSecure) {
      if (next_of(last) != nullptr) [[unlikely]] {
        base::report_misuse("malloc", last,
                            "free list corrupted (written after free?)");
      }
    }
    slab->free = nullptr;
  } else {
    n = room;
    // `last` is written: each block walked must be a free block.
    check_untouched(last);
    for (std::size_t i = 1; i < n; ++i) {
      last = next_of(last);
      check_untouched(last);
    }
    slab->free = next_of(last);
    set_next(last, nullptr);
  }
  append(out, first, last, n);
  return n;
}

}  // namespace

ClassPools::ClassPools(Segments& segments, PoolsConfig config) noexcept
    : segments_(segments),
      lanes_(config.lanes < 1
                 ? 1
                 : (config.lanes > kMaxLanes ? kMaxLanes : config.lanes)),
      keep_empty_(config.keep_empty) {
  for (std::size_t lane = 0; lane < lanes_; ++lane) {
    new (lane_storage_[lane]) LanePools();
  }
}

// Counts `n` more blocks of `slab` out; a slab left without room leaves
// the pool's list.
void ClassPools::hand_out(Pool& pool, Slab* slab, std::size_t n) noexcept {
  if (slab->used == 0) count_empty(pool, false);
  slab->used = static_cast<std::uint16_t>(slab->used + n);
  if (slab->free == nullptr && slab->carved == slab_shape(slab).capacity) {
    unlist(pool, slab);
  }
}

void ClassPools::count_empty(Pool& pool, bool more) noexcept {
  if (more) {
    ++pool.empty;
    kept_empty_.fetch_add(1, std::memory_order_relaxed);
  } else {
    --pool.empty;
    kept_empty_.fetch_sub(1, std::memory_order_relaxed);
  }
}

// A slab for `asking`: one with its pages from the segments, else one that
// another pool kept empty, given back for it, else fresh pages.
Slab* ClassPools::new_slab(std::size_t size_class, std::size_t lane,
                           const Pool& asking) noexcept {
  const bool kept = kept_empty() > 0;
  Slab* slab = segments_.take_slab(size_class, lane, kept);
  if (slab == nullptr && kept) {
    lend_kept_slab(asking);
    slab = segments_.take_slab(size_class, lane);
  }
  return slab;
}

// Gives up to `most` of the empty slabs `pool` keeps back to the segments;
// returns how many. The pool's lock is held.
std::size_t ClassPools::give_back_empty(Pool& pool, std::size_t most) noexcept {
  std::size_t given = 0;
  for (Slab* slab = pool.with_room;
       slab != nullptr && pool.empty > 0 && given < most;) {
    Slab* next = slab->next;
    if (slab->used == 0) {
      unlist(pool, slab);
      count_empty(pool, false);
      segments_.give_back_slab(slab);
      ++given;
    }
    slab = next;
  }
  return given;
}

// Gives one empty slab that a pool other than `asking` keeps back to the
// segments, if a pool whose lock is free has one. The asking pool's lock is
// held: a lock only tried cannot wait in a cycle.
void ClassPools::lend_kept_slab(const Pool& asking) noexcept
    RULLOC_NO_LOCK_ANALYSIS {
  for (std::size_t lane = 0; lane < lanes_; ++lane) {
    for (Pool& pool : pools_of(lane)) {
      if (&pool == &asking || !pool.lock.try_lock()) continue;
      const std::size_t given = give_back_empty(pool, 1);
      pool.lock.unlock();
      if (given > 0) return;
    }
  }
}

std::size_t ClassPools::take(std::size_t lane, std::size_t size_class,
                             std::size_t carve_most, std::size_t most,
                             FreeBlock** head) noexcept {
  Pool& pool = pools_of(lane)[size_class];
  base::LockGuard guard(pool.lock);
  Chain out;
  for (Slab* slab = pool.with_room; slab != nullptr && out.count < most;) {
    Slab* next = slab->next;  // taking its list may unlist the slab
    if (slab->free != nullptr) {
      hand_out(pool, slab, take_list(slab, most - out.count, out));
    }
    slab = next;
  }
  // Every listed slab's list is taken: the slabs left have uncarved room.
  std::size_t fresh = carve_most < most ? carve_most : most;
  if (fresh == 0 && most > 0) fresh = 1;
  while (out.count < fresh) {
    Slab* slab = pool.with_room;
    if (slab == nullptr) {
      // Its shape, lane included, is written under the segments' lock.
      slab = new_slab(size_class, lane, pool);
      if (slab == nullptr) break;
      list(pool, slab);
      count_empty(pool, true);
    }
    const std::size_t n =
        carve(slab, fresh - out.count, &out.head, pool.random_state);
    out.count += n;
    hand_out(pool, slab, n);
  }
  *head = out.head;
  return out.count;
}

// Cuts the chain at `*head` into runs of blocks of one slab, at most `most`
// runs, each with its pool (a slab's shape does not change while blocks of
// it are out), and leaves `*head` at the rest. No lock is needed: the
// blocks are the caller's.
std::size_t ClassPools::cut_runs(FreeBlock** head, BlockRun* runs,
                                 std::size_t most) noexcept {
  std::size_t n = 0;
  FreeBlock* block = *head;
  while (block != nullptr && n < most) {
    FreeBlock* const first = block;
    // Each run's tail is written: every block walked must be a free block.
    check_untouched(first);
    const std::uintptr_t slab_bits =
        reinterpret_cast<std::uintptr_t>(first) >> kSlabShift;
    std::size_t count = 1;
    // The end of the chain, nullptr, lies in no slab: one test for both.
    FreeBlock* next;
    while ((reinterpret_cast<std::uintptr_t>(next = next_of(block)) >>
            kSlabShift) == slab_bits) {
      block = next;
      check_untouched(block);
      ++count;
    }
    Segment* segment = segment_of(first);
    const std::size_t index = slab_index(first);
    const SlabShape& shape = segment->shapes[index];
    runs[n++] = {first, block, count, &segment->slabs[index],
                 &pools_of(shape.lane)[shape.size_class]};
    block = next;
  }
  *head = block;
  return n;
}

// Puts a run back on its slab's free list in front. The pool's lock is
// held.
void ClassPools::give_run(Pool& pool, const BlockRun& run) noexcept {
  Slab* slab = run.slab;
  base::debug_check(slab->used >= run.count, run.head,
                    "blocks given back to a slab "
                    "with fewer in use");
  if (slab->free == nullptr) set_free_tail(slab, run.tail);
  set_next(run.tail, slab->free);
  slab->free = run.head;
  slab->used = static_cast<std::uint16_t>(slab->used - run.count);
  if (slab->used == 0) {
    if (pool.empty >= keep_empty_) {
      if (slab->listed) unlist(pool, slab);
      segments_.give_back_slab(slab);
      return;
    }
    count_empty(pool, true);
  }
  if (!slab->listed) list(pool, slab);
}

// The analysis cannot follow a lock that moves from pool to pool.
void ClassPools::give(FreeBlock* head) noexcept RULLOC_NO_LOCK_ANALYSIS {
  constexpr std::size_t kRunsAtOnce = 32;
  BlockRun runs[kRunsAtOnce];
  while (head != nullptr) {
    const std::size_t n = cut_runs(&head, runs, kRunsAtOnce);
    // Runs of one pool (a cache's batch is mostly one) share a lock.
    Pool* pool = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      if (runs[i].pool != pool) {
        if (pool != nullptr) pool->lock.unlock();
        pool = runs[i].pool;
        pool->lock.lock();
      }
      give_run(*pool, runs[i]);
    }
    if (pool != nullptr) pool->lock.unlock();
  }
}

void ClassPools::trim() noexcept {
  if (kept_empty() == 0) return;
  for (std::size_t lane = 0; lane < lanes_; ++lane) {
    for (Pool& pool : pools_of(lane)) {
      base::LockGuard guard(pool.lock);
      give_back_empty(pool, SIZE_MAX);
    }
  }
}

// Every pool's lock, across fork(): a loop the analysis cannot follow.
void ClassPools::lock_all() noexcept RULLOC_NO_LOCK_ANALYSIS {
  for (std::size_t lane = 0; lane < lanes_; ++lane) {
    for (Pool& pool : pools_of(lane)) pool.lock.lock();
  }
}

void ClassPools::unlock_all() noexcept RULLOC_NO_LOCK_ANALYSIS {
  for (std::size_t lane = lanes_; lane-- > 0;) {
    for (std::size_t i = kClassCount; i-- > 0;) pools_of(lane)[i].lock.unlock();
  }
}

namespace {

// A free-list link of a slab's block, decoded as next_of() does, but never
// stopping the program: the checker reports what it finds instead.
const FreeBlock* peek_next(const FreeBlock* block) noexcept {
  std::uintptr_t next = block->link;
  if constexpr (kSecure) {
    next ^= link_mask(block);
  }
  return reinterpret_cast<const FreeBlock*>(next);
}

bool slab_fail(base::Text* error, const Slab* slab, const char* what) noexcept {
  if (error != nullptr) {
    const SlabShape& shape = slab_shape(slab);
    *error << "slab " << static_cast<const void*>(slab_start(slab))
           << " (class " << shape.block_size << " B, lane " << shape.lane
           << "): " << what;
  }
  return false;
}

// One slab's state, its pool's lock held: counts within the capacity, the
// free list inside the slab, at block starts among the carved blocks, each
// block once, carrying the free canary, and free + used = carved.
bool slab_is_sound(const Slab* slab, SlabFigures* figures,
                   base::Text* error) noexcept {
  const SlabShape& shape = slab_shape(slab);
  if (slab->carved > shape.capacity) {
    return slab_fail(error, slab, "more blocks carved than fit");
  }
  if (slab->used > slab->carved) {
    return slab_fail(error, slab, "more blocks in use than carved");
  }
  std::uint64_t seen[kSlabBytes / 16 / 64] = {};
  std::size_t free_blocks = 0;
  const std::byte* start = slab_start(slab);
  const FreeBlock* last = nullptr;
  for (const FreeBlock* b = slab->free; b != nullptr; b = peek_next(b)) {
    last = b;
    const auto* bytes = reinterpret_cast<const std::byte*>(b);
    if (bytes < start || bytes >= start + kSlabBytes ||
        !is_block_start(shape, b)) {
      return slab_fail(error, slab,
                       "free list leads outside the slab or off a block start");
    }
    const auto index =
        static_cast<std::size_t>(bytes - start) / shape.block_size;
    if (index >= slab->carved) {
      return slab_fail(error, slab, "free list holds an uncarved block");
    }
    if ((seen[index / 64] >> (index % 64)) & 1) {
      return slab_fail(error, slab, "free list has a cycle");
    }
    seen[index / 64] |= std::uint64_t{1} << (index % 64);
    if (!looks_free(b)) {
      return slab_fail(error, slab,
                       "a block on the free list lost its canary (written "
                       "after free?)");
    }
    ++free_blocks;
  }
  if (last != nullptr && last != free_tail_of(slab)) {
    return slab_fail(error, slab,
                     "free list ends elsewhere than its recorded last block");
  }
  if (free_blocks + slab->used != slab->carved) {
    return slab_fail(error, slab,
                     "blocks in use + free != blocks carved (counts broken)");
  }
  const bool room = slab->free != nullptr || slab->carved < shape.capacity;
  if (room != slab->listed) {
    return slab_fail(error, slab,
                     room ? "has room but is not in its pool's list"
                          : "full but still in its pool's list");
  }
  if (figures != nullptr) {
    *figures = {slab->used, slab->carved, free_blocks, slab->listed};
  }
  return true;
}

}  // namespace

SlabLook ClassPools::look_at_slab(const Slab* slab, const SlabShape& shape,
                                  bool try_only, SlabFigures* figures,
                                  base::Text* error) noexcept {
  Pool& pool = pools_of(shape.lane % lanes_)[shape.size_class % kClassCount];
  if (try_only) {
    if (!pool.lock.try_lock(1000)) return SlabLook::kBusy;
  } else {
    pool.lock.lock();
  }
  bool busy = false;
  SlabLook look = SlabLook::kGone;
  if (segments_.slab_has_shape(slab, shape, try_only, &busy)) {
    look = slab_is_sound(slab, figures, error) ? SlabLook::kSeen
                                               : SlabLook::kBroken;
  } else if (busy) {
    look = SlabLook::kBusy;
  }
  pool.lock.unlock();
  return look;
}

bool ClassPools::check(base::Text& error) noexcept {
  for (std::size_t lane = 0; lane < lanes_; ++lane) {
    for (std::size_t c = 0; c < kClassCount; ++c) {
      Pool& pool = pools_of(lane)[c];
      base::LockGuard guard(pool.lock);
      std::size_t empty = 0;
      const Slab* prev = nullptr;
      // A slab is listed once; more than a segment's worth per mapped
      // 4 MiB of heap would be a cycle.
      std::size_t bound = kSlabsPerSegment;
      for (const Segment* s = segments_.newest(); s != nullptr; s = s->older) {
        bound += kSlabsPerSegment;
      }
      for (const Slab* slab = pool.with_room; slab != nullptr;
           slab = slab->next) {
        if (bound-- == 0) {
          error << "pool of lane " << lane << ", class " << class_size(c)
                << " B: its list of slabs has a cycle";
          return false;
        }
        const SlabShape& shape = slab_shape(slab);
        if (shape.size_class != c || shape.lane != lane ||
            shape.block_size != class_size(c)) {
          return slab_fail(&error, slab,
                           "listed in the pool of another class or lane");
        }
        if (slab->prev != prev) {
          return slab_fail(&error, slab, "broken links in its pool's list");
        }
        if (!slab_is_sound(slab, nullptr, &error)) return false;
        if (slab->used == 0) ++empty;
        prev = slab;
      }
      if (empty != pool.empty) {
        error << "pool of lane " << lane << ", class " << class_size(c)
              << " B: empty slabs miscounted (" << pool.empty << " counted, "
              << empty << " listed)";
        return false;
      }
    }
  }
  return true;
}

}  // namespace rulloc::heap
