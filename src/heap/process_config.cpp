#include "heap/process_config.hpp"

#include <cstdint>

#include "heap/options.hpp"
#include "heap/secure.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {

static_assert(option_spec(Option::kLanes).maximum == kMaxLanes,
              "the option lanes goes up to the lanes there is storage for");

std::size_t dirty_slab_bound(long delay_ms, long long trim_threshold) noexcept {
  if (delay_ms == 0) return 0;
  return trim_threshold < 0
             ? SIZE_MAX
             : static_cast<std::size_t>(trim_threshold) / kSlabBytes;
}

// Small blocks (up to kMaxSmallSize) live in slabs; the engine serves the
// rest. Up to 256 KiB: one bucket per lane (each thread uses one, so
// threads rarely meet on a lock or a free list; a block freed by another
// thread goes back to its own bucket), one size range so growing blocks
// move less, segregated free lists for a short first fit; they also take
// small blocks aligned beyond what a slab gives. Up to 32 MiB: one bucket
// whose regions hold two such blocks, so freed big blocks merge and their
// pages serve the next ones (mapping fresh pages and faulting them in costs
// far more than the first fit). Regions of at least 1 MiB, two empty ones
// kept per bucket; the purger gives back what a bucket left unused for a
// delay (purger.hpp). Larger blocks, and those of mmap_threshold bytes or
// more (options.hpp), go to the dynamic bucket: up to large_cache_bytes of
// emptied regions kept for reuse, and growth by mremap.
ProcessHeapConfig process_heap_config() noexcept {
  ProcessHeapConfig config{};
  const auto chosen = static_cast<std::size_t>(option(Option::kLanes));
  const std::size_t cpus = platform::cpu_count();
  const std::size_t lanes = chosen != 0 ? chosen : cpus;
  config.lanes = lanes < kMaxLanes ? lanes : kMaxLanes;
  config.pools.lanes = config.lanes;
  // Each pool keeps one emptied slab: a thread that comes and goes, or a
  // batch freed and allocated again, finds its class's blocks carved. Such
  // a slab serves any class that would otherwise touch fresh pages, and
  // purge rounds give it back (class_pool.hpp, purger.hpp).
  config.pools.keep_empty = 1;
  config.caches.bytes_per_class =
      static_cast<std::size_t>(option(Option::kThreadCacheBytes));
  config.caches.first_refill = 16;
  // A thread's first refill of a class: 16 small blocks, or 512 bytes'
  // worth: with many threads, what each one takes of every class it uses
  // adds up.
  config.caches.first_refill_bytes = 512;
  // Secure mode shuffles each carved batch (random_order.hpp): batches of a
  // page would leave a big class's blocks one or two to shuffle.
  if constexpr (kSecure) {
    config.caches.carve_bytes = SIZE_MAX;
    config.caches.first_refill_bytes = SIZE_MAX;
  }
  config.caches.flush_every = 1024;
  config.purger.delay_ms = static_cast<long>(option(Option::kPurgeDelayMs));
  config.purger.thread_allowed = option(Option::kPurgeThread) != 0;
  config.purger.start_bytes = std::size_t{8} << 20;
  config.engine = Options{
      2, std::size_t{1} << 20, true, std::size_t{32} << 20, 1000, true, 2};
  config.engine.large_cache_bytes =
      static_cast<std::size_t>(option(Option::kLargeCacheBytes));
  config.big_block_bucket = true;
  // Free slabs keep their pages until a round comes (or forever, when
  // off), as far as trim_threshold allows: a program that frees and
  // allocates again reuses them without page faults.
  config.segments.max_dirty_slabs =
      dirty_slab_bound(config.purger.delay_ms, option(Option::kTrimThreshold));
  // "Purge at once" keeps no freed big block's pages: no large region
  // cached, no big-block bucket (big blocks get regions of their own).
  if (config.purger.delay_ms == 0) {
    config.engine.large_cache_bytes = 0;
    config.engine.keep_empty_regions = 0;
    config.pools.keep_empty = 0;
    config.big_block_bucket = false;
  }
  return config;
}

}  // namespace rulloc::heap
