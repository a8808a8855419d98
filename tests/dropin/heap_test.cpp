// The process heap (rulloc_heap) through rulloc::heap::*, without any
// override: malloc-like semantics, alignment, realloc, the stats counters and
// threads freeing each other's blocks. It runs in every build, sanitizers
// included (ASan and TSan own malloc, not rulloc::heap).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/process_heap.hpp"
#include "platform/platform.hpp"
#include "rulloc/malloc.h"

namespace {

namespace heap = rulloc::heap;
using heap::kMallocAlign;

std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// A pattern that depends on the block and the offset, so a block that moved
// or got another block's bytes shows up.
unsigned char pattern(std::uintptr_t seed, std::size_t i) {
  return static_cast<unsigned char>((seed * 131 + i * 7 + (i >> 8)) & 0xFF);
}
void fill(void* p, std::size_t n, std::uintptr_t seed) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] = pattern(seed, i);
}
// Index of the first wrong byte, or n when all are right.
std::size_t first_wrong(const void* p, std::size_t n, std::uintptr_t seed) {
  auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != pattern(seed, i)) return i;
  }
  return n;
}

rulloc_malloc_stats stats() {
  rulloc_malloc_stats s;
  heap::get_stats(&s);
  return s;
}

void* take(std::size_t size, std::size_t align = kMallocAlign,
           bool zeroed = false) {
  return heap::allocate(size, align, zeroed);
}

constexpr std::size_t kSizes[] = {
    0,      1,      7,      8,       15,     16,    17,    24,    31,
    48,     63,     64,     65,      100,    127,   128,   129,   255,
    256,    257,    500,    512,     513,    1000,  1024,  1025,  4000,
    4096,   4097,   10000,  16384,   16385,  65535, 65536, 65537, 200000,
    262144, 262145, 300000, 1 << 20, 3 << 20};

TEST(ProcessHeap, SizeZeroGivesUniqueUsablePointers) {
  std::set<void*> seen;
  std::vector<void*> live;
  for (int i = 0; i < 100; ++i) {
    void* p = take(0);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(seen.insert(p).second) << "size 0 returned " << p << " twice";
    EXPECT_EQ(addr(p) % kMallocAlign, 0u);
    EXPECT_GE(heap::usable_size(p), 1u);
    live.push_back(p);
  }
  for (void* p : live) heap::release(p);
}

TEST(ProcessHeap, ReleaseAndUsableSizeOfNullDoNothing) {
  const rulloc_malloc_stats before = stats();
  heap::release(nullptr);
  EXPECT_EQ(heap::usable_size(nullptr), 0u);
  const rulloc_malloc_stats after = stats();
  EXPECT_EQ(after.frees, before.frees);
  EXPECT_EQ(after.allocations, before.allocations);
}

TEST(ProcessHeap, EveryBlockIs16AlignedWithUsableSizeAtLeastTheRequest) {
  std::vector<std::pair<void*, std::size_t>> live;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t size : kSizes) {
      void* p = take(size);
      ASSERT_NE(p, nullptr) << "size " << size;
      EXPECT_EQ(addr(p) % 16, 0u) << "size " << size << " at " << p;
      EXPECT_GE(heap::usable_size(p), size);
      fill(p, size, addr(p));
      live.emplace_back(p, size);
    }
  }
  // Every byte written stays: blocks do not overlap.
  for (auto [p, size] : live) {
    EXPECT_EQ(first_wrong(p, size, addr(p)), size) << "size " << size;
  }
  // Free every other one, then allocate again into the holes.
  for (std::size_t i = 0; i < live.size(); i += 2) heap::release(live[i].first);
  for (std::size_t i = 0; i < live.size(); i += 2) {
    void* p = take(live[i].second + 3);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(addr(p) % 16, 0u);
    fill(p, live[i].second + 3, addr(p));
    live[i] = {p, live[i].second + 3};
  }
  for (auto [p, size] : live) {
    EXPECT_EQ(first_wrong(p, size, addr(p)), size) << "size " << size;
    heap::release(p);
  }
}

