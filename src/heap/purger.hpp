// Gives free memory back to the kernel after a delay, also while the
// program is idle and calls nothing: a background thread wakes every half
// delay (a tick) and purges what stayed free since the tick before: slabs
// given back, and per engine bucket its empty regions, or with its free
// pages when nothing used the bucket (Engine::trim_unused, also while other
// buckets are busy). Memory goes back between half a delay and a delay
// after it was freed. RULLOC_PURGE_DELAY_MS sets the delay (default 1000);
// 0 purges free slabs at once, without a thread; "off" keeps them until
// rulloc_trim(). Until purged, free slabs are reused without page faults.
//
//   time -->  tick      tick      tick      tick
//   slab freed  ^ (epoch 4)
//   purged                              ^ (epoch 6: freed two ticks ago)
#pragma once

#include <cstddef>

namespace rulloc::detail {
class Engine;
}

namespace rulloc::heap {

// Reads the setting once, when the heap is built, and returns the delay
// (-1: off); then purger_configure() once the engine exists.
long purger_read_delay() noexcept;
void purger_configure(detail::Engine* engine) noexcept;
// True until the thread was started (or when none is wanted).
bool purger_wanted() noexcept;
// Starts the thread on first need. Call it with no heap lock held: starting
// a thread allocates.
void purger_wake() noexcept;
// In a child after fork(): the thread did not come along.
void purger_after_fork_in_child() noexcept;
// Whether a purger thread runs, and the delay in milliseconds (-1: off).
bool purger_running() noexcept;
long purger_delay_ms() noexcept;

}  // namespace rulloc::heap
