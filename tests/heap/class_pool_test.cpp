// Class pools (heap/class_pool.hpp) in private instances: batches taken and
// given back to their own slabs, each slab's free list handed out whole or
// in part and carving only once none is left, chains of mixed slabs given
// back run by run, lanes kept apart, empty slabs kept or trimmed, what is
// left when segments run out, and threads of two lanes trading blocks.
// Built twice: as the plain heap, and as secure mode's (heap.secure.*).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/secure.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "parts.hpp"
#include "platform/platform.hpp"

namespace {

namespace heap = rulloc::heap;
using heap::testing::blocks_of;
using heap::testing::Message;
using heap::testing::PrivatePools;

constexpr std::size_t kClass = 5;  // 96 bytes

// Blocks a slab holds (less its guard page in secure mode).
std::size_t per_slab(std::size_t size_class) {
  const std::size_t guard = heap::kSecure ? rulloc::platform::page_size() : 0;
  return (heap::kSlabBytes - guard) / heap::class_size(size_class);
}

std::size_t slabs_in_use(PrivatePools& p) {
  return p.segments.stats().slabs_in_use;
}

TEST(ClassPools, LanesAreWithinOneAndTheMaximum) {
  PrivatePools none({.lanes = 0});
  EXPECT_EQ(none.pools.lanes(), 1u);
  PrivatePools many({.lanes = 1000});
  EXPECT_EQ(many.pools.lanes(), heap::kMaxLanes);
  PrivatePools three({.lanes = 3});
  EXPECT_EQ(three.pools.lanes(), 3u);
}

TEST(ClassPools, PoolsOfLanesNotInUseAreNeverWritten) {
  // The pools live at the object's end, a lane after another: those of
  // lanes 2 and up are the last bytes, left as they were.
  heap::testing::PrivateSegments segments;
  alignas(
      heap::ClassPools) static unsigned char storage[sizeof(heap::ClassPools)];
  std::memset(storage, 0xA5, sizeof(storage));
  auto* pools = new (storage) heap::ClassPools(segments, {.lanes = 2});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(pools->take(1, kClass, 3, &chain), 3u);
  pools->give(chain);
  pools->trim();
  const std::size_t unused =
      (heap::kMaxLanes - 2) * heap::kClassCount * sizeof(heap::ClassPool);
  const unsigned char* tail = storage + sizeof(storage) - unused;
  EXPECT_EQ(std::count(tail, tail + unused, 0xA5), std::ptrdiff_t(unused));
  Message error;
  EXPECT_TRUE(pools->check(error.out)) << error.str();
}

TEST(ClassPools, BatchesComeFromSlabsAndGoBackToThem) {
  PrivatePools p({.lanes = 1, .keep_empty = 1});
  const std::size_t want = 3 * per_slab(kClass);  // three slabs
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, want, &chain), want);
  EXPECT_EQ(blocks_of(chain, kClass).size(), want);
  EXPECT_EQ(slabs_in_use(p), 3u);
  Message taken;
  EXPECT_TRUE(p.pools.check(taken.out)) << taken.str();
  p.pools.give(chain);
  // Every slab emptied: all but the one the pool keeps went back.
  EXPECT_EQ(slabs_in_use(p), 1u);
  p.pools.trim();
  EXPECT_EQ(slabs_in_use(p), 0u);
  // Taken again, blocks come from a slab given back (its pages kept).
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 10, &again), 10u);
  EXPECT_EQ(p.segments.stats().segments, 1u);
  p.pools.give(again);
  Message given;
  EXPECT_TRUE(p.pools.check(given.out)) << given.str();
}

TEST(ClassPools, KeepEmptyIsHowManyEmptySlabsStay) {
  for (std::size_t keep : {0u, 2u}) {
    PrivatePools p({.lanes = 1, .keep_empty = keep});
    heap::FreeBlock* chain = nullptr;
    const std::size_t want = 4 * per_slab(kClass);
    ASSERT_EQ(p.pools.take(0, kClass, want, &chain), want);
    p.pools.give(chain);
    EXPECT_EQ(slabs_in_use(p), keep);
    p.pools.trim();
    EXPECT_EQ(slabs_in_use(p), 0u);
  }
}

