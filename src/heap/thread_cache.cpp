#include "heap/thread_cache.hpp"

#include <atomic>

#include "heap/cache_checks.hpp"
#include "heap/class_pool.hpp"
#include "heap/purger.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {

RULLOC_PER_THREAD ThreadCache per_thread_cache;

namespace {

// Counters go to the process-wide ones every this many events, so the fast
// path touches no shared cache line.
constexpr std::uint32_t kFlushEvery = 1024;
// A thread's first refill of a class takes this many blocks (or half the
// class's limit, when smaller).
constexpr std::uint32_t kFirstRefill = 16;

void (*add_counters)(const ThreadCounters&) = nullptr;
// Threads whose cache is set up and whose exit hook has not run yet.
std::atomic<long> live_threads{0};
// Threads on each lane. A new thread takes the least used lane, so a
// program that replaces its threads keeps to as few lanes (and as few
// half-used slabs) as it has threads at a time.
std::atomic<unsigned> lane_users[kLanes];

// How many lanes new threads choose from (mallopt's M_ARENA_MAX).
std::atomic<std::size_t> lanes_in_use{kLanes};

// Bytes in every thread's cache and outbox, as last published.
std::atomic<long long> cached_bytes{0};

long long bytes_held(const ThreadCache& cache) noexcept {
  long long bytes = 0;
  for (std::size_t c = 0; c < kClassCount; ++c) {
    bytes +=
        static_cast<long long>(cache.classes[c].count + cache.outbox[c].count) *
        kClassSizes[c];
  }
  return bytes;
}

std::uint8_t join_lane() noexcept {
  std::size_t best = 0;
  const std::size_t lanes = lanes_in_use.load(std::memory_order_relaxed);
  for (std::size_t lane = 1; lane < lanes; ++lane) {
    if (lane_users[lane].load(std::memory_order_relaxed) <
        lane_users[best].load(std::memory_order_relaxed)) {
      best = lane;
    }
  }
  lane_users[best].fetch_add(1, std::memory_order_relaxed);
  return static_cast<std::uint8_t>(best);
}
// Unlinks up to `count` blocks from the head of a class cache.
FreeBlock* detach(ClassCache& cached, std::size_t count) noexcept {
  FreeBlock* head = cached.head;
  if (head == nullptr || count == 0) return nullptr;
  FreeBlock* last = head;
  std::uint32_t n = 1;
  for (FreeBlock* next; n < count && (next = next_of(last)) != nullptr;) {
    last = next;
    ++n;
  }
  cached.head = next_of(last);
  cached.count -= n;
  set_next(last, nullptr);
  return head;
}

void give_outbox(ClassCache& outbox) noexcept {
  FreeBlock* head = outbox.head;
  outbox.head = nullptr;
  outbox.count = 0;
  pool_give(head);
}

void at_thread_exit(void*) noexcept {
  cache_checks_leave();
  live_threads.fetch_sub(1, std::memory_order_relaxed);
  lane_users[thread_cache().lane].fetch_sub(1, std::memory_order_relaxed);
  cache_flush();
  // From now on every block and every count goes straight through.
  thread_cache().state = CacheState::kGone;
  for (ClassCache& cached : thread_cache().classes) cached.limit = 0;
  thread_cache().flush_after = 0;
  flush_counters();
  purger_note_freed(kCacheBytesPerClass);
}

// Sets the cache up on the thread's first use. False when it cannot be
// (after the exit hook, or before the heap is built).
bool ready() noexcept {
  if (thread_cache().state == CacheState::kActive) return true;
  if (thread_cache().state == CacheState::kGone || add_counters == nullptr) {
    return false;
  }
  thread_cache().state = CacheState::kActive;
  live_threads.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t c = 0; c < kClassCount; ++c) {
    const std::size_t limit = cache_capacity(c);
    thread_cache().classes[c].limit = static_cast<std::uint32_t>(limit);
    thread_cache().refill[c] = static_cast<std::uint16_t>(
        limit / 2 < kFirstRefill ? limit / 2 : kFirstRefill);
  }
  thread_cache().flush_after = kFlushEvery;
  thread_cache().lane = join_lane();
  cache_checks_join();
  // How a thread's exit is noticed without allocating (a pthread key's
  // destructor); it has to be set once per thread.
  platform::call_at_thread_exit(&thread_cache());
  return true;
}

}  // namespace

void cache_init(void (*on_flush)(const ThreadCounters&)) noexcept {
  add_counters = on_flush;
  platform::set_thread_exit_hook(at_thread_exit);
}

std::size_t thread_lane_slow() noexcept {
  ready();
  return thread_cache().lane;
}

void count_event(long long bytes, bool allocation) noexcept {
  ThreadCounters& local = thread_cache().counters;
  ++(allocation ? local.allocations : local.frees);
  local.bytes += bytes;
  if (++thread_cache().events >= thread_cache().flush_after) {
    ready();
    flush_counters();
  }
}

