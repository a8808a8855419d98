#include "heap/thread_cache.hpp"

namespace rulloc::heap {
namespace {

// What a thread's cache holds and has in use, in one pass over its
// classes: the small blocks in use (thread_cache.hpp, `taken`) and the
// bytes held in its lists.
struct Tally {
  long long blocks = 0;
  long long bytes = 0;
  long long held_bytes = 0;
};

Tally tally(const ThreadCache& cache) noexcept {
  Tally sum;
  for (std::size_t c = 0; c < kClassCount; ++c) {
    const long long held = cache.classes[c].count + cache.outbox[c].count;
    const long long blocks = cache.taken[c] - held;
    sum.blocks += blocks;
    sum.bytes += blocks * kClassSizes[c];
    sum.held_bytes += held * kClassSizes[c];
  }
  return sum;
}

// The counters since the last flush, from `now`, the cache's tally.
ThreadCounters counted(const ThreadCache& cache, const Tally& now) noexcept {
  // Every small-block event moves the blocks in use by one: an allocation
  // up, a free down; the engine's events are counted apart.
  const ThreadCounters& big = cache.counters;
  const auto events =
      static_cast<long long>(cache.events_budget - cache.events_left) -
      static_cast<long long>(big.allocations + big.frees);
  const long long moved = now.blocks - cache.published_blocks;
  return {big.allocations + static_cast<std::size_t>((events + moved) / 2),
          big.frees + static_cast<std::size_t>((events - moved) / 2),
          big.bytes + now.bytes - cache.published_small_bytes};
}

// Unlinks the blocks of a class cache after its first `keep`, the ones
// freed longest ago: the blocks it keeps are the ones still in the CPU's
// cache, and a batch freed in order leaves its slabs empty but the last.
FreeBlock* detach_after(ClassCache& cached, std::uint32_t keep) noexcept {
  FreeBlock* rest = cached.head;
  if (keep == 0 || rest == nullptr) {
    cached.head = nullptr;
    cached.count = 0;
    return rest;
  }
  FreeBlock* last = rest;
  check_untouched(last);  // written below
  std::uint32_t n = 1;
  for (FreeBlock* next; n < keep && (next = next_of(last)) != nullptr;) {
    last = next;
    check_untouched(last);
    ++n;
  }
  rest = next_of(last);
  set_next(last, nullptr);
  cached.count = n;
  return rest;
}

// Counts from now on from `now`, the cache's tally.
void restart_counting(ThreadCache& cache, const Tally& now) noexcept {
  cache.published_blocks = now.blocks;
  cache.published_small_bytes = now.bytes;
  cache.counters = {};
  cache.events_left = cache.events_budget;
}

}  // namespace

std::uint32_t ThreadCaches::capacity(std::size_t size_class) const noexcept {
  const std::size_t blocks = config_.bytes_per_class / class_size(size_class);
  return static_cast<std::uint32_t>(
      blocks < 2 ? 2 : (blocks > 2048 ? 2048 : blocks));
}

std::uint32_t ThreadCaches::first_refill(std::size_t size_class,
                                         std::uint32_t limit) const noexcept {
  std::size_t blocks = config_.first_refill;
  const std::size_t by_bytes =
      config_.first_refill_bytes / class_size(size_class);
  if (by_bytes < blocks) blocks = by_bytes < 1 ? 1 : by_bytes;
  if (limit / 2 < blocks) blocks = limit / 2;
  return static_cast<std::uint32_t>(blocks);
}

std::size_t ThreadCaches::carve_limit(std::size_t size_class) const noexcept {
  const std::size_t blocks = config_.carve_bytes / class_size(size_class);
  return blocks < 1 ? 1 : blocks;
}

std::uint8_t ThreadCaches::join_lane() noexcept {
  std::size_t best = 0;
  const std::size_t lanes = lanes_in_use();
  for (std::size_t lane = 1; lane < lanes; ++lane) {
    if (lane_users_[lane].load(std::memory_order_relaxed) <
        lane_users_[best].load(std::memory_order_relaxed)) {
      best = lane;
    }
  }
  lane_users_[best].fetch_add(1, std::memory_order_relaxed);
  return static_cast<std::uint8_t>(best);
}

void ThreadCaches::give_back(ThreadCache& cache, std::size_t size_class,
                             std::size_t keep) noexcept {
  ClassCache& cached = cache.classes[size_class];
  const std::uint32_t before = cached.count;
  FreeBlock* chain = detach_after(cached, static_cast<std::uint32_t>(keep));
  cache.taken[size_class] -= before - cached.count;
  pools_.give(chain);
}

void ThreadCaches::give_outbox(ThreadCache& cache,
                               std::size_t size_class) noexcept {
  Outbox& outbox = cache.outbox[size_class];
  FreeBlock* head = outbox.head;
  cache.taken[size_class] -= outbox.count;
  outbox.head = nullptr;
  outbox.count = 0;
  pools_.give(head);
}

// Sets the cache up on the thread's first use. False when it cannot be
// (after the thread's exit).
bool ThreadCaches::ready(ThreadCache& cache) noexcept {
  if (cache.state == CacheState::kActive) return true;
  if (cache.state == CacheState::kGone) return false;
  cache.state = CacheState::kActive;
  live_threads_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t c = 0; c < kClassCount; ++c) {
    const std::uint32_t limit = capacity(c);
    cache.classes[c].limit = limit;
    cache.refill[c] = static_cast<std::uint16_t>(first_refill(c, limit));
  }
  cache.events_budget = config_.flush_every > 0 ? config_.flush_every : 1;
  cache.events_left = cache.events_budget;
  cache.lane = join_lane();
  if (config_.on_setup != nullptr) config_.on_setup(&cache);
  return true;
}