TEST(ClassPools, LanesNeverShareASlab) {
  PrivatePools p({.lanes = 2});
  heap::FreeBlock* zero = nullptr;
  heap::FreeBlock* one = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 50, &zero), 50u);
  ASSERT_EQ(p.pools.take(1, kClass, 50, &one), 50u);
  std::set<heap::Slab*> slabs_zero, slabs_one;
  for (heap::FreeBlock* b : blocks_of(zero, kClass)) {
    EXPECT_EQ(heap::shape_of(b)->lane, 0u);
    slabs_zero.insert(heap::slab_of(b));
  }
  for (heap::FreeBlock* b : blocks_of(one, kClass)) {
    EXPECT_EQ(heap::shape_of(b)->lane, 1u);
    slabs_one.insert(heap::slab_of(b));
  }
  for (heap::Slab* slab : slabs_zero) EXPECT_EQ(slabs_one.count(slab), 0u);
  // One chain of both lanes goes back, each block to its own lane's pool:
  // lane 1 hands out only its own blocks again.
  heap::FreeBlock* last = zero;
  while (heap::next_of(last) != nullptr) last = heap::next_of(last);
  heap::set_next(last, one);
  p.pools.give(zero);
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(1, kClass, 50, &again), 50u);
  for (heap::FreeBlock* b : blocks_of(again, kClass)) {
    EXPECT_EQ(slabs_one.count(heap::slab_of(b)), 1u);
  }
  p.pools.give(again);
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
}

// A slab one pool keeps empty serves another class (of any lane) before
// fresh pages do, and only then: a free slab with its pages comes first.
TEST(ClassPools, AKeptEmptySlabIsLentBeforeFreshPages) {
  PrivatePools p({.lanes = 2, .keep_empty = 1});
  heap::FreeBlock* chain = nullptr;
  const std::size_t two = 2 * per_slab(kClass);
  ASSERT_EQ(p.pools.take(0, kClass, two, &chain), two);
  std::set<heap::Slab*> emptied;
  for (heap::FreeBlock* b = chain; b != nullptr; b = heap::next_of(b)) {
    emptied.insert(heap::slab_of(b));
  }
  ASSERT_EQ(emptied.size(), 2u);
  p.pools.give(chain);  // one slab kept, one back with its pages
  EXPECT_EQ(p.pools.kept_empty(), 1u);
  EXPECT_EQ(p.segments.stats().dirty_slabs, 1u);

  heap::FreeBlock* blocks[3] = {};
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(p.pools.take(1, kClass + 1 + i, 1, &blocks[i]), 1u);
  }
  // The free slab first, then the kept one, then fresh pages.
  EXPECT_EQ(emptied.count(heap::slab_of(blocks[0])), 1u);
  EXPECT_EQ(emptied.count(heap::slab_of(blocks[1])), 1u);
  EXPECT_NE(heap::slab_of(blocks[1]), heap::slab_of(blocks[0]));
  EXPECT_EQ(emptied.count(heap::slab_of(blocks[2])), 0u);
  EXPECT_EQ(p.pools.kept_empty(), 0u);
  EXPECT_EQ(slabs_in_use(p), 3u);
  EXPECT_EQ(heap::shape_of(blocks[1])->size_class, kClass + 2);
  EXPECT_EQ(heap::shape_of(blocks[1])->lane, 1u);
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
  for (heap::FreeBlock* block : blocks) p.pools.give(block);
  EXPECT_EQ(p.pools.kept_empty(), 3u);
  p.pools.trim();
  EXPECT_EQ(p.pools.kept_empty(), 0u);
}

TEST(ClassPools, TakeGivesWhatIsLeftWhenSegmentsRunOut) {
  PrivatePools p({.lanes = 1}, {.max_segments = 1});
  constexpr std::size_t kLargest = heap::kClassCount - 1;  // 2 per slab
  const std::size_t all = (heap::kSlabsPerSegment - 1) * per_slab(kLargest);
  heap::FreeBlock* chain = nullptr;
  EXPECT_EQ(p.pools.take(0, kLargest, all + 10, &chain), all);
  heap::FreeBlock* more = nullptr;
  EXPECT_EQ(p.pools.take(0, kLargest, 1, &more), 0u);
  EXPECT_EQ(more, nullptr);
  p.pools.give(chain);
  EXPECT_EQ(p.pools.take(0, kLargest, 1, &more), 1u);
  p.pools.give(more);
}

