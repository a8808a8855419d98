// Gives free memory back to the kernel after a delay. Every half delay (a
// tick) a purge round gives back what stayed free since the tick before:
// slabs given back, and per engine bucket its empty regions, or with its
// free pages when nothing used the bucket (Engine::trim_unused, also while
// other buckets are busy). Memory goes back between half a delay and a
// delay after it was freed. The option purge_delay_ms sets the delay
// (default 1000); 0 purges free slabs and unmaps empty regions at once; "off"
// keeps them until rulloc_trim(). Until purged, free slabs are reused without
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
// The option purge_thread=0 never starts it: the rounds then run only from the
// program's own frees.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rulloc::core {
class LanedEngine;
}

namespace rulloc::heap {

// Once the engine exists: takes the delay, whether the thread may start
// and the trim threshold from the options (options.hpp).
void purger_configure(core::LanedEngine* engine) noexcept;

// Every path that gives memory back to the heap (free, realloc, sized and
// aligned deletes, thread exit) calls this with no heap lock held.
void purger_note_freed_slow(std::size_t bytes) noexcept;
extern std::atomic<bool> purger_thread_runs;
inline void purger_note_freed(std::size_t bytes) noexcept {
  if (!purger_thread_runs.load(std::memory_order_relaxed)) [[unlikely]] {
    purger_note_freed_slow(bytes);
  }
}

// Before the program creates a thread of its own.
void purger_before_thread_create() noexcept;
// In a child after fork(): the thread did not come along.
void purger_after_fork_in_child() noexcept;
// At exit: no round starts from now on, and one under way ends first. On
// Windows ExitProcess then ends the purger's thread wherever it is, and the
// frees that run after it (the runtime's and the loader's clean-up) must
// not wait for a lock the thread held.
void purger_stop() noexcept;
// Changes a delay > 0 to `ms` > 0 (mallopt); false otherwise.
bool purger_set_delay(long ms) noexcept;
// Free slabs beyond `bytes` are purged as they come, before any round
// (-1: none; mallopt's M_TRIM_THRESHOLD).
void purger_set_trim_threshold(long long bytes) noexcept;
// Purge rounds completed so far (thread or frees alike), for tests and
// tools that wait for the purger instead of a clock.
std::uint64_t purger_rounds() noexcept;

}  // namespace rulloc::heap
