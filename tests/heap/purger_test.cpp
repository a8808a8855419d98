// The purger (heap/purger.hpp) on a test clock and private segments: which
// slabs a round purges, when frees run rounds (the clock, not a sleep, says
// when one is due), the slabs pools keep given back, delays of 0 and
// "off", mallopt's change of the delay, one round at a time (the
// try-flag), none after stop(), when its thread is started, and threads
// freeing at once while the clock moves.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "heap/class_pool.hpp"
#include "heap/purger.hpp"
#include "heap/segments.hpp"
#include "heap/slab.hpp"
#include "parts.hpp"

namespace {

namespace heap = rulloc::heap;
using heap::testing::PrivateSegments;

// The test clock, in milliseconds: moved by the tests only.
std::atomic<unsigned long long> now{0};
unsigned long long test_clock() noexcept { return now.load(); }

// What the purger asked of the heap around it.
struct Calls {
  std::atomic<int> trims{0};
  std::atomic<int> starts{0};
  std::atomic<int> inside{0};  // rounds in the engine's trim at once
  std::atomic<bool> overlapped{false};
  heap::Purger* purger = nullptr;
  bool nested_round_ran = true;
};

heap::PurgerConfig config(Calls& calls, long delay_ms) {
  now = 1000;
  heap::PurgerConfig c;
  c.delay_ms = delay_ms;
  c.thread_allowed = true;
  c.now_ms = test_clock;
  c.context = &calls;
  c.trim_engine = [](void* context) noexcept {
    auto* calls = static_cast<Calls*>(context);
    if (calls->inside.fetch_add(1) != 0) calls->overlapped = true;
    calls->trims.fetch_add(1);
    calls->inside.fetch_sub(1);
  };
  c.start_thread = [](void* context) noexcept {
    static_cast<Calls*>(context)->starts.fetch_add(1);
    return true;
  };
  c.live_threads = [](void*) noexcept { return 1L; };
  return c;
}

TEST(Purger, ARoundPurgesTheSlabsFreedBeforeTheLastTick) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 100));
  std::vector<heap::Slab*> slabs;
  for (int i = 0; i < 2; ++i) slabs.push_back(segments.take_slab(1));
  segments.give_back_slab(slabs[0]);  // before round 1
  EXPECT_TRUE(purger.run_round());    // round 1: kept (not a tick old)
  EXPECT_EQ(segments.stats().dirty_slabs, 1u);
  segments.give_back_slab(slabs[1]);  // between rounds 1 and 2
  EXPECT_TRUE(purger.run_round());    // round 2: the first is purged
  EXPECT_EQ(segments.stats().dirty_slabs, 1u);
  EXPECT_TRUE(purger.run_round());  // round 3: the second
  EXPECT_EQ(segments.stats().dirty_slabs, 0u);
  EXPECT_EQ(purger.rounds(), 3u);
  EXPECT_EQ(calls.trims.load(), 3);  // the engine trimmed every round
}

// The pools a round's trim_pools trims (the hook's context is `Calls`).
heap::ClassPools* pools_to_trim = nullptr;

// A slab a pool keeps empty goes back in a round, with its pages; a later
// round purges it like any slab given back.
TEST(Purger, ARoundGivesBackTheSlabsPoolsKeepAndALaterOnePurgesThem) {
  heap::testing::PrivatePools p({.lanes = 1, .keep_empty = 1});
  Calls calls;
  heap::PurgerConfig c = config(calls, 100);
  pools_to_trim = &p.pools;
  c.trim_pools = [](void*) noexcept { pools_to_trim->trim(); };
  heap::Purger purger(p.segments, c);
  heap::FreeBlock* block = nullptr;
  ASSERT_EQ(p.pools.take(0, 3, 1, &block), 1u);
  p.pools.give(block);
  EXPECT_EQ(p.pools.kept_empty(), 1u);
  EXPECT_EQ(p.segments.stats().slabs_in_use, 1u);
  EXPECT_TRUE(purger.run_round());
  EXPECT_EQ(p.pools.kept_empty(), 0u);
  EXPECT_EQ(p.segments.stats().slabs_in_use, 0u);
  EXPECT_EQ(p.segments.stats().dirty_slabs, 1u);
  EXPECT_TRUE(purger.run_round());
  EXPECT_TRUE(purger.run_round());
  EXPECT_EQ(p.segments.stats().dirty_slabs, 0u);
}

// Moves the test clock on by `ms`, frees 100 bytes, and returns the rounds
// run so far.
std::uint64_t free_after(heap::Purger& purger, unsigned long long ms) {
  now += ms;
  purger.note_freed(100);
  return purger.rounds();
}

TEST(Purger, FreesRunARoundWhenTheClockSaysOneIsDue) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 100));  // a tick: 50 ms
  EXPECT_EQ(free_after(purger, 0), 0u);
  EXPECT_EQ(free_after(purger, 49), 0u);
  EXPECT_EQ(free_after(purger, 1), 1u);
  free_after(purger, 0);  // the next is due a tick later
  EXPECT_EQ(free_after(purger, 49), 1u);
  EXPECT_EQ(free_after(purger, 1), 2u);
  // A clock far ahead: one round, not one per tick missed.
  free_after(purger, 10000);
  EXPECT_EQ(free_after(purger, 0), 3u);
  EXPECT_EQ(calls.starts.load(), 0);  // never from a small free
}

