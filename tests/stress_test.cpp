// The design's two 8-thread stress tests on one shared allocator: contents
// intact, every bucket back to 0 regions, check() true. Threads never call
// gtest; they count problems and the main thread reports them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace {

using namespace rulloc_test;
using rulloc::Allocation;
using rulloc::Layout;
using rulloc::Rulloc;

constexpr int kThreads = 8;

#if defined(__MINGW32__)
// std::barrier of mingw-w64's libstdc++ 12 can lose a wake-up and deadlock
// (docs/windows.md); this one has the same arrive_and_wait().
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const unsigned long phase = phase_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++phase_;
      all_arrived_.notify_all();
    } else {
      all_arrived_.wait(lock, [&] { return phase_ != phase; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  const int count_;
  int arrived_ = 0;
  unsigned long phase_ = 0;
};
#else
using Barrier = std::barrier<>;
#endif

// The first problem any thread saw, and how many there were.
class Problems {
 public:
  void report(const std::string& what) {
    if (count_.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      first_ = what;
    }
  }
  int count() const { return count_.load(); }
  std::string first() {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_;
  }

 private:
  std::atomic<int> count_{0};
  std::mutex mutex_;
  std::string first_;
};

struct Block {
  void* ptr;
  std::size_t size;
  std::size_t align;
  unsigned seed;
};

template <class Heap>
bool place(Heap& heap, Block& b, Problems& problems) {
  Allocation a = heap.allocate(Layout{b.size, b.align});
  b.ptr = a.ptr;
  if (a.ptr == nullptr || a.size < b.size || addr(a.ptr) % b.align != 0) {
    problems.report("bad allocation of " + std::to_string(b.size));
    return false;
  }
  fill(b.ptr, b.size, b.seed);
  return true;
}

void verify(const Block& b, Problems& problems) {
  std::size_t bad = first_mismatch(b.ptr, b.size, b.seed);
  if (bad != b.size) {
    problems.report("block of " + std::to_string(b.size) +
                    " bytes corrupted at byte " + std::to_string(bad));
  }
}

// Rounds in lock step: every thread allocates, then each frees half of its own
// blocks and half of its neighbour's (so frees cross threads), then the rest.
// Between rounds the main thread's view: the heap is empty and consistent.
TEST(Stress, BarrierSynchronised) {
  constexpr int kRounds = 40;
  constexpr int kPerThread = 32;
  Rulloc<> heap;
  Problems problems;
  std::vector<std::vector<Block>> blocks(kThreads);
  std::atomic<int> nonempty_rounds{0};
  Barrier sync(kThreads);

  auto worker = [&](int t) {
    for (int round = 0; round < kRounds; ++round) {
      auto& mine = blocks[t];
      mine.clear();
      for (int i = 0; i < kPerThread; ++i) {
        const std::size_t aligns[] = {8, 16, 64, 256};
        Block b{
            nullptr,
            1 + static_cast<std::size_t>(t * 37 + i * 61 + round * 13) % 4000,
            aligns[(t + i) % 4], static_cast<unsigned>(t * 1000 + i)};
        if (place(heap, b, problems)) mine.push_back(b);
      }
      sync.arrive_and_wait();  // everyone allocated
      for (std::size_t i = 0; i < mine.size(); i += 2) {
        verify(mine[i], problems);
        heap.deallocate(mine[i].ptr);
      }
      auto& theirs = blocks[(t + 1) % kThreads];
      sync.arrive_and_wait();  // own even blocks freed
      for (std::size_t i = 1; i < theirs.size(); i += 2) {
        verify(theirs[i], problems);
        heap.deallocate(theirs[i].ptr);
      }
      sync.arrive_and_wait();  // everything freed
      if (t == 0) {
        if (!empty(heap) || !heap.check()) nonempty_rounds.fetch_add(1);
      }
      sync.arrive_and_wait();  // thread 0 looked
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  EXPECT_EQ(problems.count(), 0) << problems.first();
  EXPECT_EQ(nonempty_rounds.load(), 0);
  EXPECT_TRUE(consistent(heap));
  EXPECT_TRUE(empty(heap));
}

// No synchronisation: each thread cycles through sizes 16..8192 (every
// bucket, shifted per thread so they interleave), keeps a few blocks alive,
// resizes some, and frees the oldest.
TEST(Stress, InterleavedSizes) {
  constexpr int kRounds = 1000;
  constexpr std::size_t kKeep = 6;
  Rulloc<> heap;
  Problems problems;

  auto worker = [&](int t) {
    std::vector<Block> live;
    for (int round = 0; round < kRounds; ++round) {
      Block b{nullptr, std::size_t{16} << ((t + round) % 10),
              round % 7 == 0 ? std::size_t{64} : std::size_t{8},
              static_cast<unsigned>(t * 7919 + round)};
      if (!place(heap, b, problems)) continue;
      if (round % 3 == 0) {
        // Grow or shrink by half, within or across buckets.
        std::size_t size = round % 2 ? b.size + b.size / 2 : b.size / 2;
        Allocation r = heap.reallocate(b.ptr, Layout{b.size, b.align},
                                       Layout{size, b.align});
        if (r.ptr == nullptr) {
          problems.report("reallocate failed");
        } else {
          b.ptr = r.ptr;
          verify(Block{b.ptr, std::min(size, b.size), b.align, b.seed},
                 problems);
          b.size = size;
          fill(b.ptr, b.size, b.seed);
        }
      }
      live.push_back(b);
      if (live.size() > kKeep) {
        verify(live.front(), problems);
        heap.deallocate(live.front().ptr);
        live.erase(live.begin());
      }
    }
    for (const Block& x : live) {
      verify(x, problems);
      heap.deallocate(x.ptr);
    }
  };
  // Meanwhile an observer inspects the heap: stats, check and dump take the
  // same locks as the workers, so they must see a consistent heap.
  std::atomic<bool> done{false};
  std::thread observer([&] {
    while (!done.load()) {
      std::string error;
      if (!heap.check(&error)) problems.report("check: " + error);
      for (const auto& s : heap.stats()) {
        if (s.free_blocks > s.blocks) problems.report("stats: free > blocks");
      }
      std::ostringstream picture;
      heap.dump(picture);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  done.store(true);
  observer.join();

  EXPECT_EQ(problems.count(), 0) << problems.first();
  EXPECT_TRUE(consistent(heap));
  EXPECT_TRUE(empty(heap));
  for (const auto& s : heap.stats()) EXPECT_EQ(s.regions, 0u);
}

}  // namespace
