#include "heap/thread_cache.hpp"

#include <pthread.h>

#include <array>

#include "heap/size_classes.hpp"
#include "rulloc/detail/engine.hpp"

namespace rulloc::heap {
namespace {

// Up to 32 KiB per class, 8 to 128 blocks.
constexpr auto make_capacities() {
  std::array<unsigned short, kClassCount> capacity{};
  for (std::size_t c = 0; c < kClassCount; ++c) {
    std::size_t blocks = (32 * 1024) / class_size(c);
    capacity[c] = static_cast<unsigned short>(
        blocks < 8 ? 8 : (blocks > 128 ? 128 : blocks));
  }
  return capacity;
}
constexpr auto kCapacity = make_capacities();

constexpr std::size_t class_capacity(std::size_t size_class) noexcept {
  return kCapacity[size_class];
}

// Lives in the cached block's own first 16 bytes.
struct CachedBlock {
  CachedBlock* next;
  std::size_t usable;
};

enum class State : unsigned char { kUnused, kActive, kGone };

// Plain data in static TLS: no constructor, no destructor registration (which
// could call malloc), ready from the thread's first instruction.
struct ThreadCache {
  CachedBlock* heads[kClassCount];
  unsigned short counts[kClassCount];
  State state;
  ThreadCounters counters;
};

__thread ThreadCache cache __attribute__((tls_model("initial-exec")));

detail::Engine* engine = nullptr;
void (*flush_counters)(const ThreadCounters&) = nullptr;
pthread_key_t exit_key;

void release(std::size_t size_class, std::size_t count) noexcept {
  for (; count > 0 && cache.heads[size_class] != nullptr; --count) {
    CachedBlock* block = cache.heads[size_class];
    cache.heads[size_class] = block->next;
    --cache.counts[size_class];
    engine->deallocate_parked(block);
  }
}

void at_thread_exit(void*) noexcept {
  cache_flush();
  cache.state = State::kGone;  // later frees of this thread go straight back
  flush_counters(cache.counters);
  cache.counters = {};
}

bool activate() noexcept {
  if (cache.state == State::kGone || engine == nullptr) return false;
  cache.state = State::kActive;
  // A key with a destructor is how a thread's exit is noticed without
  // allocating; it has to be set once per thread.
  pthread_setspecific(exit_key, &cache);
  return true;
}

}  // namespace

void cache_init(detail::Engine* target,
                void (*on_flush)(const ThreadCounters&)) noexcept {
  engine = target;
  flush_counters = on_flush;
  pthread_key_create(&exit_key, at_thread_exit);
}

void* cache_pop(std::size_t size, std::size_t* usable) noexcept {
  const std::size_t size_class = class_for_request(size);
  CachedBlock* block = cache.heads[size_class];
  if (block == nullptr) return nullptr;
  cache.heads[size_class] = block->next;
  --cache.counts[size_class];
  *usable = block->usable;
  engine->unpark(block);
  return block;
}

bool cache_push(void* pointer, std::size_t usable) noexcept {
  const std::size_t size_class = class_for_block(usable);
  if (size_class == kClassCount) return false;
  if (cache.state != State::kActive && !activate()) return false;
  if (cache.counts[size_class] >= class_capacity(size_class)) {
    release(size_class, class_capacity(size_class) / 2);
  }
  auto* block = static_cast<CachedBlock*>(pointer);
  block->next = cache.heads[size_class];
  block->usable = usable;
  cache.heads[size_class] = block;
  ++cache.counts[size_class];
  return true;
}

bool cache_exited() noexcept { return cache.state == State::kGone; }

ThreadCounters& cache_counters() noexcept {
  if (cache.state == State::kUnused) activate();
  return cache.counters;
}

void cache_flush() noexcept {
  if (engine == nullptr) return;
  for (std::size_t c = 0; c < kClassCount; ++c) release(c, cache.counts[c]);
}

}  // namespace rulloc::heap
