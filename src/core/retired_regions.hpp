// The last few regions given back to the kernel. A pointer into one of them
// is a free of a block whose region is gone (a double free, typically of a
// large block): it is reported before anything reads the unmapped memory.
// Recorded before the unmap and forgotten when a new region reuses the
// range, so a live pointer is never mistaken for a retired one.
#pragma once

#include <cstddef>

namespace rulloc::core::retired_regions {

void record(const void* base, std::size_t length) noexcept;
void forget(const void* base, std::size_t length) noexcept;
bool contains(const void* pointer) noexcept;

}  // namespace rulloc::core::retired_regions
