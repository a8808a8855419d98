#include "heap/process_heap.hpp"

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/alignment.hpp"
#include "base/misuse.hpp"
#include "core/laned_engine.hpp"
#include "core/page_map.hpp"
#include "core/retired_regions.hpp"
#include "heap/cache_checks.hpp"
#include "heap/class_pool.hpp"
#include "heap/inspect.hpp"
#include "heap/options.hpp"
#include "heap/process_config.hpp"
#include "heap/purger.hpp"
#include "heap/secure.hpp"
#include "heap/segments.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap/thread_cache.hpp"
#include "platform/per_thread.hpp"
#include "platform/platform.hpp"

namespace rulloc::heap {

RULLOC_PER_THREAD ThreadCache detail::per_thread_cache;

namespace {

using ::rulloc::detail::BucketStorage;
using Engine = core::LanedEngine;

// A part of the heap, built in place when the heap is (without allocating)
// and never destroyed: threads and atexit handlers may still use it while
// the process ends. Its address is fixed, so the fast paths reach it as a
// global.
template <typename Part>
class Built {
 public:
  template <typename... Args>
  void build(Args&&... args) noexcept {
    new (storage_) Part(static_cast<Args&&>(args)...);
  }
  Part& operator*() noexcept {
    return *std::launder(reinterpret_cast<Part*>(storage_));
  }
  Part* operator->() noexcept { return &**this; }

