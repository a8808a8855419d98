// The process heap's config: every size, count and delay its parts are
// built from, in one function, from the machine (its CPUs) and the options
// (options.hpp, read just before, as the heap is built). process_heap.cpp
// adds the hooks that tie the parts to one another and to the engine.
#pragma once

#include <cstddef>

#include "heap/class_pool.hpp"
#include "heap/purger.hpp"
#include "heap/segments.hpp"
#include "heap/thread_cache.hpp"
#include "rulloc/layout.hpp"

namespace rulloc::heap {

struct ProcessHeapConfig {
  // Lanes of class pools and of engine buckets: the option lanes, or one
  // per CPU, at most kMaxLanes (pools.lanes holds the same).
  std::size_t lanes;
  SegmentsConfig segments;
  PoolsConfig pools;
  CacheConfig caches;
  PurgerConfig purger;  // its delay and whether its thread may start
  Options engine;
  // Blocks above 256 KiB and up to 32 MiB share the regions of one bucket
  // (not with a purge delay of 0: nothing of theirs is kept).
  bool big_block_bucket;
};

ProcessHeapConfig process_heap_config() noexcept;

// How many free slabs keep their pages until a round: none at a delay of
// 0, else what `trim_threshold` bytes hold (all of them when it is -1).
std::size_t dirty_slab_bound(long delay_ms, long long trim_threshold) noexcept;

}  // namespace rulloc::heap