void* cache_pop_slow(std::size_t size_class, std::uint32_t bytes) noexcept {
  FreeBlock* block = nullptr;
  if (!ready()) {
    // After this thread's exit hook: one block at a time, no cache.
    if (pool_take(thread_cache().lane, size_class, 1, &block) == 0) {
      return nullptr;
    }
  } else {
    ClassCache& cached = thread_cache().classes[size_class];
    if (cached.head == nullptr) {
      std::uint16_t& refill = thread_cache().refill[size_class];
      cached.count = static_cast<std::uint32_t>(
          pool_take(thread_cache().lane, size_class, refill, &cached.head));
      const std::uint32_t most = cached.limit / 2;
      refill =
          static_cast<std::uint16_t>(refill * 2u < most ? refill * 2u : most);
      if (cached.head == nullptr) return nullptr;
    }
    block = cached.head;
    cached.head = next_of(block);
    --cached.count;
  }
  if constexpr (kSecure) check_untouched(block);
  block->canary = 0;
  count_event(bytes, true);
  return block;
}

void cache_push_slow(std::size_t size_class, std::size_t lane, FreeBlock* block,
                     std::uint32_t bytes) noexcept {
  block->canary = canary_of(block);
  if (!ready()) {
    set_next(block, nullptr);
    pool_give(block);
  } else if (lane != thread_cache().lane) {
    // A batch as large as the cache's goes back at once: mostly one lane,
    // so one lock.
    ClassCache& outbox = thread_cache().outbox[size_class];
    set_next(block, outbox.head);
    outbox.head = block;
    if (++outbox.count >= thread_cache().classes[size_class].limit / 2) {
      give_outbox(outbox);
    }
  } else {
    ClassCache& cached = thread_cache().classes[size_class];
    if (cached.count >= cached.limit) {
      pool_give(detach(cached, cached.limit / 2));
    }
    set_next(block, cached.head);
    cached.head = block;
    ++cached.count;
  }
  count_event(-static_cast<long long>(bytes), false);
}

void flush_counters() noexcept {
  if (add_counters == nullptr) return;
  add_counters(thread_cache().counters);
  thread_cache().counters = {};
  thread_cache().events = 0;
  const long long held = bytes_held(thread_cache());
  if (held != thread_cache().published_bytes) {
    cached_bytes.fetch_add(held - thread_cache().published_bytes,
                           std::memory_order_relaxed);
    thread_cache().published_bytes = held;
  }
  // Between two operations on the cache: the one place where it can be
  // checked for another thread's rulloc_check().
  cache_checks_answer();
}

void cache_set_lanes(std::size_t lanes) noexcept {
  lanes_in_use.store(lanes < 1 ? 1 : (lanes > kLanes ? kLanes : lanes),
                     std::memory_order_relaxed);
}

long cache_live_threads() noexcept {
  return live_threads.load(std::memory_order_relaxed);
}

void cache_after_fork_in_child() noexcept {
  const bool active = thread_cache().state == CacheState::kActive;
  // The other threads' caches stayed behind (their blocks are lost here).
  cached_bytes.store(thread_cache().published_bytes, std::memory_order_relaxed);
  live_threads.store(active ? 1 : 0, std::memory_order_relaxed);
  for (std::size_t lane = 0; lane < kLanes; ++lane) {
    lane_users[lane].store(active && lane == thread_cache().lane ? 1 : 0,
                           std::memory_order_relaxed);
  }
  cache_checks_after_fork_in_child();
}

void discard_counters() noexcept {
  thread_cache().counters = {};
  thread_cache().events = 0;
}

void cache_flush() noexcept {
  for (std::size_t c = 0; c < kClassCount; ++c) {
    ClassCache& cached = thread_cache().classes[c];
    pool_give(detach(cached, cached.count));
    give_outbox(thread_cache().outbox[c]);
  }
}

std::size_t cache_bytes() noexcept {
  const long long bytes = cached_bytes.load(std::memory_order_relaxed);
  return bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
}

unsigned cache_lane_users(std::size_t lane) noexcept {
  return lane < kLanes ? lane_users[lane].load(std::memory_order_relaxed) : 0;
}

namespace {

bool check_list(base::Text& error, const ClassCache& list, std::size_t c,
                bool own_lane, const char* whose, const char* name) noexcept {
  std::uint32_t count = 0;
  for (const FreeBlock* b = list.head; b != nullptr;) {
    const SlabShape* shape = shape_of(b);
    if (++count > list.count || shape == nullptr ||
        !is_block_start(*shape, b) || shape->size_class != c ||
        (own_lane && shape->lane != thread_cache().lane) || !looks_free(b)) {
      error << whose << ' ' << name << " (lane " << thread_cache().lane
            << ") of class " << class_size(c) << " B: "
            << (count > list.count ? "longer than counted"
                                   : "holds a block that is not a free block "
                                     "of its class and lane")
            << " (block " << static_cast<const void*>(b) << ")";
      return false;
    }
    std::uintptr_t next = b->link;
    if constexpr (kSecure) {
      next ^= segment_of(b)->key ^ reinterpret_cast<std::uintptr_t>(b);
    }
    b = reinterpret_cast<const FreeBlock*>(next);
  }
  if (count != list.count) {
    error << whose << ' ' << name << " (lane " << thread_cache().lane
          << ") of class " << class_size(c) << " B: shorter than counted";
    return false;
  }
  return true;
}

}  // namespace

bool check_own_cache(base::Text& error, const char* whose) noexcept {
  if (thread_cache().state != CacheState::kActive) return true;
  for (std::size_t c = 0; c < kClassCount; ++c) {
    if (!check_list(error, thread_cache().classes[c], c, true, whose,
                    "cache") ||
        !check_list(error, thread_cache().outbox[c], c, false, whose,
                    "outbox")) {
      return false;
    }
  }
  return true;
}

}  // namespace rulloc::heap
