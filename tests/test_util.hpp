// Helpers shared by the test files: the layout constants of a 64-bit build,
// byte patterns to prove contents survive, and stats comparisons.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "platform/platform.hpp"
#include "rulloc/rulloc.hpp"

namespace rulloc_test {

// Header sizes on 64-bit (the original design's, drawn in the README); the
// tests restate them so a change in the engine shows up as a failure rather
// than silently.
inline constexpr std::size_t kRegionHeader = 48;
inline constexpr std::size_t kBlockHeader = 40;
inline constexpr std::size_t kMinBlock = 16;
// Offset of the first block's content from its region's base.
inline constexpr std::size_t kFirstContent = kRegionHeader + kBlockHeader;

// Bucket limits for Rulloc<N>'s constructor. A braced list alone is
// ambiguous for Rulloc<1> ({4096} also converts to Options).
template <class... T>
std::array<std::size_t, sizeof...(T)> limits(T... v) {
  return {static_cast<std::size_t>(v)...};
}

inline std::size_t page() { return rulloc::platform::page_size(); }

inline std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

inline std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// The design's "size needed" for a layout.
inline std::size_t needed(std::size_t size, std::size_t align) {
  std::size_t n = round_up(size, 8) + (align > 8 ? align : 0);
  return n < kMinBlock ? kMinBlock : n;
}

// True when `p` is the content start of the first block of a region: regions
// come from mmap, so their base is page aligned.
inline bool is_first_content(const void* p) {
  return (addr(p) - kFirstContent) % page() == 0;
}

// Content start of the first block of a region, from a pointer that an
// alignment (up to a page) moved forward by 1..align bytes from it.
inline std::uintptr_t first_content_before(const void* p) {
  return (addr(p) - kFirstContent - 1) / page() * page() + kFirstContent;
}

// Patterns that prove contents survive. The pattern of a seed is a fixed
// pseudo-random sequence of period kPeriod (a prime), started at an offset
// that depends on the seed: lost, shifted or swapped data all show. Filling
// and checking go through memcpy/memcmp so that they stay fast under the
// sanitizers.
inline constexpr std::size_t kPeriod = 4093;

// The sequence twice over, so any kPeriod bytes of it are contiguous.
inline const unsigned char* pattern_table() {
  static const auto table = [] {
    std::array<unsigned char, 2 * kPeriod> t{};
    std::uint32_t x = 2463534242u;  // xorshift32
    for (std::size_t i = 0; i < kPeriod; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      t[i] = t[i + kPeriod] = static_cast<unsigned char>(x >> 24);
    }
    return t;
  }();
  return table.data();
}

// Where seed's pattern starts in the sequence; 1031 and kPeriod are coprime,
// so seeds below kPeriod all start at different places.
inline std::size_t pattern_start(unsigned seed) {
  return static_cast<std::size_t>(seed) * 1031 % kPeriod;
}

inline void fill(void* p, std::size_t n, unsigned seed) {
  auto* b = static_cast<unsigned char*>(p);
  const unsigned char* from = pattern_table() + pattern_start(seed);
  for (std::size_t at = 0; at < n; at += kPeriod) {
    std::memcpy(b + at, from, std::min(kPeriod, n - at));
  }
}

// Index of the first byte in [from, n) that breaks the pattern, or n.
inline std::size_t first_mismatch(const void* p, std::size_t n, unsigned seed,
                                  std::size_t from = 0) {
  const auto* b = static_cast<const unsigned char*>(p);
  const unsigned char* table = pattern_table();
  for (std::size_t at = from; at < n;) {
    const unsigned char* expected =
        table + (pattern_start(seed) + at) % kPeriod;
    const std::size_t len = std::min(kPeriod, n - at);
    if (std::memcmp(b + at, expected, len) != 0) {
      for (std::size_t i = 0; i < len; ++i) {
        if (b[at + i] != expected[i]) return at + i;
      }
    }
    at += len;
  }
  return n;
}

inline bool intact(const void* p, std::size_t n, unsigned seed) {
  return first_mismatch(p, n, seed) == n;
}

inline bool all_zero(const void* p, std::size_t from, std::size_t to) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

// Regions per bucket, the view most scenarios of the design speak in.
template <std::size_t K>
std::array<std::size_t, K> regions(
    const std::array<rulloc::BucketStats, K>& stats) {
  std::array<std::size_t, K> out{};
  for (std::size_t i = 0; i < K; ++i) out[i] = stats[i].regions;
  return out;
}

inline bool same(const rulloc::BucketStats& a, const rulloc::BucketStats& b) {
  return a.limit == b.limit && a.regions == b.regions && a.blocks == b.blocks &&
         a.free_blocks == b.free_blocks && a.mapped_bytes == b.mapped_bytes;
}

inline std::string describe(const rulloc::BucketStats& s) {
  return "{limit " + std::to_string(s.limit) + ", regions " +
         std::to_string(s.regions) + ", blocks " + std::to_string(s.blocks) +
         ", free " + std::to_string(s.free_blocks) + ", mapped " +
         std::to_string(s.mapped_bytes) + "}";
}

template <std::size_t K>
::testing::AssertionResult same_stats(
    const std::array<rulloc::BucketStats, K>& a,
    const std::array<rulloc::BucketStats, K>& b) {
  for (std::size_t i = 0; i < K; ++i) {
    if (!same(a[i], b[i])) {
      return ::testing::AssertionFailure()
             << "bucket " << i << ": " << describe(a[i]) << " vs "
             << describe(b[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// Every bucket of `heap` has no region left.
template <class Heap>
::testing::AssertionResult empty(const Heap& heap) {
  auto stats = heap.stats();
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const auto& s = stats[i];
    if (s.regions != 0 || s.blocks != 0 || s.free_blocks != 0 ||
        s.mapped_bytes != 0) {
      return ::testing::AssertionFailure()
             << "bucket " << i << " not empty: " << describe(s);
    }
  }
  return ::testing::AssertionSuccess();
}

template <class Heap>
::testing::AssertionResult consistent(const Heap& heap) {
  std::string error;
  if (heap.check(&error)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "check() failed: " << error;
}

// Allocates `n` blocks of `size` bytes (align 8) that the test expects to be
// consecutive in one region; block i holds pattern seed i + 1.
template <class Heap>
std::vector<void*> row(Heap& heap, std::size_t n, std::size_t size) {
  std::vector<void*> p;
  for (std::size_t i = 0; i < n; ++i) {
    p.push_back(heap.allocate(rulloc::Layout{size, 8}).ptr);
    EXPECT_NE(p.back(), nullptr);
    if (p.back() == nullptr) break;
    fill(p.back(), size, static_cast<unsigned>(i + 1));
    if (i > 0) {
      EXPECT_EQ(addr(p[i]), addr(p[i - 1]) + round_up(size, 8) + kBlockHeader)
          << "block " << i << " is not right after block " << i - 1;
    }
  }
  return p;
}

}  // namespace rulloc_test
