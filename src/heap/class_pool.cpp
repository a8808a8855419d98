#include "heap/class_pool.hpp"

#include <mutex>

#include "core/spin_lock.hpp"
#include "heap/secure.hpp"
#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap {
namespace {

// One empty slab per class stays in its pool, so a loop that allocates and
// frees a batch does not take and give back a slab every time.
constexpr std::size_t kKeepEmpty = 1;

struct alignas(64) Pool {
  core::SpinLock lock;
  Slab* with_room = nullptr;       // slabs with free or uncarved blocks
  std::size_t empty = 0;           // listed slabs with no block in use
  std::uint64_t random_state = 0;  // secure mode's carving order
};

Pool pools[kLanes][kClassCount];

void list(Pool& pool, Slab* slab) noexcept {
  slab->prev = nullptr;
  slab->next = pool.with_room;
  if (pool.with_room != nullptr) pool.with_room->prev = slab;
  pool.with_room = slab;
  slab->listed = true;
}

void unlist(Pool& pool, Slab* slab) noexcept {
  if (slab->prev != nullptr) {
    slab->prev->next = slab->next;
  } else {
    pool.with_room = slab->next;
  }
  if (slab->next != nullptr) slab->next->prev = slab->prev;
  slab->listed = false;
}

// Secure mode hands blocks out in a random order, so the address of the
// next block cannot be guessed from the last one. A full shuffle made each
// walk over the blocks miss the cache on every one (the xmalloc workload
// ran 1.7 times as long), so a carved batch is cut into a few runs
// and each next block is the next of a run picked at random, never the run
// of the block before while another is left:
//
//   batch   | 0  1  2 | 3  4  5 | 6  7  8 | 9 10 11 |   4 runs of 3 blocks
//   order     3  9  0  6  4 10  1  7  5  2 11  8      each run ascending
//
// Every block still has several equally likely successors, while each run
// is read in address order, which the prefetcher follows.
constexpr std::size_t kRuns = 8;

// xorshift64*, one state per pool (used under its lock), seeded from the
// secret.
[[maybe_unused]] std::size_t random_below(std::uint64_t& state,
                                          std::size_t n) noexcept {
  if (state == 0) {
    state = (free_block_secret ^ reinterpret_cast<std::uintptr_t>(&state)) | 1;
  }
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<std::size_t>((state * 0x2545F4914F6CDD1Du) % n);
}

// Fills order[0..n) with 0..n-1 in the interleaved order drawn above.
[[maybe_unused]] void interleave(std::uint64_t& state, std::uint16_t* order,
                                 std::size_t n) noexcept {
  const std::size_t runs = n < kRuns ? n : kRuns;
  std::uint16_t next[kRuns];  // each live run's next block
  std::uint16_t end[kRuns];
  for (std::size_t r = 0; r < runs; ++r) {
    next[r] = static_cast<std::uint16_t>(r * n / runs);
    end[r] = static_cast<std::uint16_t>((r + 1) * n / runs);
  }
  std::size_t live = runs;
  std::size_t last = kRuns;  // the run of the block before, if still live
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t r;
    if (last < live && live > 1) {
      r = random_below(state, live - 1);
      if (r >= last) ++r;
    } else {
      r = random_below(state, live);
    }
    order[i] = next[r]++;
    last = r;
    if (next[r] == end[r]) {  // the run is used up: the last live one moves
      --live;
      next[r] = next[live];
      end[r] = end[live];
      last = kRuns;
    }
  }
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

// Puts one block back on its slab's free list. The pool's lock is held.
void give_one(Pool& pool, FreeBlock* block) noexcept {
  Slab* slab = slab_of(block);
  set_next(block, slab->free);
  slab->free = block;
  if (--slab->used == 0) {
    if (pool.empty >= kKeepEmpty) {
      if (slab->listed) unlist(pool, slab);
      give_back_slab(slab);
      return;
    }
    ++pool.empty;
  }
  if (!slab->listed) list(pool, slab);
}

}  // namespace

std::size_t pool_take(std::size_t lane, std::size_t size_class,
                      std::size_t count, FreeBlock** head) noexcept {
  Pool& pool = pools[lane][size_class];
  std::lock_guard guard(pool.lock);
  std::size_t taken = 0;
  *head = nullptr;
  while (taken < count) {
    Slab* slab = pool.with_room;
    if (slab == nullptr) {
      if ((slab = take_slab(size_class)) == nullptr) break;
      // Nobody reads the shape of a slab before its first block is out.
      slab_shape(slab).lane = static_cast<std::uint8_t>(lane);
      list(pool, slab);
      ++pool.empty;
    }
    const std::size_t before = taken;
    while (taken < count && slab->free != nullptr) {
      FreeBlock* block = slab->free;
      slab->free = next_of(block);
      set_next(block, *head);
      *head = block;
      ++taken;
    }
    taken += carve(slab, count - taken, head, pool.random_state);
    if (slab->used == 0) --pool.empty;
    slab->used = static_cast<std::uint16_t>(slab->used + (taken - before));
    if (slab->free == nullptr && slab->carved == slab_shape(slab).capacity) {
      unlist(pool, slab);
    }
  }
  return taken;
}

void pool_give(FreeBlock* head) noexcept {
  // Runs of blocks of one pool (a cache's batch is one run) share a lock.
  Pool* pool = nullptr;
  while (head != nullptr) {
    FreeBlock* block = head;
    head = next_of(block);
    const SlabShape& shape = *shape_of(block);
    Pool* own = &pools[shape.lane][shape.size_class];
    if (own != pool) {
      if (pool != nullptr) pool->lock.unlock();
      pool = own;
      pool->lock.lock();
    }
    give_one(*pool, block);
  }
  if (pool != nullptr) pool->lock.unlock();
}

void pool_trim() noexcept {
  for (auto& lane : pools) {
    for (Pool& pool : lane) {
      std::lock_guard guard(pool.lock);
      Slab* slab = pool.with_room;
      while (slab != nullptr) {
        Slab* next = slab->next;
        if (slab->used == 0) {
          unlist(pool, slab);
          --pool.empty;
          give_back_slab(slab);
        }
        slab = next;
      }
    }
  }
}

void lock_pools() noexcept {
  for (auto& lane : pools) {
    for (Pool& pool : lane) pool.lock.lock();
  }
}

void unlock_pools() noexcept {
  for (std::size_t lane = kLanes; lane-- > 0;) {
    for (std::size_t i = kClassCount; i-- > 0;) pools[lane][i].lock.unlock();
  }
}

}  // namespace rulloc::heap
