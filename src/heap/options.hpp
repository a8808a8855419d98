// Every setting of the process heap, in one table: its name, the variable
// that sets it alone, the values it takes, its default and what it does.
// README's options table is printed from this one (write_option_table(),
// checked by the test dropin.options.readme_table), so the two cannot
// drift apart.
//
// Where a value comes from, each later source winning over the one before:
//
//   the default  <  RULLOC_OPTIONS="name=value,name=value"  <  RULLOC_<NAME>
//
// then mallopt(), from then on, for the settings it takes. The environment
// is read once, as the heap is built, and not at all in a set-uid or
// set-gid program (platform::environment). A bad value or an unknown name
// is named on stderr and ignored: the setting keeps the value it had. All
// of it runs inside the heap's construction, so nothing here allocates.
#pragma once

#include <cstddef>

#include "base/text.hpp"

namespace rulloc::heap {

enum class OptionKind : unsigned char {
  kFlag,    // 0 or 1
  kNumber,  // a decimal number from `minimum` to `maximum`
  kBytes,   // the same, in bytes, with an optional K, M, G or T (KiB, ...)
  kSignal,  // a signal a handler may take: SIGUSR2, USR2 or its number
  kPath,    // a file's path, up to 255 characters (option_text())
};

struct OptionSpec {
  const char* name;      // as in RULLOC_OPTIONS
  const char* variable;  // RULLOC_ and the name in capitals
  OptionKind kind;
  long long fallback;  // the default
  long long minimum, maximum;
  // A word the setting also takes, which stands for `word_value` (such as
  // "off"), or nullptr.
  const char* word;
  long long word_value;
  const char* doc;  // one line, for README's table
};

// In the table's order.
enum class Option : unsigned char {
  kPurgeDelayMs,
  kPurgeThread,
  kShowStats,
  kVerbose,
  kCheckAtExit,
  kDumpSignal,
  kLanes,
  kThreadCacheBytes,
  kLargeCacheBytes,
  kMmapThreshold,
  kTrimThreshold,
  kMapFile,
  kCount
};

inline constexpr long long kMiB = 1 << 20;
// show_stats=json
inline constexpr long long kStatsJson = 2;
// purge_delay_ms=off, trim_threshold=off
inline constexpr long long kOff = -1;

inline constexpr OptionSpec kOptionTable[] = {
    {"purge_delay_ms", "RULLOC_PURGE_DELAY_MS", OptionKind::kNumber, 1000, 0,
     86400000, "off", kOff,
     "milliseconds free memory stays before it goes back to the kernel; 0: "
     "at once (and no large region cached), off: only on trim"},
    {"purge_thread", "RULLOC_PURGE_THREAD", OptionKind::kFlag, 1, 0, 1, nullptr,
     0, "0: no purger thread, the program's own frees give memory back"},
    {"show_stats", "RULLOC_SHOW_STATS", OptionKind::kFlag, 0, 0, 1, "json",
     kStatsJson, "statistics on stderr at exit: 1 as text, json as JSON"},
    {"verbose", "RULLOC_VERBOSE", OptionKind::kFlag, 0, 0, 1, nullptr, 0,
     "every option's value on stderr at start-up, and failed allocations"},
    {"check_at_exit", "RULLOC_CHECK_AT_EXIT", OptionKind::kFlag, 0, 0, 1,
     nullptr, 0,
     "rulloc_check() at exit: 'sound' on stderr, or the violation and abort"},
    {"dump_signal", "RULLOC_DUMP_SIGNAL", OptionKind::kSignal, 0, 1, 64, "off",
     0, "the heap drawn on stderr whenever this signal comes"},
    {"lanes", "RULLOC_LANES", OptionKind::kNumber, 0, 0, 16, nullptr, 0,
     "lanes of slab pools and engine buckets threads are spread over (0: "
     "one per CPU), at most 16; mallopt's M_ARENA_MAX lowers it later"},
    {"thread_cache_bytes", "RULLOC_THREAD_CACHE_BYTES", OptionKind::kBytes,
     32 * 1024, 0, kMiB, nullptr, 0,
     "free blocks each thread keeps per size class, in bytes (at least 2 "
     "blocks, at most 2048)"},
    {"large_cache_bytes", "RULLOC_LARGE_CACHE_BYTES", OptionKind::kBytes,
     64 * kMiB, 0, 1ll << 40, nullptr, 0,
     "emptied large regions kept for reuse, in bytes (0: none)"},
    {"mmap_threshold", "RULLOC_MMAP_THRESHOLD", OptionKind::kBytes, 32 * kMiB,
     0, 32 * kMiB, nullptr, 0,
     "blocks of this size or more get a region of their own, unmapped or "
     "cached when freed (above 32M: always; below 32K: slabs), as mallopt's "
     "M_MMAP_THRESHOLD"},
    {"trim_threshold", "RULLOC_TRIM_THRESHOLD", OptionKind::kBytes, kOff, 0,
     1ll << 40, "off", kOff,
     "bytes of free slabs that may keep their pages until the purge delay; "
     "beyond, they are purged at once (as mallopt's M_TRIM_THRESHOLD)"},
    {"map_file", "RULLOC_MAP_FILE", OptionKind::kPath, 0, 0, 0, nullptr, 0,
     "rulloc_map_json() written there at exit and on dump_signal; %p: the "
     "process id, %n: the snapshot's number (1, 2, ...)"},
};

static_assert(sizeof(kOptionTable) / sizeof(kOptionTable[0]) ==
              static_cast<std::size_t>(Option::kCount));

// Each variable is RULLOC_ and the name in capitals.
constexpr bool variable_matches(const OptionSpec& spec) noexcept {
  const char prefix[] = "RULLOC_";
  for (std::size_t i = 0; i + 1 < sizeof(prefix); ++i) {
    if (spec.variable[i] != prefix[i]) return false;
  }
  const char* name = spec.name;
  const char* rest = spec.variable + sizeof(prefix) - 1;
  for (; *name != '\0'; ++name, ++rest) {
    const char upper = *name >= 'a' && *name <= 'z'
                           ? static_cast<char>(*name - 'a' + 'A')
                           : *name;
    if (*rest != upper) return false;
  }
  return *rest == '\0';
}
constexpr bool every_variable_matches() noexcept {
  for (const OptionSpec& spec : kOptionTable) {
    if (!variable_matches(spec)) return false;
  }
  return true;
}
static_assert(every_variable_matches());

constexpr const OptionSpec& option_spec(Option which) noexcept {
  return kOptionTable[static_cast<std::size_t>(which)];
}

// The value in effect: the default until read_options() has run.
long long option(Option which) noexcept;
// A kPath option's text, "" when unset.
const char* option_text(Option which) noexcept;

// Reads RULLOC_OPTIONS, then every RULLOC_<NAME>, once, as the heap is
// built.
void read_options() noexcept;

// With verbose: one line per option on stderr, its value and where it came
// from ("rulloc: option lanes=0 (default)").
void print_options() noexcept;

// README's table: a header and one row per option, in Markdown.
void write_option_table(base::Text& out) noexcept;

}  // namespace rulloc::heap
