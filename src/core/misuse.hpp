// Detected misuse (double free, a pointer rulloc never returned) stops the
// program with a message naming the operation and the pointer: carrying on
// would corrupt the heap quietly.
#pragma once

namespace rulloc::core {

[[noreturn]] void report_misuse(const char* operation, const void* pointer,
                                const char* problem) noexcept;

}  // namespace rulloc::core
