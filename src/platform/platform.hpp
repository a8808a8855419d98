// The whole operating-system surface of rulloc: page size, map, unmap,
// retire, remap and purge. One implementation file per OS (linux.cpp,
// windows.cpp); nothing above this layer includes an OS header.
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

// Replaces a mapping made by map() with an inaccessible reservation of the
// same range that holds no memory, so that no later mapping can land there;
// unmap() releases it. False when the OS refuses: the range may then be
// mapped as before or not at all, and unmap() is still the way to end it.
bool retire(void* address, std::size_t length) noexcept;

// Reserves [address, address + length) as retire() would, but only if
// nothing is mapped there. False otherwise, or when the OS says no.
bool reserve(void* address, std::size_t length) noexcept;

// Resizes a mapping made by map() (or returned by remap()) to `new_length`,
// keeping its contents, and returns its address: the same one when the OS
// can resize it in place, else a new one (the old range is then gone).
// nullptr when the OS cannot (always on Windows): the mapping is unchanged.
void* remap(void* address, std::size_t old_length,
            std::size_t new_length) noexcept;

// Whether unmap(), retire() and remap() also take any page-aligned part of
// a mapping, so that one mapping can be cut into regions of its own.
bool maps_split() noexcept;

// Tells the OS that the pages' contents are no longer needed; they stay
// mapped and read as zero (or their old contents) afterwards.
bool purge(void* address, std::size_t length) noexcept;

// Makes mapped pages inaccessible: a guard, which stops the program on any
// access. False when the OS refuses.
bool make_guard(void* address, std::size_t length) noexcept;

// Writes `length` bytes to standard error without allocating.
void write_error(const char* text, std::size_t length) noexcept;

// Milliseconds of a clock that never goes back; no lock, no allocation.
unsigned long long monotonic_ms() noexcept;

// True while the process has never had a second thread, as the C library
// knows it: then no other thread can hold a lock of the library's thread
// code (its stack cache), so starting a thread cannot wait for one. False
// where the OS cannot tell.
bool process_is_single_threaded() noexcept;

}  // namespace rulloc::platform