TEST(ProcessHeap, AlignmentsUpTo1MiB) {
  for (std::size_t align = 1; align <= (std::size_t{1} << 20); align <<= 1) {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{24},
                             align, align + 1, std::size_t{5000}}) {
      void* p = take(size, align);
      ASSERT_NE(p, nullptr) << "align " << align << " size " << size;
      EXPECT_EQ(addr(p) % align, 0u) << "align " << align << " size " << size;
      EXPECT_GE(heap::usable_size(p), size);
      fill(p, size, align + size);
      void* q = take(size, align);  // a neighbour must not clobber it
      ASSERT_NE(q, nullptr);
      EXPECT_EQ(addr(q) % align, 0u);
      std::memset(q, 0xEE, size);
      EXPECT_EQ(first_wrong(p, size, align + size), size);
      heap::release(q);
      heap::release(p);
    }
  }
}

// Blocks asked for at alignments below 16 and given back must not come out
// of a later request at 16 unaligned: malloc's guarantee holds for every
// block, whatever the block served before.
TEST(ProcessHeap, SmallAlignmentsDoNotLeakIntoMallocAlignment) {
  for (int round = 0; round < 3; ++round) {
    std::vector<void*> low;
    for (std::size_t size = 1; size <= 1100; size += 9) {
      for (std::size_t align : {1, 2, 4, 8}) {
        void* p = take(size, align);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(addr(p) % align, 0u);
        low.push_back(p);
      }
    }
    for (void* p : low) heap::release(p);
    std::vector<void*> again;
    for (std::size_t size = 1; size <= 1100; size += 9) {
      for (int i = 0; i < 4; ++i) {
        void* p = take(size);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(addr(p) % 16, 0u) << "size " << size << " at " << p;
        again.push_back(p);
      }
    }
    for (void* p : again) heap::release(p);
  }
}

TEST(ProcessHeap, ZeroedBlocksAreZeroEvenWhenReused) {
  for (std::size_t size : kSizes) {
    // Dirty a block of this size, give it back, ask for a zeroed one.
    void* dirty = take(size);
    ASSERT_NE(dirty, nullptr);
    std::memset(dirty, 0xAB, heap::usable_size(dirty));
    heap::release(dirty);
    auto* p = static_cast<unsigned char*>(take(size, kMallocAlign, true));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::count(p, p + size, 0), static_cast<std::ptrdiff_t>(size))
        << "size " << size;
    heap::release(p);
  }
}

TEST(ProcessHeap, ImpossibleRequestsFailAndChangeNothing) {
  // Blocks of the sizes asked for below were just freed (and may be kept
  // for reuse): an invalid request must fail all the same.
  for (int i = 0; i < 4; ++i) heap::release(take(100));
  const rulloc_malloc_stats before = stats();
  EXPECT_EQ(take(SIZE_MAX), nullptr);
  EXPECT_EQ(take(SIZE_MAX - 64), nullptr);
  EXPECT_EQ(take(SIZE_MAX / 2), nullptr);
  EXPECT_EQ(take(std::size_t{1} << 62), nullptr);
  EXPECT_EQ(take(100, 3), nullptr);  // not a power of two
  EXPECT_EQ(take(100, 0), nullptr);
  EXPECT_EQ(take(100, std::size_t{1} << 63), nullptr);
  const rulloc_malloc_stats after = stats();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(ProcessHeap, ReallocateKeepsContents) {
  // Grow step by step through every bucket, then shrink back, checking the
  // bytes that must survive after every step.
  std::size_t size = 1;
  void* p = take(size);
  ASSERT_NE(p, nullptr);
  fill(p, size, 42);
  std::vector<std::size_t> steps;
  for (std::size_t s = 2; s <= (std::size_t{4} << 20); s = s * 3 / 2 + 1) {
    steps.push_back(s);
  }
  std::vector<std::size_t> down(steps.rbegin(), steps.rend());
  steps.insert(steps.end(), down.begin(), down.end());
  steps.push_back(1);
  for (std::size_t next : steps) {
    // Keep a neighbour alive so growing in place is not always possible.
    void* neighbour = take(next / 4 + 1);
    ASSERT_NE(neighbour, nullptr);
    void* q = heap::reallocate(p, next);
    ASSERT_NE(q, nullptr) << size << " -> " << next;
    EXPECT_EQ(addr(q) % 16, 0u);
    EXPECT_GE(heap::usable_size(q), next);
    const std::size_t kept = std::min(size, next);
    ASSERT_EQ(first_wrong(q, kept, 42), kept) << size << " -> " << next;
    fill(q, next, 42);
    p = q;
    size = next;
    heap::release(neighbour);
  }
  heap::release(p);
}

TEST(ProcessHeap, ReallocateToSameAndTinySizes) {
  void* p = take(300);
  ASSERT_NE(p, nullptr);
  fill(p, 300, 9);
  void* q = heap::reallocate(p, 300);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(first_wrong(q, 300, 9), 300u);
  void* r = heap::reallocate(q, 0);  // the heap keeps a block of size 0
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(addr(r) % 16, 0u);
  heap::release(r);
}

TEST(ProcessHeap, FailedReallocateLeavesTheBlockValid) {
  void* p = take(1000);
  ASSERT_NE(p, nullptr);
  fill(p, 1000, 5);
  const rulloc_malloc_stats before = stats();
  EXPECT_EQ(heap::reallocate(p, SIZE_MAX), nullptr);
  EXPECT_EQ(heap::reallocate(p, SIZE_MAX - 100), nullptr);
  EXPECT_EQ(heap::reallocate(p, std::size_t{1} << 62), nullptr);
  const rulloc_malloc_stats after = stats();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.frees, before.frees);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(first_wrong(p, 1000, 5), 1000u);
  EXPECT_GE(heap::usable_size(p), 1000u);
  heap::release(p);
}

