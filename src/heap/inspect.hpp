// The live heap, on demand: what heap/inspect.cpp (rulloc_check,
// rulloc_dump, rulloc_stats_json and their settings) and heap/map_json.cpp
// (rulloc_map_json) need from process_heap.cpp, and what process_heap.cpp
// calls of them. The public
// calls are in process_heap.hpp.
#pragma once

#include <cstddef>

#include "base/text.hpp"

namespace rulloc::base {
class Text;
}
namespace rulloc::core {
class LanedEngine;
}

namespace rulloc::heap {

class Segments;
class ClassPools;
class ThreadCaches;
struct ThreadCache;

// process_heap.cpp: the engine once the heap is built, else nullptr.
core::LanedEngine* built_engine() noexcept;
// The process-wide counters as they stand (no thread's are flushed).
struct Counters {
  std::size_t allocations, frees, bytes_in_use, peak_bytes_in_use;
};
Counters read_counters() noexcept;
// The heap's parts, once built_engine() is not nullptr; `own_cache` is the
// calling thread's.
struct ProcessParts {
  Segments& segments;
  ClassPools& pools;
  ThreadCaches& caches;
  ThreadCache& own_cache;
};
ProcessParts heap_parts() noexcept;
// Checks the calling thread's cache and outbox (ThreadCaches::check); a
// violation names the cache as `whose` ("this thread's") cache or outbox.
bool check_own_cache(base::Text& error, const char* whose) noexcept;
// Adds the calling thread's counters to the process-wide ones now.
void flush_own_counters() noexcept;
inline Segments& heap_segments() noexcept { return heap_parts().segments; }
inline ClassPools& heap_pools() noexcept { return heap_parts().pools; }
inline ThreadCaches& heap_caches() noexcept { return heap_parts().caches; }
// Bytes of the static storage of the engine's buckets.
std::size_t bucket_storage_bytes() noexcept;

// inspect.cpp, called as the heap is built: takes the options
// check_at_exit and dump_signal (options.hpp) and RULLOC_MAP_FILE, then
// installs the signal handler; true when any asks for the report output
// (platform::keep_report_output()).
bool inspect_read_settings() noexcept;
void inspect_install_signal() noexcept;
// At exit: the map to RULLOC_MAP_FILE; with check_at_exit=1, the check,
// reported on stderr (a violation aborts the process).
void inspect_at_exit() noexcept;
// show_stats=json at exit: the JSON figures on stderr.
void print_stats_json() noexcept;

// map_json.cpp: the heap's map as JSON (rulloc_map_json), with try-locks
// only when `try_only` (a signal's snapshot). The option map_file, taken
// by inspect_read_settings(): write_map_file() writes the map there, at
// exit and on the dump signal.
void write_map_json(base::Text& out, bool try_only) noexcept;
bool map_read_settings() noexcept;
void write_map_file(bool try_only) noexcept;

}  // namespace rulloc::heap
