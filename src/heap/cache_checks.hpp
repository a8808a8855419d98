// Other threads' caches, checked while they run (rulloc_check). A thread's
// cache is plain thread-local data that its thread changes without a lock
// or an atomic, so no other thread may read it, not even to check it.
// Instead each thread with a cache holds a slot in a table, rulloc_check()
// raises a request, and each thread answers at its next flush of counters
// (within 1024 of its calls), where its cache is between two operations:
// it checks its own cache and outbox, leaves the first violation in the
// table and marks its slot answered. The checker waits a short while for
// the answers; a thread that makes no call meanwhile (blocked, idle)
// stays unchecked, and is counted as such.
//
//   rulloc_check()                       thread B (slot 3)
//   requested = 7 ---------------------> flush of counters: 7 > answered
//   waits while a slot's answered < 7    checks its own cache
//   reads the violation, if any <------- violation (if any), answered = 7
#pragma once

#include <cstddef>

#include "base/text.hpp"

namespace rulloc::heap {

// The calling thread, as its cache is set up and at its exit.
void cache_checks_join() noexcept;
void cache_checks_leave() noexcept;
// At each flush of the calling thread's counters: answers a pending
// request (a load and a compare when there is none).
void cache_checks_answer() noexcept;
// Asks every other thread with a cache to check it, and waits up to
// `wait_ms` for their answers. False and the first violation written to
// `error` when one found its cache broken; `*unchecked`: threads that did
// not answer in time (and threads beyond the table's slots).
bool check_other_caches(base::Text& error, unsigned long wait_ms,
                        std::size_t* unchecked) noexcept;
// In a child after fork(): only the calling thread came along.
void cache_checks_after_fork_in_child() noexcept;

}  // namespace rulloc::heap