TEST(ProcessHeap, StatsCountersMove) {
  const rulloc_malloc_stats s0 = stats();
  // One engine bucket per lane (one per CPU), the big-block bucket, the
  // dynamic one.
  const std::size_t lanes = heap::lane_count();
  EXPECT_EQ(lanes, std::min<std::size_t>(rulloc::platform::cpu_count(),
                                         heap::kMaxLanes));
  EXPECT_EQ(s0.bucket_count, lanes + 2);
  ASSERT_LE(s0.bucket_count, std::size(s0.buckets));
  EXPECT_EQ(s0.buckets[s0.bucket_count - 1].limit, SIZE_MAX);
  for (std::size_t i = 1; i < lanes; ++i) {
    EXPECT_EQ(s0.buckets[i - 1].limit, s0.buckets[i].limit);
  }
  for (std::size_t i = lanes; i < s0.bucket_count; ++i) {
    EXPECT_LT(s0.buckets[i - 1].limit, s0.buckets[i].limit);
  }

  void* p = take(1000);
  ASSERT_NE(p, nullptr);
  const std::size_t usable = heap::usable_size(p);
  const rulloc_malloc_stats s1 = stats();
  EXPECT_EQ(s1.allocations, s0.allocations + 1);
  EXPECT_EQ(s1.frees, s0.frees);
  EXPECT_EQ(s1.bytes_in_use, s0.bytes_in_use + usable);
  EXPECT_GE(s1.peak_bytes_in_use, s1.bytes_in_use);
  EXPECT_GE(s1.mapped_bytes, s1.bytes_in_use);
  // A 1000-byte block lives in a slab: mapped = slabs + engine regions.
  std::size_t mapped = s1.slab_bytes;
  for (std::size_t i = 0; i < s1.bucket_count; ++i) {
    mapped += s1.buckets[i].mapped_bytes;
  }
  EXPECT_EQ(mapped, s1.mapped_bytes);
  EXPECT_GE(s1.slab_bytes, 65536u);
  EXPECT_GE(s1.segment_bytes, s1.slab_bytes);

  // A reallocation counts as one allocation and one free.
  void* q = heap::reallocate(p, 100000);
  ASSERT_NE(q, nullptr);
  const std::size_t usable_q = heap::usable_size(q);
  const rulloc_malloc_stats s2 = stats();
  EXPECT_EQ(s2.allocations, s1.allocations + 1);
  EXPECT_EQ(s2.frees, s1.frees + 1);
  EXPECT_EQ(s2.bytes_in_use, s0.bytes_in_use + usable_q);
  EXPECT_GE(s2.peak_bytes_in_use, s2.bytes_in_use);

  heap::release(q);
  const rulloc_malloc_stats s3 = stats();
  EXPECT_EQ(s3.frees, s2.frees + 1);
  EXPECT_EQ(s3.allocations, s2.allocations);
  EXPECT_EQ(s3.bytes_in_use, s0.bytes_in_use);
  EXPECT_GE(s3.peak_bytes_in_use, s0.bytes_in_use + usable_q);

  // The C entry point reports the same figures.
  rulloc_malloc_stats c;
  EXPECT_EQ(rulloc_get_malloc_stats(&c), 0);
  EXPECT_EQ(c.allocations, s3.allocations);
  EXPECT_EQ(c.frees, s3.frees);
  EXPECT_EQ(c.bytes_in_use, s3.bytes_in_use);
  EXPECT_EQ(c.bucket_count, s3.bucket_count);
}

