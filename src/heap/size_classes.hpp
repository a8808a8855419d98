// Size classes of the small-block heap: 16-byte steps up to 256, then four
// classes per doubling up to 32 KiB (at most 25% slack above 256 bytes, like
// the classes of the common allocators; a 64 KiB slab still holds two of
// the largest). Every power of two from 16 to 32768 is a class, so an
// aligned request can use the class of its alignment.
// Lookups go through a table indexed by size / 16, built at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rulloc::heap {

inline constexpr std::size_t kClassCount = 44;
inline constexpr std::size_t kMaxSmallSize = 32768;

constexpr std::size_t class_size(std::size_t size_class) noexcept {
  if (size_class < 16) return 16 * (size_class + 1);
  const std::size_t base = std::size_t{256} << ((size_class - 16) / 4);
  return base + (base / 4) * ((size_class - 16) % 4 + 1);
}

namespace class_tables {

// request_table[ceil(size / 16)]: the smallest class holding size bytes.
constexpr auto make_request_table() {
  std::array<std::uint8_t, kMaxSmallSize / 16 + 1> table{};
  std::size_t size_class = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    while (class_size(size_class) < i * 16) ++size_class;
    table[i] = static_cast<std::uint8_t>(size_class);
  }
  return table;
}

inline constexpr auto request_table = make_request_table();

constexpr auto make_size_table() {
  std::array<std::uint32_t, kClassCount> table{};
  for (std::size_t c = 0; c < kClassCount; ++c) {
    table[c] = static_cast<std::uint32_t>(class_size(c));
  }
  return table;
}

}  // namespace class_tables

// class_size() as a table, for the fast paths.
inline constexpr auto kClassSizes = class_tables::make_size_table();

// The smallest class that holds `size` bytes (size <= kMaxSmallSize).
constexpr std::size_t class_for_request(std::size_t size) noexcept {
  return class_tables::request_table[(size + 15) / 16];
}

static_assert(class_size(15) == 256 && class_size(16) == 320);
static_assert(class_size(19) == 512 && class_size(23) == 1024);
static_assert(class_size(kClassCount - 1) == kMaxSmallSize);
static_assert(class_for_request(0) == 0 && class_for_request(16) == 0);
static_assert(class_for_request(17) == 1 && class_for_request(257) == 16);
static_assert(class_for_request(kMaxSmallSize) == kClassCount - 1);
static_assert(class_size(class_for_request(4096)) == 4096);

}  // namespace rulloc::heap
