// Detected misuse (double free, a pointer rulloc never returned) stops the
// program with a message naming the operation and the pointer: carrying on
// would corrupt the heap quietly.
#pragma once

namespace rulloc::base {

[[noreturn]] void report_misuse(const char* operation, const void* pointer,
                                const char* problem) noexcept;
// A block that is free already: "double free" when `operation` frees it
// again, "block already free" for any other use; `detail` (or nullptr) adds
// how it was found.
[[noreturn]] void report_already_free(const char* operation,
                                      const void* pointer,
                                      const char* detail) noexcept;

}  // namespace rulloc::base