// The blocks of `chain` that lie in `slab`, cut out of it (the others stay
// chained in `*rest`).
std::vector<heap::FreeBlock*> split_by_slab(
    heap::FreeBlock* chain, heap::Slab* slab,
    std::vector<heap::FreeBlock*>* rest) {
  std::vector<heap::FreeBlock*> in;
  for (heap::FreeBlock* b = chain; b != nullptr; b = heap::next_of(b)) {
    (heap::slab_of(b) == slab ? in : *rest).push_back(b);
  }
  return in;
}

// Chains `blocks` in their order, as a cache would give them back.
heap::FreeBlock* chain_of(const std::vector<heap::FreeBlock*>& blocks) {
  heap::FreeBlock* head = nullptr;
  for (std::size_t i = blocks.size(); i-- > 0;) {
    heap::set_next(blocks[i], head);
    head = blocks[i];
  }
  return head;
}

std::vector<heap::FreeBlock*> blocks_in(heap::FreeBlock* chain) {
  std::vector<heap::FreeBlock*> blocks;
  for (heap::FreeBlock* b = chain; b != nullptr; b = heap::next_of(b)) {
    blocks.push_back(b);
  }
  return blocks;
}

// A slab's counts, as the live heap's look sees them.
heap::SlabFigures figures_of(PrivatePools& p, const heap::FreeBlock* block) {
  heap::SlabFigures figures{};
  const heap::SlabShape shape = *heap::shape_of(block);
  EXPECT_EQ(p.pools.look_at_slab(heap::slab_of(block), shape, false, &figures,
                                 nullptr),
            heap::SlabLook::kSeen);
  return figures;
}

void expect_sound(PrivatePools& p) {
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
}

TEST(ClassPools, TakeHandsOutASlabsWholeFreeList) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 100, &chain), 100u);
  std::vector<heap::FreeBlock*> blocks = blocks_in(chain);
  // 60 go back (in two batches); 40 stay out.
  const std::vector<heap::FreeBlock*> back(blocks.begin(), blocks.begin() + 60);
  p.pools.give(chain_of({back.begin(), back.begin() + 25}));
  p.pools.give(chain_of({back.begin() + 25, back.end()}));
  expect_sound(p);
  // Asked for at least 10 and at most 1000: the slab's whole list, and no
  // fresh block carved while it had free ones.
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 10, 1000, &again), 60u);
  const std::set<heap::FreeBlock*> got = blocks_of(again, kClass);
  EXPECT_EQ(got, std::set<heap::FreeBlock*>(back.begin(), back.end()));
  const heap::SlabFigures f = figures_of(p, blocks[0]);
  EXPECT_EQ(f.used, 100u);
  EXPECT_EQ(f.free, 0u);
  EXPECT_EQ(f.carved, 100u);
  expect_sound(p);
  p.pools.give(again);
  p.pools.give(chain_of({blocks.begin() + 60, blocks.end()}));
  expect_sound(p);
}

TEST(ClassPools, TakeWalksOnlyAPrefixWhenMostIsSmaller) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 100, &chain), 100u);
  const std::vector<heap::FreeBlock*> blocks = blocks_in(chain);
  p.pools.give(chain_of({blocks.begin(), blocks.begin() + 60}));
  heap::FreeBlock* first = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 5, 25, &first), 25u);
  const std::set<heap::FreeBlock*> given(blocks.begin(), blocks.begin() + 60);
  const std::set<heap::FreeBlock*> prefix = blocks_of(first, kClass);
  EXPECT_EQ(prefix.size(), 25u);
  for (heap::FreeBlock* b : prefix) EXPECT_EQ(given.count(b), 1u);
  heap::SlabFigures f = figures_of(p, blocks[0]);
  EXPECT_EQ(f.free, 35u);
  EXPECT_EQ(f.used, 65u);
  expect_sound(p);
  // The rest of the list, whole.
  heap::FreeBlock* rest = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 5, 1000, &rest), 35u);
  // The rest of the list, whole: with the prefix, the blocks given back.
  std::set<heap::FreeBlock*> both = blocks_of(rest, kClass);
  both.insert(prefix.begin(), prefix.end());
  EXPECT_EQ(both, given);
  expect_sound(p);
  p.pools.give(first);
  p.pools.give(rest);
  p.pools.give(chain_of({blocks.begin() + 60, blocks.end()}));
  expect_sound(p);
}

