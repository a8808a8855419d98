// What both fuzz targets check blocks against: every live block holds a
// pattern derived from its own id and each byte's offset, so a copy at a
// wrong offset, two blocks swapped, a block that got another's bytes or a
// write past a neighbour's end all show up; and the live blocks' address
// ranges are kept in an ordered map, so two blocks that overlap show up at
// once, before either is written.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>

// The pattern loops run over every byte of every block. libFuzzer's
// comparison tracing there would cost most of the run and tell it nothing
// (those branches follow the data, not the input's choices), and ASan's
// checks see nothing in memory that rulloc mapped itself.
#if defined(__clang__)
#define FUZZ_PATTERN_LOOP __attribute__((no_sanitize("coverage", "address")))
#elif defined(__GNUC__)
#define FUZZ_PATTERN_LOOP __attribute__((no_sanitize_address))
#else
#define FUZZ_PATTERN_LOOP
#endif

// mingw-w64 checks printf formats as msvcrt's (no %zu) unless told they
// are C99's, which its vfprintf takes with __USE_MINGW_ANSI_STDIO (the
// replay's build sets it on Windows).
#if defined(__MINGW32__)
#define FUZZ_PRINTF_FORMAT gnu_printf
#else
#define FUZZ_PRINTF_FORMAT printf
#endif

namespace fuzz {

// Stops the run with a message: libFuzzer keeps the input as a crash.
[[noreturn, gnu::format(FUZZ_PRINTF_FORMAT, 1, 2)]] inline void fail(
    const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::fputs("fuzz: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  va_end(args);
  std::abort();
}

// The 8 bytes at offsets [8 * word, 8 * word + 8) of block `id`. For one id
// every step is a bijection of `word`, so no two words of a block are equal
// (a copy shifted by whole words is seen), and the multiply and shift mix
// each word's bytes, so a copy shifted by a few bytes is seen too.
FUZZ_PATTERN_LOOP inline std::uint64_t pattern_word(std::uint64_t id,
                                                    std::uint64_t word) {
  const std::uint64_t x =
      (id * 0x9E3779B97F4A7C15u + word) * 0xBF58476D1CE4E5B9u;
  return x ^ (x >> 31);
}

FUZZ_PATTERN_LOOP inline std::uint8_t pattern_byte(std::uint64_t id,
                                                   std::size_t offset) {
  unsigned char bytes[8];
  const std::uint64_t word = pattern_word(id, offset / 8);
  std::memcpy(bytes, &word, sizeof(bytes));
  return bytes[offset % 8];
}

// Blocks are 8-aligned (the targets check it first), so the pattern's words
// lie on 8-byte boundaries, and are read and written through this type,
// which may alias anything: one load or store each, where GCC's TSan turns
// every 8-byte memcpy into a range check (half of a replay's time).
typedef std::uint64_t __attribute__((may_alias)) Word;

// Writes block `id`'s pattern over offsets [from, to) of `block`.
FUZZ_PATTERN_LOOP inline void fill_pattern(void* block, std::uint64_t id,
                                           std::size_t from, std::size_t to) {
  auto* bytes = static_cast<unsigned char*>(block);
  std::size_t i = from;
  for (; i < to && i % 8 != 0; ++i) bytes[i] = pattern_byte(id, i);
  for (; i + 8 <= to; i += 8) {
    *reinterpret_cast<Word*>(bytes + i) = pattern_word(id, i / 8);
  }
  for (; i < to; ++i) bytes[i] = pattern_byte(id, i);
}

// The first offset in [from, to) that does not hold the pattern, else `to`.
FUZZ_PATTERN_LOOP inline std::size_t first_mismatch(const void* block,
                                                    std::uint64_t id,
                                                    std::size_t from,
                                                    std::size_t to) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  std::size_t i = from;
  for (; i < to && i % 8 != 0; ++i) {
    if (bytes[i] != pattern_byte(id, i)) return i;
  }
  for (; i + 8 <= to; i += 8) {
    if (*reinterpret_cast<const Word*>(bytes + i) != pattern_word(id, i / 8)) {
      break;
    }
  }
  for (; i < to; ++i) {
    if (bytes[i] != pattern_byte(id, i)) return i;
  }
  return to;
}

// Stops the run unless offsets [from, to) of block `id` hold its pattern.
inline void expect_pattern(const void* block, std::uint64_t id,
                           std::size_t from, std::size_t to, const char* when) {
  const std::size_t bad = first_mismatch(block, id, from, to);
  if (bad == to) return;
  const auto* bytes = static_cast<const unsigned char*>(block);
  fail("%s: block %llu at %p, byte %zu of [%zu, %zu) is 0x%02x, not 0x%02x",
       when, static_cast<unsigned long long>(id), block, bad, from, to,
       bytes[bad], pattern_byte(id, bad));
}

// Stops the run unless the first `size` bytes at `block` are zero.
FUZZ_PATTERN_LOOP inline void expect_zero(const void* block, std::size_t size,
                                          const char* when) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  std::size_t i = 0;
  // Bytes up to a word boundary of the address (it may be any offset in a
  // block), then whole words, then the rest and the first nonzero byte.
  const auto start = reinterpret_cast<std::uintptr_t>(block);
  while (i < size && (start + i) % 8 != 0 && bytes[i] == 0) ++i;
  if ((start + i) % 8 == 0) {
    for (; i + 8 <= size; i += 8) {
      if (*reinterpret_cast<const Word*>(bytes + i) != 0) break;
    }
  }
  for (; i < size; ++i) {
    if (bytes[i] != 0) {
      fail("%s: byte %zu of %zu at %p is 0x%02x, not 0", when, i, size, block,
           bytes[i]);
    }
  }
}

