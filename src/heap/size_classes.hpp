// Size classes of the thread caches: 16-byte steps up to 256, then 64-byte
// steps up to 512 and 128-byte steps up to 1024 (at most 25% slack above
// 256 bytes, like the classes of the common allocators). Lookups go through
// small tables indexed by size / 16, built at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rulloc::heap {

inline constexpr std::size_t kClassCount = 24;
inline constexpr std::size_t kMaxCachedSize = 1024;
// Blocks up to this usable size are cached (in the largest class that they
// can serve); larger ones would waste too much.
inline constexpr std::size_t kMaxCachedBlock = 2 * kMaxCachedSize - 1;

constexpr std::size_t class_size(std::size_t size_class) noexcept {
  if (size_class < 16) return 16 * (size_class + 1);
  if (size_class < 20) return 256 + 64 * (size_class - 15);
  return 512 + 128 * (size_class - 19);
}

namespace class_tables {

// request_table[ceil(size / 16)]: the smallest class holding size bytes.
constexpr auto make_request_table() {
  std::array<std::uint8_t, kMaxCachedSize / 16 + 1> table{};
  std::size_t size_class = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    while (class_size(size_class) < i * 16) ++size_class;
    table[i] = static_cast<std::uint8_t>(size_class);
  }
  return table;
}

// block_table[floor(usable / 16)]: the largest class a block can serve.
constexpr auto make_block_table() {
  std::array<std::uint8_t, kMaxCachedBlock / 16 + 1> table{};
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::size_t size_class = kClassCount;  // too small to cache
    for (std::size_t c = 0; c < kClassCount; ++c) {
      if (class_size(c) <= i * 16) size_class = c;
    }
    table[i] = static_cast<std::uint8_t>(size_class);
  }
  return table;
}

inline constexpr auto request_table = make_request_table();
inline constexpr auto block_table = make_block_table();

}  // namespace class_tables

// The smallest class that holds `size` bytes (size <= kMaxCachedSize).
constexpr std::size_t class_for_request(std::size_t size) noexcept {
  return class_tables::request_table[(size + 15) / 16];
}

// The largest class a block of `usable` bytes can serve, or kClassCount when
// it is too small or too large to cache.
constexpr std::size_t class_for_block(std::size_t usable) noexcept {
  return usable > kMaxCachedBlock ? kClassCount
                                  : class_tables::block_table[usable / 16];
}

static_assert(class_size(kClassCount - 1) == kMaxCachedSize);
static_assert(class_for_request(0) == 0 && class_for_request(16) == 0);
static_assert(class_for_request(17) == 1 && class_for_request(257) == 16);
static_assert(class_for_request(1024) == kClassCount - 1);
static_assert(class_for_block(15) == kClassCount);
static_assert(class_for_block(40) == 1 && class_for_block(48) == 2);
static_assert(class_for_block(2047) == kClassCount - 1);
static_assert(class_for_block(2048) == kClassCount);

}  // namespace rulloc::heap
