// Secure mode hands the blocks of a fresh slab out in a random order, so the
// address of the next block cannot be guessed from the last one. A full
// shuffle made each walk over the blocks miss the cache on every one (the
// xmalloc workload ran 1.7 times as long), so a carved batch is cut into a
// few runs and each next block is the next of a run picked at random, never
// the run of the block before while another is left:
//
//   batch   | 0  1  2 | 3  4  5 | 6  7  8 | 9 10 11 |   4 runs of 3 blocks
//   order     3  9  0  6  4 10  1  7  5  2 11  8      each run ascending
//
// Every block still has several equally likely successors, while each run
// is read in address order, which the prefetcher follows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "heap/free_block.hpp"

namespace rulloc::heap {

inline constexpr std::size_t kOrderRuns = 8;

// A state for random_below(), never 0, drawn from the process secret and
// `salt` (e.g. the address of the state: one per class pool).
inline std::uint64_t seed_order(const void* salt) noexcept {
  return (free_block_secret ^ reinterpret_cast<std::uintptr_t>(salt)) | 1;
}

// xorshift64*: a number below `n` (> 0).
inline std::size_t random_below(std::uint64_t& state, std::size_t n) noexcept {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<std::size_t>((state * 0x2545F4914F6CDD1Du) % n);
}

// Fills order[0..n) with 0..n-1 in the interleaved order drawn above.
inline void interleave(std::uint64_t& state, std::uint16_t* order,
                       std::size_t n) noexcept {
  const std::size_t runs = n < kOrderRuns ? n : kOrderRuns;
  std::uint16_t next[kOrderRuns];  // each live run's next block
  std::uint16_t end[kOrderRuns];
  for (std::size_t r = 0; r < runs; ++r) {
    next[r] = static_cast<std::uint16_t>(r * n / runs);
    end[r] = static_cast<std::uint16_t>((r + 1) * n / runs);
  }
  std::size_t live = runs;
  std::size_t last = kOrderRuns;  // the run of the block before, if live
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t r;
    if (last < live && live > 1) {
      r = random_below(state, live - 1);
      if (r >= last) ++r;
    } else {
      r = random_below(state, live);
    }
    order[i] = next[r]++;
    last = r;
    if (next[r] == end[r]) {  // the run is used up: the last live one moves
      --live;
      next[r] = next[live];
      end[r] = end[live];
      last = kOrderRuns;
    }
  }
}

}  // namespace rulloc::heap