 private:
  alignas(Part) unsigned char storage_[sizeof(Part)];
};

using detail::thread_cache;

constexpr std::size_t kLaneLimit = 262144;
constexpr std::size_t kBigLimit = std::size_t{32} << 20;

alignas(Engine) unsigned char engine_storage[sizeof(Engine)];
// A bucket per lane, the big-block bucket, the dynamic one.
BucketStorage bucket_storage[kMaxLanes + 2];
std::size_t bucket_limits[kMaxLanes + 1];
Engine* engine_pointer = nullptr;
Built<Segments> segments;
Built<ClassPools> pools;
Built<ThreadCaches> caches;
Built<Purger> purger;
std::size_t lanes = 1;
// After a batch of a class cache went back: half a cache.
std::size_t batch_bytes = 0;
enum class BuildState { kNotBuilt, kBeingBuilt, kReady };
std::atomic<BuildState> state{BuildState::kNotBuilt};
bool show_stats = false;
bool stats_as_json = false;  // RULLOC_SHOW_STATS=json
bool verbose = false;

std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> frees{0};
std::atomic<std::size_t> bytes_in_use{0};
std::atomic<std::size_t> peak_bytes_in_use{0};

// To a copy of stderr taken at start-up (platform::keep_report_output()):
// some programs (GNU coreutils) close stderr in an atexit handler, before
// the statistics are printed.
void say(const char* text) noexcept {
  platform::write_report(text, std::strlen(text));
}

void add_counters(const ThreadCounters& local) noexcept {
  allocations.fetch_add(local.allocations, std::memory_order_relaxed);
  frees.fetch_add(local.frees, std::memory_order_relaxed);
  const std::size_t now =
      bytes_in_use.fetch_add(static_cast<std::size_t>(local.bytes),
                             std::memory_order_relaxed) +
      static_cast<std::size_t>(local.bytes);
  std::size_t peak = peak_bytes_in_use.load(std::memory_order_relaxed);
  while (static_cast<long long>(now) > 0 && now > peak &&
         !peak_bytes_in_use.compare_exchange_weak(peak, now,
                                                  std::memory_order_relaxed)) {
  }
}

// Counters are kept per thread (thread_cache.hpp) and added to these every
// few hundred events, or as soon as a thread's count of bytes moved by a
// megabyte, so the peak misses at most that much per thread (flushing on
// every big block made two threads that realloc fight over these lines).
constexpr long long kFlushBytes = 1 << 20;

// Every lock across fork(): an order the analysis cannot follow.
void before_fork() noexcept RULLOC_NO_LOCK_ANALYSIS {
  pools->lock_all();
  segments->lock();
  engine_pointer->lock_all();
}
void after_fork() noexcept RULLOC_NO_LOCK_ANALYSIS {
  engine_pointer->unlock_all();
  segments->unlock();
  pools->unlock_all();
}
void after_fork_in_child() noexcept {
  after_fork();
  caches->after_fork_in_child(thread_cache());
  cache_checks_after_fork_in_child();
  purger->after_fork_in_child();
}

// A thread's exit gives its cache back (platform::call_at_thread_exit(),
// set as the cache is set up).
void at_thread_exit(void* cache) noexcept {
  cache_checks_leave();
  caches->exit(*static_cast<ThreadCache*>(cache));
  purger->note_freed(batch_bytes * 2);
}

// The purger's thread: what the program does not see of it.
bool start_purger_thread(void*) noexcept {
  return platform::start_thread([] { purger->loop(); }, "rulloc-purge");
}

// Builds every part from the config, once the engine is built.
void build_parts(const ProcessHeapConfig& config) noexcept {
  lanes = config.lanes;
  batch_bytes = config.caches.bytes_per_class / 2;
  segments.build(config.segments);
  pools.build(*segments, config.pools);
  CacheConfig cache_config = config.caches;
  cache_config.add_counters = add_counters;
  cache_config.on_setup = [](ThreadCache* cache) noexcept {
    cache_checks_join();
    platform::call_at_thread_exit(cache);
  };
  cache_config.after_flush = [](ThreadCache*) noexcept {
    cache_checks_answer();
  };
  caches.build(*pools, cache_config);
  platform::set_thread_exit_hook(at_thread_exit);
  PurgerConfig purger_config = config.purger;
  purger_config.now_ms = platform::monotonic_ms;
  purger_config.trim_engine = [](void*) noexcept {
    engine_pointer->trim_unused();
  };
  purger_config.trim_pools = [](void*) noexcept { pools->trim(); };
  purger_config.start_thread = start_purger_thread;
  purger_config.live_threads = [](void*) noexcept {
    return caches->live_threads();
  };
  purger_config.before_start = [](void*) noexcept {
    caches->flush_counters(thread_cache());
  };
  purger_config.after_start = [](void*) noexcept {
    ThreadCaches::discard_counters(thread_cache());
  };
  purger.build(*segments, purger_config);
}

// The free-block canary must be unknown to the program: from the kernel's
// random source, else from the clock and an address (ASLR).
std::uintptr_t random_secret() noexcept {
  std::uintptr_t secret = 0;
  if (!platform::random_bytes(&secret, sizeof(secret))) {
    secret = (static_cast<std::uintptr_t>(platform::monotonic_ns()) *
              0x9E3779B97F4A7C15u) ^
             reinterpret_cast<std::uintptr_t>(&secret);
  }
  return secret | 1;  // never 0, so a zeroed block never looks free
}

[[gnu::noinline]] Engine& build_engine() noexcept {
  BuildState expected = BuildState::kNotBuilt;
  if (state.compare_exchange_strong(expected, BuildState::kBeingBuilt,
                                    std::memory_order_acquire)) {
    read_options();
    const ProcessHeapConfig config = process_heap_config();
    std::size_t fixed = 0;
    while (fixed < config.lanes) bucket_limits[fixed++] = kLaneLimit;
    if (config.big_block_bucket) bucket_limits[fixed++] = kBigLimit;
    engine_pointer = new (engine_storage)
        Engine(bucket_storage, bucket_limits, fixed, config.engine);
    engine_pointer->set_own_region_from(
        static_cast<std::size_t>(option(Option::kMmapThreshold)));
    show_stats = option(Option::kShowStats) != 0;
    stats_as_json = option(Option::kShowStats) == kStatsJson;
    verbose = option(Option::kVerbose) != 0;
    const bool inspecting = inspect_read_settings();
    if (show_stats || verbose || inspecting) platform::keep_report_output();
    free_block_secret = random_secret();
    free_list_secret = random_secret();
    slab_link_limit = kSlabBytes - platform::page_size() - sizeof(FreeBlock);
    build_parts(config);
    state.store(BuildState::kReady, std::memory_order_release);
    // Only now: registering may itself call malloc.
    platform::set_fork_hooks(before_fork, after_fork, after_fork_in_child);
    inspect_install_signal();
    if (verbose) {
      print_options();
      say("rulloc: process allocator ready\n");
    }
  } else {
    while (state.load(std::memory_order_acquire) != BuildState::kReady)
      platform::yield();
  }
  return *engine_pointer;
}

inline Engine& engine() noexcept {
  if (state.load(std::memory_order_acquire) == BuildState::kReady) [[likely]] {
    return *engine_pointer;
  }
  return build_engine();
}

// For engine blocks, which may be big.
void count_big(std::size_t bytes, bool allocation) noexcept {
  const auto signed_bytes = static_cast<long long>(bytes);
  caches->count_event(thread_cache(), allocation ? signed_bytes : -signed_bytes,
                      allocation);
  const long long pending = thread_cache().counters.bytes;
  if (pending >= kFlushBytes || pending <= -kFlushBytes) {
    caches->flush_counters(thread_cache());
  }
}

// Every engine block that goes back, or the part of one a shrink cuts off.
void release_big_bytes(std::size_t bytes) noexcept {
  count_big(bytes, false);
  purger->note_freed(bytes);
}

[[gnu::cold]] void* out_of_memory() noexcept {
  if (verbose) say("rulloc: allocation failed\n");
  errno = ENOMEM;
  return nullptr;
}

[[gnu::destructor]] void at_exit() {
  if (state.load(std::memory_order_acquire) != BuildState::kReady) return;
  purger->stop();
  if (show_stats) stats_as_json ? print_stats_json() : print_stats();
  inspect_at_exit();
}

}  // namespace

// Stops the program for a pointer into a slab that is not a block in use.
void detail::report_small_misuse(const SlabShape* slab, const void* pointer,
                                 const char* operation) noexcept {
  if (slab->capacity == 0) {
    base::report_misuse(operation, pointer,
                        "no block lives there (double free, or a pointer "
                        "rulloc never returned)");
  }
  if (!is_block_start(*slab, pointer)) {
    base::report_misuse(operation, pointer, "not a pointer rulloc returned");
  }
  base::report_already_free(operation, pointer, nullptr);
}

void* detail::allocate_small_slow(std::size_t size_class, std::size_t size,
                                  bool zeroed) noexcept {
  engine();  // builds the heap on the first call
  void* block = caches->pop_slow(thread_cache(), size_class);
  if (block == nullptr) return out_of_memory();
  if (zeroed) std::memset(block, 0, size);
  return block;
}

void* detail::flush_counters_then(void* block) noexcept {
  caches->flush_counters(thread_cache());
  return block;
}

void detail::release_small_slow(const SlabShape* slab,
                                FreeBlock* block) noexcept {
  caches->push_slow(thread_cache(), slab->size_class, slab->lane, block);
  // Mostly a batch of half a class cache went back to the pools.
  purger->note_freed(batch_bytes);
}

void* detail::allocate_other(std::size_t size, std::size_t align,
                             bool zeroed) noexcept {
  Engine& laned = engine();
  if (!base::is_power_of_two(align)) return nullptr;
  // Every block is at least malloc-aligned.
  if (align < kMallocAlign) align = kMallocAlign;
  if (size <= kMaxSmallSize && align <= kMaxSmallSize) {
    // Powers of two are classes, and their blocks lie at multiples of their
    // size from a 64 KiB-aligned slab start: aligned to the class size.
    const std::size_t at_least = std::bit_ceil(size > align ? size : align);
    return allocate_small(class_for_request(at_least), size, zeroed);
  }
  Allocation result = laned.allocate(Layout{size, align}, zeroed,
                                     caches->lane_of(thread_cache()), "malloc");
  if (result.ptr == nullptr) return out_of_memory();
  count_big(result.size, true);
  return result.ptr;
}

void detail::release_other(void* pointer) noexcept {
  if (pointer == nullptr) return;
  release_big_bytes(engine().deallocate(pointer, "free"));
}

void* reallocate(void* pointer, std::size_t size) noexcept {
  Engine& laned = engine();
  if (const SlabShape* slab = shape_of(pointer)) {
    checked_small_block(slab, pointer, "realloc");
    const std::size_t old_size = slab->block_size;
    // Stay when the block fits and would not waste more than half.
    if (size <= old_size && (size > old_size / 2 || old_size <= 16)) {
      return pointer;
    }
    void* moved = allocate(size, kMallocAlign, false);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, pointer, size < old_size ? size : old_size);
    release_small(slab, pointer);
    return moved;
  }
  const std::size_t old_size = laned.usable_size(pointer, "realloc");
  if (size <= kMaxSmallSize / 2) {
    // A big block shrunk to a small one moves to a slab: the engine's
    // buckets start above the small sizes.
    void* moved = allocate(size, kMallocAlign, false);
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, pointer, size < old_size ? size : old_size);
    release_big_bytes(laned.deallocate(pointer, "realloc"));
    return moved;
  }
  // Within the room an earlier growth left: nothing to do (cutting the
  // slack off would only make the next append grow again).
  if (size <= old_size && size >= old_size - old_size / 8) return pointer;
  // A block that grows by realloc is likely to grow again (string builders,
  // buffers): an eighth more room lets the next small appends stay in place
  // instead of each moving the whole block. Not beyond the limit of the
  // bucket the size belongs to, though: the slack alone must not move it.
  std::size_t wanted = size;
  if (size > old_size && size <= SIZE_MAX - size / 8) {
    const std::size_t limit = laned.limit_for(size);
    wanted = size + size / 8 < limit ? size + size / 8 : limit;
  }
  const std::size_t lane = caches->lane_of(thread_cache());
  Allocation result =
      laned.reallocate(pointer, Layout{old_size, kMallocAlign},
                       Layout{wanted, kMallocAlign}, lane, "realloc");
  if (result.ptr == nullptr && wanted != size) {
    result = laned.reallocate(pointer, Layout{old_size, kMallocAlign},
                              Layout{size, kMallocAlign}, lane, "realloc");
  }
  if (result.ptr == nullptr) return nullptr;
  count_big(old_size, false);
  count_big(result.size, true);
  // What a move or a shrink gave back.
  if (result.ptr != pointer) {
    purger->note_freed(old_size);
  } else if (result.size < old_size) {
    purger->note_freed(old_size - result.size);
  }
  return result.ptr;
}

