#include "heap/thread_cache.hpp"

#include <pthread.h>

#include "heap/class_pool.hpp"

namespace rulloc::heap {

__thread ThreadCache thread_cache __attribute__((tls_model("initial-exec")));

namespace {

void (*flush_counters)(const ThreadCounters&) = nullptr;
pthread_key_t exit_key;

// Unlinks up to `count` blocks from the head of a class cache.
FreeBlock* detach(ClassCache& cached, std::size_t count) noexcept {
  FreeBlock* head = cached.head;
  if (head == nullptr || count == 0) return nullptr;
  FreeBlock* last = head;
  std::size_t n = 1;
  while (n < count && last->next != nullptr) {
    last = last->next;
    ++n;
  }
  cached.head = last->next;
  cached.count -= n;
  last->next = nullptr;
  return head;
}

void at_thread_exit(void*) noexcept {
  cache_flush();
  thread_cache.state = CacheState::kGone;  // later frees go straight back
  flush_counters(thread_cache.counters);
  thread_cache.counters = {};
}

bool activate() noexcept {
  if (thread_cache.state == CacheState::kGone || flush_counters == nullptr) {
    return false;
  }
  thread_cache.state = CacheState::kActive;
  // A key with a destructor is how a thread's exit is noticed without
  // allocating; it has to be set once per thread.
  pthread_setspecific(exit_key, &thread_cache);
  return true;
}

}  // namespace

void cache_init(void (*on_flush)(const ThreadCounters&)) noexcept {
  flush_counters = on_flush;
  pthread_key_create(&exit_key, at_thread_exit);
}

void* cache_refill(std::size_t size_class) noexcept {
  if (thread_cache.state != CacheState::kActive && !activate()) {
    // After this thread's exit hook: one block at a time, no cache.
    FreeBlock* block;
    if (pool_take(size_class, 1, &block) == 0) return nullptr;
    block->canary = 0;
    return block;
  }
  ClassCache& cached = thread_cache.classes[size_class];
  cached.count +=
      pool_take(size_class, cache_capacity(size_class) / 2, &cached.head);
  if (cached.head == nullptr) return nullptr;
  return cache_allocate(size_class);
}

void cache_overflow(std::size_t size_class, FreeBlock* block) noexcept {
  block->canary = canary_of(block);
  if (thread_cache.state != CacheState::kActive && !activate()) {
    block->next = nullptr;
    pool_give(size_class, block);
    return;
  }
  ClassCache& cached = thread_cache.classes[size_class];
  if (cached.count >= cache_capacity(size_class)) {
    pool_give(size_class, detach(cached, cache_capacity(size_class) / 2));
  }
  block->next = cached.head;
  cached.head = block;
  ++cached.count;
}

ThreadCounters& cache_counters() noexcept {
  if (thread_cache.state == CacheState::kUnused) activate();
  return thread_cache.counters;
}

void cache_flush() noexcept {
  for (std::size_t c = 0; c < kClassCount; ++c) {
    ClassCache& cached = thread_cache.classes[c];
    pool_give(c, detach(cached, cached.count));
  }
}

}  // namespace rulloc::heap