// The malloc family under rulloc's names (rulloc/malloc.h), beside the C
// library's malloc: blocks of the same heap, counted, with malloc's errors.
TEST(ProcessHeap, NamedEntryPointsServeTheSameHeap) {
  const rulloc_malloc_stats s0 = stats();
  auto* p = static_cast<unsigned char*>(rulloc_malloc(1000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rulloc_malloc_usable_size(p), heap::usable_size(p));
  EXPECT_GE(rulloc_malloc_usable_size(p), 1000u);
  std::memset(p, 5, 1000);
  p = static_cast<unsigned char*>(rulloc_malloc_realloc(p, 300000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[999], 5);
  auto* z = static_cast<unsigned char*>(rulloc_calloc(100, 30));
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(std::count(z, z + 3000, 0), 3000);
  void* a = rulloc_aligned_malloc(4096, 100);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 4096, 0u);
  const rulloc_malloc_stats s1 = stats();
  EXPECT_EQ(s1.allocations, s0.allocations + 4);  // the realloc moved
  EXPECT_EQ(s1.frees, s0.frees + 1);
  rulloc_malloc_free(p);
  rulloc_malloc_free(z);
  rulloc_malloc_free(a);
  rulloc_malloc_free(nullptr);
  EXPECT_EQ(stats().frees, s0.frees + 4);
  errno = 0;
  EXPECT_EQ(rulloc_aligned_malloc(24, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(rulloc_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(rulloc_malloc_realloc(rulloc_malloc(10), 0), nullptr);
}

// Threads alive at the same time take different lanes: blocks they hold at
// once lie in more than one engine bucket (so they met on no lock), and a
// block freed by another thread goes back to the bucket it came from.
TEST(ProcessHeap, ThreadsUseDifferentEngineLanes) {
  constexpr int kThreads = 4;
  constexpr std::size_t kSize = 100000;
  std::vector<void*> blocks(kThreads, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> holding{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&blocks, &holding, t] {
      blocks[static_cast<std::size_t>(t)] = take(kSize);
      fill(blocks[static_cast<std::size_t>(t)], kSize, addr(&blocks) + t);
      // Nobody leaves (and frees its lane) before all have allocated.
      holding.fetch_add(1);
      while (holding.load() < kThreads) std::this_thread::yield();
    });
  }
  for (auto& thread : threads) thread.join();
  const rulloc_malloc_stats held = stats();
  std::size_t lanes_used = 0;
  for (std::size_t i = 0; i < heap::lane_count(); ++i) {
    lanes_used += held.buckets[i].blocks > held.buckets[i].free_blocks;
  }
  EXPECT_GE(lanes_used, std::min<std::size_t>(2, heap::lane_count()));
  for (int t = 0; t < kThreads; ++t) {
    void* block = blocks[static_cast<std::size_t>(t)];
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(first_wrong(block, kSize, addr(&blocks) + t), kSize);
    heap::release(block);  // from the main thread, whatever the lane
  }
  const rulloc_malloc_stats after = stats();
  for (std::size_t i = 0; i + 1 < after.bucket_count; ++i) {
    EXPECT_LE(after.buckets[i].blocks - after.buckets[i].free_blocks,
              held.buckets[i].blocks - held.buckets[i].free_blocks);
  }
}

// A block grown by realloc (a string builder, a buffer) gets an eighth to
// spare, so the next small appends stay in place instead of each copying
// the whole block; plain allocations get no such slack.
TEST(ProcessHeap, GrowingByReallocLeavesRoomToSpare) {
  void* p = take(40000);
  ASSERT_NE(p, nullptr);
  EXPECT_LT(heap::usable_size(p), 40000u + 40000u / 8);
  fill(p, 40000, 9);
  void* grown = heap::reallocate(p, 50000);
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(first_wrong(grown, 40000, 9), 40000u);
  EXPECT_GE(heap::usable_size(grown), 50000u + 50000u / 8);
  // The next appends fit: the block stays where it is.
  void* again = heap::reallocate(grown, 50000 + 4000);
  EXPECT_EQ(again, grown);
  // Shrinking takes no slack.
  void* shrunk = heap::reallocate(again, 45000);
  ASSERT_NE(shrunk, nullptr);
  EXPECT_LT(heap::usable_size(shrunk), 45000u + 45000u / 8);
  heap::release(shrunk);
}

// Appends near the limit of the lanes' bucket (256 KiB): the slack never
// carries a block into the next bucket, so it does not bounce between the
// two on every call (it did: 1865 moves, 451 MB copied, growing 16 B to
// 256 KiB by 16 B).
TEST(ProcessHeap, AppendsNearABucketLimitDoNotBounce) {
  std::size_t size = 200000;
  void* p = take(size);
  ASSERT_NE(p, nullptr);
  fill(p, size, 5);
  int moves = 0;
  for (; size + 16 <= 262144; size += 16) {
    void* q = heap::reallocate(p, size + 16);
    ASSERT_NE(q, nullptr);
    moves += q != p;
    p = q;
  }
  EXPECT_EQ(first_wrong(p, 200000, 5), 200000u);
  EXPECT_LE(moves, 3);
  // Shrinking within the slack leaves the block where it is.
  const std::size_t usable = heap::usable_size(p);
  EXPECT_EQ(heap::reallocate(p, usable - usable / 16), p);
  heap::release(p);
}

TEST(ProcessHeap, PeakFollowsTheHighestUse) {
  const rulloc_malloc_stats s0 = stats();
  void* big = take(8 << 20);
  ASSERT_NE(big, nullptr);
  const std::size_t usable = heap::usable_size(big);
  heap::release(big);
  const rulloc_malloc_stats s1 = stats();
  EXPECT_GE(s1.peak_bytes_in_use, s0.bytes_in_use + usable);
  EXPECT_EQ(s1.bytes_in_use, s0.bytes_in_use);
}

TEST(ProcessHeap, PrintStatsWritesRullocLines) {
  void* p = take(777);
  ASSERT_NE(p, nullptr);
  testing::internal::CaptureStderr();
  rulloc_print_malloc_stats();
  const std::string text = testing::internal::GetCapturedStderr();
  heap::release(p);
  EXPECT_EQ(text.rfind("rulloc: allocations ", 0), 0u) << text;
  EXPECT_NE(text.find("bucket dynamic"), std::string::npos) << text;
  // Every line starts with "rulloc:".
  std::size_t start = 0, lines = 0;
  while (start < text.size()) {
    EXPECT_EQ(text.compare(start, 7, "rulloc:"), 0) << text.substr(start, 40);
    std::size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    start = end + 1;
    ++lines;
  }
  // The totals, the slabs and one line per bucket: a lane's each, the
  // big-block bucket's, the dynamic one's.
  EXPECT_EQ(lines, 2 + heap::lane_count() + 2);
}

// Threads allocate blocks and hand them to the next thread, which checks and
// frees them: every block is freed by a thread that did not allocate it.
TEST(ProcessHeap, ThreadsFreeEachOthersBlocks) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 6000;
  struct Mailbox {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<void*, std::size_t>> items;
    bool closed = false;
  };
  std::vector<Mailbox> boxes(kThreads);
  std::atomic<int> bad{0};
  const rulloc_malloc_stats before = stats();

  auto consume = [&](Mailbox& box) {
    for (;;) {
      std::pair<void*, std::size_t> item;
      {
        std::unique_lock lock(box.mutex);
        box.ready.wait(lock, [&] { return box.closed || !box.items.empty(); });
        if (box.items.empty()) return;
        item = box.items.front();
        box.items.pop_front();
      }
      auto [p, size] = item;
      if (first_wrong(p, size, addr(p)) != size || addr(p) % 16 != 0) ++bad;
      heap::release(p);
    }
  };
  auto produce = [&](int id) {
    Mailbox& next = boxes[(id + 1) % kThreads];
    std::uint64_t seed = 0x9E3779B97F4A7C15ull * (id + 1);
    std::vector<std::pair<void*, std::size_t>> mine;
    for (int i = 0; i < kPerThread; ++i) {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      std::size_t size = seed % 50 == 0 ? seed % 70000 : seed % 1500;
      void* p = nullptr;
      switch (seed % 4) {
        case 0:
          p = take(size, std::size_t{16} << (seed >> 40) % 6);
          break;
        case 1:
          p = take(size, kMallocAlign, true);
          break;
        default:
          p = take(size);
          break;
      }
      if (p == nullptr) {
        ++bad;
        continue;
      }
      fill(p, size, addr(p));
      if (seed % 5 == 0) {
        // Keep a few and reallocate them, the others go to the neighbour.
        mine.emplace_back(p, size);
        continue;
      }
      std::lock_guard lock(next.mutex);
      next.items.emplace_back(p, size);
      next.ready.notify_one();
    }
    for (auto& [p, size] : mine) {
      std::size_t bigger = size * 2 + 10;
      void* q = heap::reallocate(p, bigger);
      if (q == nullptr || first_wrong(q, size, addr(p)) != size) {
        ++bad;
        continue;
      }
      fill(q, bigger, addr(q));
      std::lock_guard lock(next.mutex);
      next.items.emplace_back(q, bigger);
      next.ready.notify_one();
    }
  };

  std::vector<std::thread> consumers, producers;
  for (int i = 0; i < kThreads; ++i)
    consumers.emplace_back(consume, std::ref(boxes[i]));
  for (int i = 0; i < kThreads; ++i) producers.emplace_back(produce, i);
  for (auto& t : producers) t.join();
  for (auto& box : boxes) {
    std::lock_guard lock(box.mutex);
    box.closed = true;
    box.ready.notify_all();
  }
  for (auto& t : consumers) t.join();

  EXPECT_EQ(bad.load(), 0);
  const rulloc_malloc_stats after = stats();
  EXPECT_EQ(after.allocations - before.allocations, after.frees - before.frees);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_GE(after.peak_bytes_in_use, after.bytes_in_use);
}

// Threads that exit while other threads still hold (and later free) the
// blocks they allocated.
TEST(ProcessHeap, BlocksOutliveTheThreadsThatAllocatedThem) {
  const rulloc_malloc_stats before = stats();
  std::vector<std::pair<void*, std::size_t>> orphans;
  std::mutex mutex;
  for (int wave = 0; wave < 4; ++wave) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::pair<void*, std::size_t>> made;
        for (int i = 0; i < 500; ++i) {
          std::size_t size = static_cast<std::size_t>((i * 37 + t * 11) % 3000);
          void* p = take(size);
          if (p == nullptr) continue;
          fill(p, size, addr(p));
          made.emplace_back(p, size);
        }
        std::lock_guard lock(mutex);
        orphans.insert(orphans.end(), made.begin(), made.end());
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(orphans.size(), 4u * 8 * 500);
  // The allocating threads are gone; free from two fresh threads.
  std::atomic<int> bad{0};
  auto drain = [&](std::size_t from, std::size_t step) {
    for (std::size_t i = from; i < orphans.size(); i += step) {
      auto [p, size] = orphans[i];
      if (first_wrong(p, size, addr(p)) != size) ++bad;
      heap::release(p);
    }
  };
  std::thread a(drain, 0, 2), b(drain, 1, 2);
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(stats().bytes_in_use, before.bytes_in_use);
}

}  // namespace
