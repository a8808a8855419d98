// Small private instances of the heap's parts for their tests: each owns
// its segments and unmaps them at the end (the process heap's are never
// unmapped), so tests share no state and may run in any order or at once.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "base/text.hpp"
#include "heap/class_pool.hpp"
#include "heap/free_block.hpp"
#include "heap/segments.hpp"
#include "heap/slab.hpp"

namespace rulloc::heap::testing {

struct PrivateSegments : Segments {
  explicit PrivateSegments(SegmentsConfig config = {}) : Segments(config) {
    // The process heap sets the canaries' secret as it is built; these
    // tests never build it, so any odd value does.
    if (free_block_secret == 0) free_block_secret = 0x5EC2E7ull | 1;
  }
  ~PrivateSegments() { unmap_all(); }
};

// Pools with their own segments.
struct PrivatePools {
  explicit PrivatePools(PoolsConfig pools, SegmentsConfig segments = {})
      : segments(segments), pools(this->segments, pools) {}
  ~PrivatePools() { pools.trim(); }
  PrivateSegments segments;
  ClassPools pools;
};

// The blocks of a chain, checked to be distinct free blocks of `size_class`.
inline std::set<FreeBlock*> blocks_of(FreeBlock* chain,
                                      std::size_t size_class) {
  std::set<FreeBlock*> blocks;
  for (FreeBlock* b = chain; b != nullptr; b = next_of(b)) {
    EXPECT_TRUE(blocks.insert(b).second) << "a block handed out twice";
    const SlabShape* shape = shape_of(b);
    EXPECT_NE(shape, nullptr);
    if (shape == nullptr) break;
    EXPECT_EQ(shape->size_class, size_class);
    EXPECT_TRUE(is_block_start(*shape, b));
    EXPECT_TRUE(looks_free(b));
  }
  return blocks;
}

// What check() writes, collected.
struct Message {
  std::string text;
  base::Text out{[](void* self, const char* part, std::size_t n) {
                   static_cast<std::string*>(self)->append(part, n);
                 },
                 &text};
  const std::string& str() {
    out.flush();
    return text;
  }
};

}  // namespace rulloc::heap::testing
