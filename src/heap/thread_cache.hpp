// Thread caches: each thread keeps blocks it freed, per size class, and
// hands them out again without a lock or an atomic. The blocks stay "in use"
// for their buckets and are marked parked, so a second free of one is still
// caught as a double free. Full caches give half back; a thread that exits
// gives everything back.
//
//   thread A cache            thread B cache
//   class 0: p -> p -> p      class 0: p
//   class 1: p                class 2: p -> p
//        \                        /
//         +---- process heap ----+   (buckets, locks, free lists)
#pragma once

#include <cstddef>

namespace rulloc::detail {
class Engine;
}

namespace rulloc::heap {

struct ThreadCounters {
  std::size_t allocations;
  std::size_t frees;
  long long bytes;  // usable bytes allocated minus freed since last flush
};

// A block for `size` bytes (<= kMaxCachedSize) from this thread's cache, or
// nullptr when the class is empty or the thread has no cache any more.
// `*usable` receives the block's usable size.
void* cache_pop(std::size_t size, std::size_t* usable) noexcept;
// Keeps a block of `usable` bytes in this thread's cache; false when it does
// not belong there (the caller then frees it to the engine).
bool cache_push(void* pointer, std::size_t usable) noexcept;
// This thread's counters since their last flush, which the caller adds to
// the process-wide ones (bytes counted at free are the usable size).
ThreadCounters& cache_counters() noexcept;

// True once this thread's exit hook has run: its counters are no longer
// flushed for it.
bool cache_exited() noexcept;

// Once, before any thread uses a cache: where flushed blocks go, and what to
// call with counters when a thread's cache is flushed at exit.
void cache_init(detail::Engine* engine,
                void (*on_flush)(const ThreadCounters&)) noexcept;
// Empties this thread's cache into the engine.
void cache_flush() noexcept;

}  // namespace rulloc::heap