std::size_t usable_size(const void* pointer) noexcept {
  if (pointer == nullptr) return 0;
  if (const SlabShape* slab = shape_of(pointer)) {
    checked_small_block(slab, pointer, "malloc_usable_size");
    return slab->block_size;
  }
  return engine().usable_size(pointer, "malloc_usable_size");
}

bool owns(const void* pointer) noexcept {
  const auto* bytes = static_cast<const std::byte*>(pointer);
  return shape_of(pointer) != nullptr ||
         core::page_map::contains(bytes - sizeof(void*)) ||
         core::retired_regions::contains(bytes);
}

std::size_t trim() noexcept {
  Engine& laned = engine();
  caches->flush(thread_cache());
  pools->trim();
  return segments->purge_free_slabs() + laned.trim();
}

core::LanedEngine* built_engine() noexcept {
  return state.load(std::memory_order_acquire) == BuildState::kReady
             ? engine_pointer
             : nullptr;
}

Counters read_counters() noexcept {
  return {allocations.load(std::memory_order_relaxed),
          frees.load(std::memory_order_relaxed),
          bytes_in_use.load(std::memory_order_relaxed),
          peak_bytes_in_use.load(std::memory_order_relaxed)};
}

std::size_t bucket_storage_bytes() noexcept { return sizeof(bucket_storage); }

