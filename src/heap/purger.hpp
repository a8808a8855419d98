// Gives free memory back to the kernel after a delay. Every half delay (a
// tick) a purge round gives back what stayed free since the tick before:
// slabs given back (the empty slabs the class pools keep go back to the
// segments in each round, to be purged in a later one), and per engine
// bucket its empty regions, or with its free pages when nothing used the
// bucket (Engine::trim_unused, also while other buckets are busy). Memory
// goes back between half a delay and a delay after it was freed. The delay
// is the config's (in the process heap, the option purge_delay_ms, default
// 1000); 0 purges free slabs and unmaps empty regions at once; "off" keeps
// them until rulloc_trim(). Until purged, free slabs are reused without
// page faults.
//
//   time -->  tick      tick      tick      tick
//   slab freed  ^ (epoch 4)
//   purged                              ^ (epoch 6: freed two ticks ago)
//
// Who runs the rounds. A thread of ours, `rulloc-purge`, also while the
// program sleeps; until it runs, the program's own frees run a round when
// one is due. The thread is never started from inside malloc or free while
// the process has other threads: the C library calls free() while holding
// locks of its own (at thread exit, its stack cache's) that creating a
// thread takes too, so that would hang the process. It starts
//   - when the program creates a thread (pthread_create, thrd_create: the
//     override layer calls purger_before_thread_create()), where no lock of
//     the C library is held; the process is threaded from then on anyway;
//   - in a single-threaded process, from a free, once kStartBytes were
//     freed since the last round (no other thread exists to hold a lock),
//     so a small program stays single-threaded (unshare(CLONE_NEWUSER));
//     the same in any process where starting a thread takes no lock of
//     the C library (Windows: platform::thread_start_is_safe_anywhere()).
// The option purge_thread=0 never starts it: the rounds then run only from
// the program's own frees.
//
// A Purger is built from a PurgerConfig: its clock, its delay, how to trim
// the engine and start its thread, so tests run rounds on a test clock
// (tests/heap/purger_test.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "heap/segments.hpp"

namespace rulloc::heap {

struct PurgerConfig {
  // Milliseconds between a free and the purge; 0: at once; -1: off (kept
  // until the program trims).
  long delay_ms = 1000;
  // Whether the thread may start (the option purge_thread).
  bool thread_allowed = true;
  // What a single-threaded process frees in one tick before it gets the
  // thread: below that, its own frees give memory back.
  std::size_t start_bytes = std::size_t{8} << 20;
  // The clock rounds are due by.
  unsigned long long (*now_ms)() noexcept = nullptr;
  // Gives back what the engine's buckets left unused since the last round.
  void (*trim_engine)(void* context) noexcept = nullptr;
  // Gives back the empty slabs the class pools keep (each round, before
  // the slabs freed are purged a round later).
  void (*trim_pools)(void* context) noexcept = nullptr;
  void* context = nullptr;
  // Starts the purger's thread, which calls loop(); false when it cannot.
  // nullptr: never.
  bool (*start_thread)(void* context) noexcept = nullptr;
  // The program's threads still alive (the thread leaves when none is).
  long (*live_threads)(void* context) noexcept = nullptr;
  // Around start_thread(): what creating a thread allocates is the C
  // library's, not the program's (the process heap leaves it out of the
  // counters).
  void (*before_start)(void* context) noexcept = nullptr;
  void (*after_start)(void* context) noexcept = nullptr;
};

class Purger {
 public:
  Purger(Segments& segments, PurgerConfig config) noexcept;
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  // Every path that gives memory back to the heap (free, realloc, sized
  // and aligned deletes, thread exit) calls this with no heap lock held.
  void note_freed(std::size_t bytes) noexcept {
    if (!thread_runs_.load(std::memory_order_relaxed)) [[unlikely]] {
      note_freed_slow(bytes);
    }
  }
  // One round now: the free slabs given back before the last tick are
  // purged, then the engine trimmed. False, and nothing done, while another
  // round runs.
  bool run_round() noexcept;
  // The thread's body: a round every tick until the program's last thread
  // is gone.
  void loop() noexcept;

  // Before the program creates a thread of its own.
  void before_thread_create() noexcept;
  // In a child after fork(): the thread did not come along.
  void after_fork_in_child() noexcept;
  // At exit: no round starts from now on, and one under way ends first. On
  // Windows ExitProcess then ends the purger's thread wherever it is, and
  // the frees that run after it (the runtime's and the loader's clean-up)
  // must not wait for a lock the thread held.
  void stop() noexcept;
  // Changes a delay > 0 to `ms` > 0 (mallopt); false otherwise.
  bool set_delay(long ms) noexcept;
  long delay_ms() const noexcept {
    return delay_ms_.load(std::memory_order_relaxed);
  }
  // Purge rounds completed so far (thread or frees alike), for tests and
  // tools that wait for the purger instead of a clock.
  std::uint64_t rounds() const noexcept {
    return rounds_.load(std::memory_order_acquire);
  }
  bool thread_runs() const noexcept {
    return thread_runs_.load(std::memory_order_relaxed);
  }

 private:
  void note_freed_slow(std::size_t bytes) noexcept;
  long tick_ms() const noexcept;
  void start_thread() noexcept;

  Segments& segments_;
  const PurgerConfig config_;
  // Set when built; mallopt() may change it later (> 0 to > 0).
  std::atomic<long> delay_ms_;
  std::atomic<bool> thread_runs_{false};
  std::atomic<bool> thread_started_{false};  // created, or being created
  std::atomic<std::size_t> freed_since_round_{0};
  std::atomic<unsigned long long> next_round_ms_{0};
  std::atomic<std::uint64_t> rounds_{0};
  std::atomic<bool> round_busy_{false};  // one round at a time
  std::atomic<bool> stopped_{false};     // at exit: no more rounds
};

}  // namespace rulloc::heap
