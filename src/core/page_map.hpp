// Which pages belong to a live region of some engine, so that a pointer is
// classified without reading memory rulloc does not own: free() of a
// foreign pointer whose page before is unmapped is reported, not a fault,
// and a corrupted free-list link is caught before it is followed.
//
// One bit per 4 KiB of address space, in leaves that each cover 1 GiB
// (32 KiB of bits), mapped on first use and never unmapped; a static root
// table (2 MiB of zero pages, touched only where used) covers 2^48 bytes.
//
//   address  | 18 bits: root index | 18 bits: bit in leaf | 12 bits |
//   root     [ leaf* | leaf* | 0 | 0 | ... ]
//   leaf     [ 0 0 1 1 1 1 0 ... ]   1 = a page of a live region
//
// Bits change when a region is mapped, resized or given back, always before
// any pointer into it is handed out or after the last one is taken back.
#pragma once

#include <cstddef>

namespace rulloc::core::page_map {

// Marks [base, base + length) as a live region's. False when a leaf cannot
// be mapped (or the range lies beyond 2^48): nothing is marked then.
bool add(const void* base, std::size_t length) noexcept;
void remove(const void* base, std::size_t length) noexcept;
// Whether the page of `address` belongs to a live region.
bool contains(const void* address) noexcept;
// Whether all of [address, address + length) does.
bool contains(const void* address, std::size_t length) noexcept;

}  // namespace rulloc::core::page_map