ProcessParts heap_parts() noexcept {
  return {*segments, *pools, *caches, thread_cache()};
}

void flush_own_counters() noexcept { caches->flush_counters(thread_cache()); }

bool check_own_cache(base::Text& error, const char* whose) noexcept {
  return ThreadCaches::check(thread_cache(), error, whose);
}

void before_thread_create() noexcept {
  engine();  // so that the purger is built
  purger->before_thread_create();
}

std::uint64_t purge_rounds() noexcept {
  return built_engine() != nullptr ? purger->rounds() : 0;
}

bool set_purge_delay(long ms) noexcept {
  engine();
  return purger->set_delay(ms);
}

void set_lanes(std::size_t count) noexcept {
  engine();
  caches->set_lanes(count);
}

std::size_t lane_count() noexcept {
  engine();
  return lanes;
}

std::size_t thread_lane() noexcept {
  engine();
  return caches->lane_of(thread_cache());
}

void set_mmap_threshold(std::size_t bytes) noexcept {
  engine().set_own_region_from(bytes);
}

void set_trim_threshold(long long bytes) noexcept {
  engine();
  segments->set_max_dirty_slabs(dirty_slab_bound(purger->delay_ms(), bytes));
}

void get_stats(rulloc_malloc_stats* out) noexcept {
  Engine& laned = engine();
  caches->flush_counters(thread_cache());
  *out = rulloc_malloc_stats{};
  out->allocations = allocations.load(std::memory_order_relaxed);
  out->frees = frees.load(std::memory_order_relaxed);
  out->bytes_in_use = bytes_in_use.load(std::memory_order_relaxed);
  out->peak_bytes_in_use = peak_bytes_in_use.load(std::memory_order_relaxed);
  const SegmentStats slabs = segments->stats();
  out->slab_bytes = slabs.slabs_in_use * kSlabBytes;
  out->segment_bytes = slabs.segments * kSegmentBytes;
  out->mapped_bytes = out->slab_bytes;
  out->bucket_count = laned.bucket_count();
  for (std::size_t i = 0; i < out->bucket_count; ++i) {
    BucketStats s = laned.stats(i);
    out->buckets[i] = {s.limit, s.regions, s.blocks, s.free_blocks,
                       s.mapped_bytes};
    out->mapped_bytes += s.mapped_bytes;
  }
}

void print_stats() noexcept {
  rulloc_malloc_stats stats;
  get_stats(&stats);
  char line[256];
  std::snprintf(line, sizeof(line),
                "rulloc: allocations %zu, frees %zu, bytes in use %zu, peak "
                "bytes in use %zu, mapped bytes %zu\n",
                stats.allocations, stats.frees, stats.bytes_in_use,
                stats.peak_bytes_in_use, stats.mapped_bytes);
  say(line);
  std::snprintf(line, sizeof(line),
                "rulloc:   slabs: %zu bytes in use, %zu bytes of segments\n",
                stats.slab_bytes, stats.segment_bytes);
  say(line);
  for (std::size_t i = 0; i < stats.bucket_count; ++i) {
    const rulloc_bucket_stats& b = stats.buckets[i];
    char limit[32] = "dynamic";
    if (b.limit != SIZE_MAX)
      std::snprintf(limit, sizeof(limit), "<= %zu", b.limit);
    std::snprintf(line, sizeof(line),
                  "rulloc:   bucket %s: regions %zu, blocks %zu (free %zu), "
                  "mapped %zu\n",
                  limit, b.regions, b.blocks, b.free_blocks, b.mapped_bytes);
    say(line);
  }
}

}  // namespace rulloc::heap