std::size_t ThreadCaches::lane_slow(ThreadCache& cache) noexcept {
  ready(cache);
  return cache.lane;
}

void ThreadCaches::exit(ThreadCache& cache) noexcept {
  if (cache.state == CacheState::kActive) {
    live_threads_.fetch_sub(1, std::memory_order_relaxed);
    lane_users_[cache.lane].fetch_sub(1, std::memory_order_relaxed);
  }
  flush(cache);
  // From now on every block and every count goes straight through.
  cache.state = CacheState::kGone;
  for (ClassCache& cached : cache.classes) cached.limit = 0;
  flush_counters(cache);
  cache.events_budget = 1;
  cache.events_left = 1;
}

// One event of a slow path: sets the cache up on the thread's first one,
// and flushes the counters when they are due.
void ThreadCaches::event_done(ThreadCache& cache) noexcept {
  if (cache.events_left == 0) ready(cache);
  if (--cache.events_left == 0) flush_counters(cache);
}

void ThreadCaches::count_event(ThreadCache& cache, long long bytes,
                               bool allocation) noexcept {
  ThreadCounters& local = cache.counters;
  ++(allocation ? local.allocations : local.frees);
  local.bytes += bytes;
  event_done(cache);
}

void* ThreadCaches::pop_slow(ThreadCache& cache,
                             std::size_t size_class) noexcept {
  FreeBlock* block = nullptr;
  if (!ready(cache)) {
    // After the thread's exit: one block at a time, no cache.
    if (pools_.take(cache.lane, size_class, 1, 1, &block) == 0) return nullptr;
    ++cache.taken[size_class];
  } else {
    ClassCache& cached = cache.classes[size_class];
    if (cached.head == nullptr) {
      std::uint16_t& refill = cache.refill[size_class];
      const std::uint32_t most = cached.limit / 2;
      const std::size_t carve = carve_limit(size_class);
      cached.count = static_cast<std::uint32_t>(
          pools_.take(cache.lane, size_class, refill < carve ? refill : carve,
                      most, &cached.head));
      cache.taken[size_class] += cached.count;
      refill =
          static_cast<std::uint16_t>(refill * 2u < most ? refill * 2u : most);
      if (cached.head == nullptr) return nullptr;
    }
    block = cached.head;
    cached.head = next_of(block);
    --cached.count;
  }
  check_untouched(block);
  block->canary = 0;
  event_done(cache);
  return block;
}

void ThreadCaches::push_slow(ThreadCache& cache, std::size_t size_class,
                             std::size_t lane, FreeBlock* block) noexcept {
  block->canary = canary_of(block);
  if (!ready(cache)) {
    set_next(block, nullptr);
    --cache.taken[size_class];
    pools_.give(block);
  } else if (lane != cache.lane) {
    // A batch as large as the cache's goes back at once: mostly one lane,
    // so one lock.
    Outbox& outbox = cache.outbox[size_class];
    set_next(block, outbox.head);
    outbox.head = block;
    if (++outbox.count >= cache.classes[size_class].limit / 2) {
      give_outbox(cache, size_class);
    }
  } else {
    ClassCache& cached = cache.classes[size_class];
    if (cached.count >= cached.limit) {
      give_back(cache, size_class, cached.limit - cached.limit / 2);
    }
    set_next(block, cached.head);
    cached.head = block;
    ++cached.count;
  }
  event_done(cache);
}

