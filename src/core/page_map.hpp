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

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rulloc::core::page_map {

namespace detail {
inline constexpr unsigned kPageBits = 12;
inline constexpr unsigned kLeafBits = 18;  // pages per leaf: 2^18 (1 GiB)
inline constexpr unsigned kRootBits = 18;  // leaves: 2^18 (2^48 bytes)
inline constexpr std::size_t kLeafWords = (std::size_t{1} << kLeafBits) / 64;
inline constexpr std::uintptr_t kLimit = std::uintptr_t{1}
                                         << (kPageBits + kLeafBits + kRootBits);
using Leaf = std::atomic<std::uint64_t>[kLeafWords];
extern std::atomic<Leaf*> root[std::size_t{1} << kRootBits];

inline bool page_is_live(std::uintptr_t address) noexcept {
  if (address >= kLimit) return false;
  const std::uintptr_t page = address >> kPageBits;
  const Leaf* leaf = root[page >> kLeafBits].load(std::memory_order_acquire);
  if (leaf == nullptr) return false;
  const std::uintptr_t bit = page & ((std::uintptr_t{1} << kLeafBits) - 1);
  return ((*leaf)[bit / 64].load(std::memory_order_relaxed) >> (bit % 64)) & 1;
}
}  // namespace detail

// Marks [base, base + length) as a live region's. False when a leaf cannot
// be mapped (or the range lies beyond 2^48): nothing is marked then.
bool add(const void* base, std::size_t length) noexcept;
void remove(const void* base, std::size_t length) noexcept;
// Leaves mapped so far (each detail::kLeafWords * 8 bytes, never unmapped):
// the page map's memory, for the heap's account of its metadata.
std::size_t leaves() noexcept;
// Whether the page of `address` belongs to a live region. Inline: it guards
// every free of an engine block and every free-list link followed.
inline bool contains(const void* address) noexcept {
  return detail::page_is_live(reinterpret_cast<std::uintptr_t>(address));
}
// Whether all of [address, address + length) does; `length` at most a page
// (a header, a pair of links), so its first and last byte tell.
inline bool contains(const void* address, std::size_t length) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(address);
  if (length == 0 || first > detail::kLimit - length) return false;
  const std::uintptr_t last = first + length - 1;
  return detail::page_is_live(first) &&
         ((first ^ last) >> detail::kPageBits == 0 ||
          detail::page_is_live(last));
}

// The same, knowing that `live` lies on a live page: what shares that page
// needs no lookup (a header a few bytes below the pointer freed).
inline bool contains(const void* address, std::size_t length,
                     const void* live) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(address);
  const std::uintptr_t page =
      reinterpret_cast<std::uintptr_t>(live) >> detail::kPageBits;
  if (length != 0 && first <= detail::kLimit - length &&
      first >> detail::kPageBits == page &&
      (first + length - 1) >> detail::kPageBits == page) {
    return true;
  }
  return contains(address, length);
}

}  // namespace rulloc::core::page_map
