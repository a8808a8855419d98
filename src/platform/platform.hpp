// The whole operating-system surface of rulloc: page size, map, unmap and
// purge. One implementation file per OS (linux.cpp, windows.cpp); nothing
// above this layer includes an OS header.
#pragma once

#include <cstddef>

namespace rulloc::platform {

// The virtual memory page size, read from the OS once.
std::size_t page_size() noexcept;

// Maps `length` bytes (a multiple of page_size()) of zeroed, readable and
// writable memory. Returns nullptr when the OS says no; never aborts.
void* map(std::size_t length) noexcept;

// Returns a mapping made by map(). False when the OS refuses.
bool unmap(void* address, std::size_t length) noexcept;

// Tells the OS that the pages' contents are no longer needed; they stay
// mapped and read as zero (or their old contents) afterwards.
bool purge(void* address, std::size_t length) noexcept;

// Makes mapped pages inaccessible: a guard, which stops the program on any
// access. False when the OS refuses.
bool make_guard(void* address, std::size_t length) noexcept;

// Writes `length` bytes to standard error without allocating.
void write_error(const char* text, std::size_t length) noexcept;

}  // namespace rulloc::platform