TEST(Purger, DelaysOfZeroAndOffRunNoRound) {
  for (long delay : {0L, -1L}) {
    PrivateSegments segments;
    Calls calls;
    heap::Purger purger(segments, config(calls, delay));
    for (int i = 0; i < 10; ++i) {
      now += 100000;
      purger.note_freed(std::size_t{64} << 20);
    }
    EXPECT_EQ(purger.rounds(), 0u) << delay;
    purger.before_thread_create();
    EXPECT_EQ(calls.starts.load(), 0) << delay;
    // mallopt cannot turn either into a delay.
    EXPECT_FALSE(purger.set_delay(100)) << delay;
    EXPECT_EQ(purger.delay_ms(), delay);
  }
}

TEST(Purger, SetDelayChangesTheTick) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 1000));
  EXPECT_FALSE(purger.set_delay(0));
  EXPECT_FALSE(purger.set_delay(-5));
  EXPECT_FALSE(purger.set_delay(86400001));
  EXPECT_TRUE(purger.set_delay(20));  // a tick of 10 ms from the next round
  now += 500;                         // the round set up at 1000 ms is due
  purger.note_freed(1);
  EXPECT_EQ(purger.rounds(), 1u);
  now += 10;
  purger.note_freed(1);
  EXPECT_EQ(purger.rounds(), 2u);
}

// A round that finds another running does nothing and says so.
TEST(Purger, OneRoundAtATime) {
  PrivateSegments segments;
  Calls calls;
  heap::PurgerConfig c = config(calls, 100);
  c.trim_engine = [](void* context) noexcept {
    auto* calls = static_cast<Calls*>(context);
    calls->trims.fetch_add(1);
    // From inside a round: the flag is taken.
    calls->nested_round_ran = calls->purger->run_round();
  };
  heap::Purger purger(segments, c);
  calls.purger = &purger;
  EXPECT_TRUE(purger.run_round());
  EXPECT_FALSE(calls.nested_round_ran);
  EXPECT_EQ(purger.rounds(), 1u);
  EXPECT_EQ(segments.purge_epoch(), 1u);  // the nested one left no trace
  EXPECT_EQ(calls.trims.load(), 1);
  // After a fork the child's flag is free, whatever the parent's thread did.
  purger.after_fork_in_child();
  EXPECT_TRUE(purger.run_round());
}

// At exit: no round from then on, from a free or the thread alike.
TEST(Purger, NoRoundAfterStop) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 100));
  EXPECT_TRUE(purger.run_round());
  purger.stop();
  EXPECT_FALSE(purger.run_round());
  now += 1000;
  purger.note_freed(100);
  EXPECT_EQ(purger.rounds(), 1u);
  EXPECT_EQ(calls.trims.load(), 1);
}

TEST(Purger, TheThreadStartsOnceWhenTheProgramCreatesOne) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 100));
  purger.before_thread_create();
  purger.before_thread_create();
  EXPECT_EQ(calls.starts.load(), 1);
  // The child of a fork has no purger thread: it starts one again.
  purger.after_fork_in_child();
  purger.before_thread_create();
  EXPECT_EQ(calls.starts.load(), 2);

  Calls refused;
  heap::PurgerConfig c = config(refused, 100);
  c.thread_allowed = false;  // RULLOC_PURGE_THREAD=0
  heap::Purger without(segments, c);
  without.before_thread_create();
  EXPECT_EQ(refused.starts.load(), 0);
}

TEST(Purger, TheThreadRunsRoundsAndLeavesWithTheLastThread) {
  PrivateSegments segments;
  Calls calls;
  static std::atomic<long> alive{1};
  heap::PurgerConfig c = config(calls, 2);  // a tick of 1 ms, slept for real
  c.live_threads = [](void*) noexcept { return alive.load(); };
  heap::Purger purger(segments, c);
  std::thread thread([&] { purger.loop(); });
  while (purger.rounds() < 3) std::this_thread::yield();
  EXPECT_TRUE(purger.thread_runs());
  alive = 0;  // the program's last thread is gone: the loop ends
  thread.join();
  EXPECT_FALSE(purger.thread_runs());
  EXPECT_GE(calls.trims.load(), 3);
}

// Threads free at once while the clock moves: rounds never overlap, and
// there is at most one per tick the clock moved.
TEST(Purger, ThreadsFreeingAtOnceRunOneRoundAtATime) {
  PrivateSegments segments;
  Calls calls;
  heap::Purger purger(segments, config(calls, 10));  // a tick: 5 ms
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        heap::Slab* slab = segments.take_slab(2);
        ASSERT_NE(slab, nullptr);
        segments.give_back_slab(slab);
        purger.note_freed(heap::kSlabBytes);
      }
    });
  }
  for (int tick = 0; tick < 200; ++tick) {
    // Read before the clock moves: the tick's round may end at once.
    const std::uint64_t before = purger.rounds();
    now += 5;
    while (purger.rounds() == before) std::this_thread::yield();
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(calls.overlapped.load());
  EXPECT_EQ(purger.rounds(), 200u);
  EXPECT_EQ(calls.trims.load(), 200);
}

}  // namespace
