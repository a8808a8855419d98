// Alignment arithmetic, shared by every layer above.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rulloc::base {

// Every header is a multiple of this, so block contents are always aligned
// to it without any padding.
inline constexpr std::size_t kPointerSize = sizeof(void*);

constexpr bool is_power_of_two(std::size_t value) noexcept {
  return value != 0 && (value & (value - 1)) == 0;
}

// `align` must be a power of two. Returns 0 when the result would overflow.
constexpr std::size_t align_up(std::size_t value, std::size_t align) noexcept {
  if (value > SIZE_MAX - (align - 1)) return 0;
  return (value + align - 1) & ~(align - 1);
}

inline std::byte* align_up(std::byte* address, std::size_t align) noexcept {
  auto bits = reinterpret_cast<std::uintptr_t>(address);
  return address + ((align - (bits & (align - 1))) & (align - 1));
}

inline std::byte* align_down(std::byte* address, std::size_t align) noexcept {
  auto bits = reinterpret_cast<std::uintptr_t>(address);
  return address - (bits & (align - 1));
}

}  // namespace rulloc::base
