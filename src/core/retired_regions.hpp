// The last few regions given back to the kernel. A pointer into one of them
// is a free of a block whose region is gone (a double free, typically of a
// large block): it is reported before anything reads the retired memory.
// While a region is among the last kSlots retired its range stays reserved
// (inaccessible, holding no memory), so no new mapping can take it and a
// stale pointer never points into a live region; it is unmapped when it
// leaves the ring.
#pragma once

#include <cstddef>

namespace rulloc::core::retired_regions {

// Gives a whole region back. False when the kernel refuses: the region is
// still mapped then.
bool retire(void* base, std::size_t length) noexcept;
// Records the range a region was just moved away from (by a remap), and
// reserves it if nothing took it meanwhile.
void retire_moved(void* old_base, std::size_t length) noexcept;
bool contains(const void* pointer) noexcept;
// Unmaps every reserved range at once, for when address space runs out.
// True when there was one.
bool release_all() noexcept;

}  // namespace rulloc::core::retired_regions
