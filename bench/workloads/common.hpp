// Shared helpers for the rulloc benchmark workloads (bench/workloads/*.cpp).
//
// Every workload does a fixed amount of work (no time-based loops), draws all
// of its randomness from fixed seeds, writes a pattern into each block it
// allocates and verifies that pattern before it frees the block. It prints one
// line "<name> checksum=<hex> ..." on stdout, which must be identical under
// every allocator; timing is measured from outside by bench/tools/measure.
// On a pattern mismatch it prints a diagnostic on stderr and exits with 3.
#pragma once

#include <atomic>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace bench {

// splitmix64: small, fast, good enough for workload decisions.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (inclusive).
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

struct Args {
  int threads = 2;
  double scale = 1.0;
  // Scale an iteration count, never below `min`.
  uint64_t n(uint64_t base, uint64_t min = 1) const {
    auto v = static_cast<uint64_t>(static_cast<double>(base) * scale);
    return v < min ? min : v;
  }
};

inline Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view s = argv[i];
    if ((s == "--threads" || s == "-t") && i + 1 < argc) {
      a.threads = std::atoi(argv[++i]);
    } else if ((s == "--scale" || s == "-s") && i + 1 < argc) {
      a.scale = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--threads N] [--scale F]\n", argv[0]);
      std::exit(2);
    }
  }
  if (a.threads < 1) a.threads = 1;
  if (a.scale <= 0) a.scale = 1.0;
  return a;
}

[[noreturn]] inline void fail(const char* what, const void* p, size_t size, size_t off) {
  std::fprintf(stderr, "CHECK FAILED: %s (block %p, size %zu, offset %zu)\n", what, p, size, off);
  std::fflush(stderr);
  std::_Exit(3);
}

[[noreturn]] inline void oom(size_t size) {
  std::fprintf(stderr, "CHECK FAILED: allocation of %zu bytes returned null\n", size);
  std::fflush(stderr);
  std::_Exit(3);
}

inline uint64_t pat(uint64_t tag, size_t off) { return tag ^ (off * 0x9E3779B97F4A7C15ull); }

inline void store64(void* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint64_t load64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Pattern: blocks under 16 bytes get every byte written. Larger blocks get a
// 64-bit word at offset 0, at every `stride` bytes after it and at the very
// end (size-8). The default stride of 4 KiB touches every page, as a program
// that uses its memory would, and catches overlapping or corrupted blocks.
inline void fill(void* p, size_t size, uint64_t tag, size_t stride = 4096) {
  if (p == nullptr) oom(size);
  auto* b = static_cast<unsigned char*>(p);
  if (size < 16) {
    for (size_t i = 0; i < size; ++i) b[i] = static_cast<unsigned char>((tag >> ((i & 7) * 8)) ^ i);
    return;
  }
  for (size_t off = 0; off + 16 <= size; off += stride) store64(b + off, pat(tag, off));
  store64(b + size - 8, pat(tag, size - 8));
}

// Verify what fill() wrote over the first `size` bytes. Returns a value that
// depends only on the tag and size, to fold into the checksum.
inline uint64_t check(const void* p, size_t size, uint64_t tag, size_t stride = 4096) {
  auto* b = static_cast<const unsigned char*>(p);
  if (size < 16) {
    for (size_t i = 0; i < size; ++i)
      if (b[i] != static_cast<unsigned char>((tag >> ((i & 7) * 8)) ^ i)) fail("small block pattern", p, size, i);
    return mix(tag + size);
  }
  for (size_t off = 0; off + 16 <= size; off += stride)
    if (load64(b + off) != pat(tag, off)) fail("block pattern", p, size, off);
  if (load64(b + size - 8) != pat(tag, size - 8)) fail("block trailer", p, size, size - 8);
  return mix(tag + size);
}

inline void check_aligned(const void* p, size_t align) {
  if ((reinterpret_cast<uintptr_t>(p) & (align - 1)) != 0) fail("alignment", p, align, 0);
}

inline void report(const char* name, uint64_t checksum, uint64_t ops) {
  std::printf("%s checksum=%016" PRIx64 " ops=%" PRIu64 "\n", name, checksum, ops);
  std::fflush(stdout);
}

}  // namespace bench