ThreadCounters ThreadCaches::pending(const ThreadCache& cache) noexcept {
  return counted(cache, tally(cache));
}

void ThreadCaches::flush_counters(ThreadCache& cache) noexcept {
  const Tally now = tally(cache);
  if (config_.add_counters != nullptr) {
    config_.add_counters(counted(cache, now));
  }
  restart_counting(cache, now);
  if (now.held_bytes != cache.published_bytes) {
    cached_bytes_.fetch_add(now.held_bytes - cache.published_bytes,
                            std::memory_order_relaxed);
    cache.published_bytes = now.held_bytes;
  }
  if (config_.after_flush != nullptr) config_.after_flush(&cache);
}

void ThreadCaches::discard_counters(ThreadCache& cache) noexcept {
  restart_counting(cache, tally(cache));
}

void ThreadCaches::flush(ThreadCache& cache) noexcept {
  for (std::size_t c = 0; c < kClassCount; ++c) {
    give_back(cache, c, 0);
    give_outbox(cache, c);
  }
}

void ThreadCaches::set_lanes(std::size_t lanes) noexcept {
  const std::size_t most = pools_.lanes();
  lanes_in_use_.store(lanes < 1 ? 1 : (lanes > most ? most : lanes),
                      std::memory_order_relaxed);
}

void ThreadCaches::after_fork_in_child(const ThreadCache& survivor) noexcept {
  const bool active = survivor.state == CacheState::kActive;
  // The other threads' caches stayed behind (their blocks are lost here).
  cached_bytes_.store(survivor.published_bytes, std::memory_order_relaxed);
  live_threads_.store(active ? 1 : 0, std::memory_order_relaxed);
  for (std::size_t lane = 0; lane < kMaxLanes; ++lane) {
    lane_users_[lane].store(active && lane == survivor.lane ? 1 : 0,
                            std::memory_order_relaxed);
  }
}

std::size_t ThreadCaches::cached_bytes() const noexcept {
  const long long bytes = cached_bytes_.load(std::memory_order_relaxed);
  return bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
}

unsigned ThreadCaches::lane_users(std::size_t lane) const noexcept {
  return lane < kMaxLanes ? lane_users_[lane].load(std::memory_order_relaxed)
                          : 0;
}

namespace {

bool check_list(base::Text& error, const Outbox& list, std::size_t c,
                unsigned lane, bool own_lane, const char* whose,
                const char* name) noexcept {
  std::uint32_t count = 0;
  for (const FreeBlock* b = list.head; b != nullptr;) {
    const SlabShape* shape = shape_of(b);
    if (++count > list.count || shape == nullptr ||
        !is_block_start(*shape, b) || shape->size_class != c ||
        (own_lane && shape->lane != lane) || !looks_free(b)) {
      error << whose << ' ' << name << " (lane " << lane << ") of class "
            << class_size(c) << " B: "
            << (count > list.count ? "longer than counted"
                                   : "holds a block that is not a free block "
                                     "of its class and lane")
            << " (block " << static_cast<const void*>(b) << ")";
      return false;
    }
    std::uintptr_t next = b->link;
    if constexpr (kSecure) {
      next ^= link_mask(b);
    }
    b = reinterpret_cast<const FreeBlock*>(next);
  }
  if (count != list.count) {
    error << whose << ' ' << name << " (lane " << lane << ") of class "
          << class_size(c) << " B: shorter than counted";
    return false;
  }
  return true;
}

}  // namespace

bool ThreadCaches::check(const ThreadCache& cache, base::Text& error,
                         const char* whose) noexcept {
  if (cache.state != CacheState::kActive) return true;
  for (std::size_t c = 0; c < kClassCount; ++c) {
    const ClassCache& cached = cache.classes[c];
    if (!check_list(error, Outbox{cached.head, cached.count}, c, cache.lane,
                    true, whose, "cache") ||
        !check_list(error, cache.outbox[c], c, cache.lane, false, whose,
                    "outbox")) {
      return false;
    }
  }
  return true;
}

}  // namespace rulloc::heap