TEST(ClassPools, TakeJoinsTheListsOfSeveralSlabs) {
  PrivatePools p({.lanes = 1});
  const std::size_t two = 2 * per_slab(kClass);
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, two, &chain), two);
  std::vector<heap::FreeBlock*> blocks = blocks_in(chain);
  std::vector<heap::FreeBlock*> other;
  const std::vector<heap::FreeBlock*> in_first =
      split_by_slab(chain, heap::slab_of(blocks[0]), &other);
  ASSERT_EQ(in_first.size(), per_slab(kClass));
  ASSERT_EQ(other.size(), per_slab(kClass));
  std::vector<heap::FreeBlock*> back(in_first.begin(), in_first.begin() + 10);
  back.insert(back.end(), other.begin(), other.begin() + 20);
  p.pools.give(chain_of({in_first.begin(), in_first.begin() + 10}));
  p.pools.give(chain_of({other.begin(), other.begin() + 20}));
  heap::FreeBlock* again = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 1, 1000, &again), 30u);
  EXPECT_EQ(blocks_of(again, kClass),
            std::set<heap::FreeBlock*>(back.begin(), back.end()));
  expect_sound(p);
  p.pools.give(again);
  p.pools.give(chain_of({in_first.begin() + 10, in_first.end()}));
  p.pools.give(chain_of({other.begin() + 20, other.end()}));
  expect_sound(p);
  EXPECT_EQ(slabs_in_use(p), 1u);  // the one kept empty
}

TEST(ClassPools, TakeCarvesAtMostCarveAndOnlyWhenNoListIsLeft) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* fresh = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 7, 100, &fresh), 7u);
  EXPECT_EQ(figures_of(p, fresh).carved, 7u);
  // 3 free: they come first, and 4 fresh make up the 7.
  const std::vector<heap::FreeBlock*> blocks = blocks_in(fresh);
  p.pools.give(chain_of({blocks.begin(), blocks.begin() + 3}));
  heap::FreeBlock* mixed = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 7, 100, &mixed), 7u);
  const std::set<heap::FreeBlock*> got = blocks_of(mixed, kClass);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got.count(blocks[i]), 1u);
  EXPECT_EQ(figures_of(p, fresh).carved, 11u);
  // Asked for less than one: one.
  heap::FreeBlock* one = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 0, 100, &one), 1u);
  EXPECT_EQ(heap::next_of(one), nullptr);
  expect_sound(p);
  p.pools.give(mixed);
  p.pools.give(one);
  p.pools.give(chain_of({blocks.begin() + 3, blocks.end()}));
  expect_sound(p);
}

// One chain of blocks of two slabs of one pool, interleaved, of another
// class and of another lane goes back: each run to its own slab, counted.
TEST(ClassPools, GiveReturnsEachRunOfAMixedChainToItsSlab) {
  for (std::size_t keep : {0u, 1u}) {
    PrivatePools p({.lanes = 2, .keep_empty = keep});
    const std::size_t two = 2 * per_slab(kClass);
    heap::FreeBlock* chain = nullptr;
    ASSERT_EQ(p.pools.take(0, kClass, two, &chain), two);
    std::vector<heap::FreeBlock*> a;
    const std::vector<heap::FreeBlock*> b =
        split_by_slab(chain, heap::slab_of(chain), &a);
    heap::FreeBlock* small = nullptr;
    ASSERT_EQ(p.pools.take(0, kClass + 2, 40, &small), 40u);
    heap::FreeBlock* far = nullptr;
    ASSERT_EQ(p.pools.take(1, kClass, 30, &far), 30u);
    const std::vector<heap::FreeBlock*> c = blocks_in(small);
    const std::vector<heap::FreeBlock*> d = blocks_in(far);
    // a[0..10) b[0..5) c[0..20) a[10..15) d[0..30) b[5..) c[20..) a[15..)
    std::vector<heap::FreeBlock*> mixed;
    auto add = [&](const std::vector<heap::FreeBlock*>& v, std::size_t from,
                   std::size_t to) {
      mixed.insert(mixed.end(), v.begin() + from, v.begin() + to);
    };
    add(a, 0, 10);
    add(b, 0, 5);
    add(c, 0, 20);
    add(a, 10, 15);
    add(d, 0, 30);
    add(b, 5, 6);
    add(c, 20, 40);
    add(a, 15, 20);
    p.pools.give(chain_of(mixed));
    expect_sound(p);
    heap::SlabFigures fa = figures_of(p, a[20]);
    EXPECT_EQ(fa.free, 20u);
    EXPECT_EQ(fa.used, a.size() - 20);
    heap::SlabFigures fb = figures_of(p, b[6]);
    EXPECT_EQ(fb.free, 6u);
    EXPECT_EQ(fb.used, b.size() - 6);
    // c and d emptied their slabs: gone, or kept (one per pool).
    EXPECT_EQ(slabs_in_use(p), 2u + 2 * keep);
    // The rest of both slabs, again interleaved: both empty now, one kept
    // per pool.
    std::vector<heap::FreeBlock*> rest;
    for (std::size_t i = 0; i < a.size() || i < b.size(); ++i) {
      if (i >= 20 && i < a.size()) rest.push_back(a[i]);
      if (i >= 6 && i < b.size()) rest.push_back(b[i]);
    }
    ASSERT_EQ(rest.size(), a.size() - 20 + b.size() - 6);
    p.pools.give(chain_of(rest));
    expect_sound(p);
    EXPECT_EQ(slabs_in_use(p), 3 * keep);
    p.pools.trim();
    EXPECT_EQ(slabs_in_use(p), 0u);
  }
}

