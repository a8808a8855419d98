// The live heap, on demand: what heap/inspect.cpp (rulloc_check,
// rulloc_dump, rulloc_stats_json and their settings) needs from
// process_heap.cpp, and what process_heap.cpp calls of it. The public
// calls are in process_heap.hpp.
#pragma once

#include <cstddef>

namespace rulloc::core {
class LanedEngine;
}

namespace rulloc::heap {

// process_heap.cpp: the engine once the heap is built, else nullptr.
core::LanedEngine* built_engine() noexcept;
// The process-wide counters as they stand (no thread's are flushed).
struct Counters {
  std::size_t allocations, frees, bytes_in_use, peak_bytes_in_use;
};
Counters read_counters() noexcept;
// Bytes of the static storage of the engine's buckets.
std::size_t bucket_storage_bytes() noexcept;

// inspect.cpp, called as the heap is built: takes the options
// check_at_exit and dump_signal (options.hpp), then installs the signal
// handler; true when either asks for the report output
// (platform::keep_report_output()).
bool inspect_read_settings() noexcept;
void inspect_install_signal() noexcept;
// At exit, with check_at_exit=1: the check, reported on stderr;
// a violation aborts the process.
void inspect_at_exit() noexcept;
// show_stats=json at exit: the JSON figures on stderr.
void print_stats_json() noexcept;

}  // namespace rulloc::heap