// The address ranges of the live blocks. A range is at least one byte
// long, so two empty blocks at one address count as overlapping too.
class Ranges {
 public:
  void add(const void* block, std::size_t size, std::uint64_t id) {
    const auto start = reinterpret_cast<std::uintptr_t>(block);
    const std::uintptr_t end = start + (size == 0 ? 1 : size);
    if (end < start) fail("block %p of %zu bytes wraps around", block, size);
    auto next = ranges_.lower_bound(start);
    if (next != ranges_.end() && next->first < end) clash(start, end, id, next);
    if (next != ranges_.begin()) {
      auto before = std::prev(next);
      if (before->second.end > start) clash(start, end, id, before);
    }
    ranges_.emplace(start, Range{end, id});
  }
  void remove(const void* block) {
    if (ranges_.erase(reinterpret_cast<std::uintptr_t>(block)) != 1) {
      fail("model: no live block at %p", block);
    }
  }

 private:
  struct Range {
    std::uintptr_t end;
    std::uint64_t id;
  };
  using Map = std::map<std::uintptr_t, Range>;

  [[noreturn]] static void clash(std::uintptr_t start, std::uintptr_t end,
                                 std::uint64_t id, Map::const_iterator other) {
    fail(
        "block %llu [0x%llx, 0x%llx) overlaps live block %llu "
        "[0x%llx, 0x%llx)",
        static_cast<unsigned long long>(id),
        static_cast<unsigned long long>(start),
        static_cast<unsigned long long>(end),
        static_cast<unsigned long long>(other->second.id),
        static_cast<unsigned long long>(other->first),
        static_cast<unsigned long long>(other->second.end));
  }

  Map ranges_;
};

// Reads the fuzzer's input as a stream of bytes; zeros once it is used up.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size) {}
  bool empty() const { return used_ >= size_; }
  std::uint8_t byte() { return used_ < size_ ? data_[used_++] : 0; }
  std::uint16_t two_bytes() {
    const std::uint16_t low = byte();
    return static_cast<std::uint16_t>(low | (byte() << 8));
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t used_ = 0;
};

inline bool is_power_of_two(std::size_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

}  // namespace fuzz