TEST(ClassPools, CheckNamesAFreeListThatEndsElsewhere) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 10, &chain), 10u);
  const std::vector<heap::FreeBlock*> blocks = blocks_in(chain);
  p.pools.give(chain_of({blocks.begin(), blocks.begin() + 4}));
  heap::Slab* slab = heap::slab_of(chain);
  const std::uint16_t tail = slab->free_tail;
  heap::set_free_tail(slab, blocks[2]);
  Message broken;
  EXPECT_FALSE(p.pools.check(broken.out));
  EXPECT_NE(broken.str().find("ends elsewhere"), std::string::npos)
      << broken.str();
  slab->free_tail = tail;
  expect_sound(p);
  p.pools.give(chain_of({blocks.begin() + 4, blocks.end()}));
}

TEST(ClassPools, CheckNamesABrokenSlab) {
  PrivatePools p({.lanes = 1});
  heap::FreeBlock* chain = nullptr;
  ASSERT_EQ(p.pools.take(0, kClass, 3, &chain), 3u);
  heap::Slab* slab = heap::slab_of(chain);
  --slab->used;  // one fewer in use than the blocks out
  Message broken;
  EXPECT_FALSE(p.pools.check(broken.out));
  EXPECT_NE(broken.str().find("in use + free != blocks carved"),
            std::string::npos)
      << broken.str();
  ++slab->used;
  p.pools.give(chain);
}

// Threads of two lanes take batches, hand half of each to a thread of the
// other lane, and give back what they got: every block goes back to its
// own pool, whoever gives it.
TEST(ClassPools, ThreadsOfTwoLanesTradeBlocks) {
  PrivatePools p({.lanes = 2});
  std::mutex traded_lock;
  std::vector<heap::FreeBlock*> traded;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::size_t lane = t % 2;
      for (int round = 0; round < 200; ++round) {
        const std::size_t size_class = (t + round) % 8;
        heap::FreeBlock* chain = nullptr;
        const std::size_t n = p.pools.take(lane, size_class, 32, &chain);
        ASSERT_EQ(n, 32u);
        heap::FreeBlock* keep = nullptr;
        std::vector<heap::FreeBlock*> blocks;
        while (chain != nullptr) {
          heap::FreeBlock* next = heap::next_of(chain);
          ASSERT_EQ(heap::shape_of(chain)->lane, lane);
          blocks.push_back(chain);
          chain = next;
        }
        for (std::size_t i = 0; i < blocks.size(); ++i) {
          if (i % 2 == 0) {
            heap::set_next(blocks[i], keep);
            keep = blocks[i];
          } else {
            std::lock_guard guard(traded_lock);
            traded.push_back(blocks[i]);
          }
        }
        p.pools.give(keep);
        std::vector<heap::FreeBlock*> mine;
        {
          std::lock_guard guard(traded_lock);
          mine.swap(traded);
        }
        for (heap::FreeBlock* b : mine) {
          heap::set_next(b, nullptr);
          p.pools.give(b);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (heap::FreeBlock* b : traded) {
    heap::set_next(b, nullptr);
    p.pools.give(b);
  }
  Message message;
  EXPECT_TRUE(p.pools.check(message.out)) << message.str();
  p.pools.trim();
  EXPECT_EQ(slabs_in_use(p), 0u);
}

}  // namespace
