// Size classes of the thread caches: 16-byte steps up to 256, then 64-byte
// steps up to 512 and 128-byte steps up to 1024 (at most 25% slack above
// 256 bytes, like the classes of the common allocators).
#pragma once

#include <cstddef>

namespace rulloc::heap {

inline constexpr std::size_t kClassCount = 24;
inline constexpr std::size_t kMaxCachedSize = 1024;

constexpr std::size_t class_size(std::size_t size_class) noexcept {
  if (size_class < 16) return 16 * (size_class + 1);
  if (size_class < 20) return 256 + 64 * (size_class - 15);
  return 512 + 128 * (size_class - 19);
}

// The smallest class that holds `size` bytes (size <= kMaxCachedSize).
constexpr std::size_t class_for_request(std::size_t size) noexcept {
  if (size <= 256) return size == 0 ? 0 : (size - 1) / 16;
  if (size <= 512) return 16 + (size - 257) / 64;
  return 20 + (size - 513) / 128;
}

// The largest class a block of `usable` bytes can serve, or kClassCount when
// it is too small or too large to cache.
constexpr std::size_t class_for_block(std::size_t usable) noexcept {
  if (usable < 16 || usable >= 2 * kMaxCachedSize) return kClassCount;
  if (usable >= kMaxCachedSize) return kClassCount - 1;
  std::size_t size_class = class_for_request(usable);
  return class_size(size_class) > usable ? size_class - 1 : size_class;
}

static_assert(class_size(kClassCount - 1) == kMaxCachedSize);
static_assert(class_for_request(16) == 0 && class_for_request(17) == 1);
static_assert(class_for_request(1024) == kClassCount - 1);
static_assert(class_for_block(40) == 1 && class_for_block(48) == 2);

}  // namespace rulloc::heap
