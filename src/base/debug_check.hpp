// Preconditions that are otherwise only prose, checked in debug builds (no
// NDEBUG: the debug preset) and compiled away in release ones.
#pragma once

#include "base/misuse.hpp"

namespace rulloc::base {

#ifdef NDEBUG
inline constexpr bool kDebugChecks = false;
#else
inline constexpr bool kDebugChecks = true;
#endif

// Stops with "rulloc: internal(<pointer>): <what>" when `holds` is false.
inline void debug_check(bool holds, const void* pointer,
                        const char* what) noexcept {
  if constexpr (kDebugChecks) {
    if (!holds) [[unlikely]] {
      report_misuse("internal", pointer, what);
    }
  }
}

}  // namespace rulloc::base
