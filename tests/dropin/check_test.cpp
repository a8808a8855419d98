// rulloc_check(), rulloc_dump(), rulloc_stats_json() and rulloc_map_json()
// on the process heap
// (rulloc_heap with rulloc_heap_api, no override), in every build, TSan and
// ASan included: the check passes while 8 threads allocate, free and hand
// blocks to each other, and reports a slab broken by a test-only fault
// (heap_faults.hpp) with the expected message.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "heap/process_heap.hpp"
#include "heap/size_classes.hpp"
#include "heap/slab.hpp"
#include "heap_faults.hpp"
#include "rulloc/malloc.h"

namespace {

namespace heap = rulloc::heap;

std::string check_message() {
  char error[512];
  std::memset(error, 'x', sizeof(error));
  if (rulloc_check(error, sizeof(error)) == 0) return "";
  EXPECT_NE(std::memchr(error, '\0', sizeof(error)), nullptr);
  return error[0] != '\0' ? std::string(error) : std::string("(no message)");
}

// Blocks handed from one thread to another, so frees cross lanes.
struct Exchange {
  std::mutex mutex;
  std::vector<void*> blocks;
};

void churn(int id, Exchange& exchange, std::atomic<bool>& stop) {
  std::uint64_t state = 0x9E3779B97F4A7C15u * (id + 1);
  std::vector<void*> live;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  while (!stop.load(std::memory_order_relaxed)) {
    const std::uint64_t r = next();
    if (live.size() < 400 || r % 3 != 0) {
      std::size_t size = r % 4 == 0 ? 300000 + r % 100000 : 1 + r % 40000;
      if (r % 97 == 0) size = 1 + r % 3000000;
      void* p = heap::allocate(size, r % 11 == 0 ? 256 : 16, r % 5 == 0);
      if (p != nullptr) {
        static_cast<unsigned char*>(p)[0] = 1;
        live.push_back(p);
      }
    } else {
      const std::size_t i = r % live.size();
      void* p = live[i];
      live[i] = live.back();
      live.pop_back();
      if (r % 4 == 1) {
        std::lock_guard lock(exchange.mutex);
        exchange.blocks.push_back(p);
      } else if (r % 7 == 2) {
        void* q = heap::reallocate(p, 1 + r % 70000);
        live.push_back(q != nullptr ? q : p);
      } else {
        heap::release(p);
      }
    }
    if (r % 16 == 0) {
      std::vector<void*> taken;
      {
        std::lock_guard lock(exchange.mutex);
        taken.swap(exchange.blocks);
      }
      for (void* p : taken) heap::release(p);
    }
  }
  for (void* p : live) heap::release(p);
}

TEST(Check, PassesOnABusyEightThreadHeap) {
  Exchange exchange;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back(churn, i, std::ref(exchange), std::ref(stop));
  }
  std::vector<char> json(1 << 16);
  std::vector<char> map(1 << 20);
  for (int round = 0; round < 40; ++round) {
    ASSERT_EQ(check_message(), "") << "round " << round;
    const std::size_t length = rulloc_stats_json(json.data(), json.size());
    EXPECT_GT(length, 0u);
    const std::size_t map_length = rulloc_map_json(map.data(), map.size());
    EXPECT_EQ(std::strlen(map.data()),
              map_length < map.size() ? map_length : map.size() - 1);
    if (round % 10 == 0) {
      std::FILE* null = std::fopen("/dev/null", "w");
      ASSERT_NE(null, nullptr);
      rulloc_dump(fileno(null));
      std::fclose(null);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  for (void* p : exchange.blocks) heap::release(p);
  EXPECT_EQ(check_message(), "");
  heap::trim();
  EXPECT_EQ(check_message(), "");
}

TEST(Check, ReportsASlabWhoseCountIsBroken) {
  std::vector<void*> blocks;
  for (int i = 0; i < 64; ++i)
    blocks.push_back(heap::allocate(4000, 16, false));
  ASSERT_EQ(check_message(), "");
  rulloc::test_faults::shift_slab_count(blocks[0], -1);
  const std::string message = check_message();
  rulloc::test_faults::shift_slab_count(blocks[0], 1);
  EXPECT_NE(message.find("(class 4096 B, lane "), std::string::npos) << message;
  EXPECT_NE(message.find("blocks in use + free != blocks carved"),
            std::string::npos)
      << message;
  EXPECT_EQ(check_message(), "");
  for (void* p : blocks) heap::release(p);
  EXPECT_EQ(check_message(), "");
}

TEST(Check, ReportsACycleInASlabsFreeList) {
  // Enough 8 KiB blocks back to their slab that its free list is not empty:
  // more than a thread cache keeps.
  std::vector<void*> blocks;
  for (int i = 0; i < 200; ++i)
    blocks.push_back(heap::allocate(8000, 16, false));
  void* kept = blocks[0];
  for (std::size_t i = 1; i < blocks.size(); ++i) heap::release(blocks[i]);
  heap::trim();  // the cache's blocks back to their slabs
  ASSERT_EQ(check_message(), "");
  const std::uintptr_t link = rulloc::test_faults::loop_slab_free_list(kept);
  const std::string message = check_message();
  rulloc::test_faults::restore_link(kept, link);
  EXPECT_NE(message.find("free list has a cycle"), std::string::npos)
      << message;
  EXPECT_EQ(check_message(), "");
  heap::release(kept);
}

// A block in another thread's cache, which no lock guards: that thread
// checks its own cache when asked, at its next flush of counters, while it
// keeps allocating and freeing blocks of another class.
TEST(Check, ReportsABrokenBlockInAnotherThreadsCache) {
  const std::size_t size_class = heap::class_for_request(2000);
  std::atomic<int> phase{0};  // 1: broken, 2: checked, 3: sound again
  std::thread other([&] {
    auto keep_calling = [&](int while_phase) {
      while (phase.load() == while_phase) {
        heap::release(heap::allocate(100, 16, false));
      }
    };
    std::vector<void*> blocks;
    for (int i = 0; i < 8; ++i) {
      blocks.push_back(heap::allocate(2000, 16, false));
    }
    for (void* p : blocks) heap::release(p);  // into this thread's cache
    const std::uintptr_t canary =
        rulloc::test_faults::break_cached_block(size_class);
    phase = 1;
    keep_calling(1);
    rulloc::test_faults::restore_cached_block(size_class, canary);
    phase = 3;
    keep_calling(3);
  });
  while (phase.load() != 1) std::this_thread::yield();
  const std::string broken = check_message();
  phase = 2;
  while (phase.load() != 3) std::this_thread::yield();
  const std::string sound = check_message();
  phase = 4;
  other.join();
  EXPECT_NE(broken.find("another thread's cache (lane "), std::string::npos)
      << broken;
  EXPECT_NE(broken.find(") of class 2048 B: holds a block that is not a free "
                        "block of its class and lane"),
            std::string::npos)
      << broken;
  EXPECT_EQ(sound, "");
}

TEST(Check, CutsTheMessageToTheBuffer) {
  void* p = heap::allocate(100, 16, false);
  rulloc::test_faults::shift_slab_count(p, -1);
  char small[8];
  const int result = rulloc_check(small, sizeof(small));
  rulloc::test_faults::shift_slab_count(p, 1);
  EXPECT_NE(result, 0);
  EXPECT_EQ(std::strlen(small), sizeof(small) - 1);
  EXPECT_EQ(std::string(small), "slab 0x");
  heap::release(p);
}

TEST(StatsJson, NeedsItsLengthLikeSnprintf) {
  void* p = heap::allocate(1000, 16, false);
  const std::size_t needed = rulloc_stats_json(nullptr, 0);
  EXPECT_GT(needed, 100u);
  std::vector<char> buffer(needed + 1024);
  const std::size_t again = rulloc_stats_json(buffer.data(), buffer.size());
  EXPECT_EQ(std::strlen(buffer.data()), again);
  EXPECT_EQ(buffer[0], '{');
  EXPECT_NE(std::string(buffer.data()).find("\"resident\""), std::string::npos);
  heap::release(p);
}

TEST(MapJson, NeedsItsLengthLikeSnprintf) {
  void* small = heap::allocate(100, 16, false);
  void* big = heap::allocate(1 << 20, 16, false);
  const std::size_t needed = rulloc_map_json(nullptr, 0);
  std::vector<char> buffer(needed + 65536);
  const std::size_t again = rulloc_map_json(buffer.data(), buffer.size());
  // Nothing allocated in between: the same map, cut as snprintf cuts.
  char small_buffer[8];
  EXPECT_EQ(rulloc_map_json(small_buffer, sizeof(small_buffer)), again);
  EXPECT_STREQ(small_buffer, "{\"forma");
  const std::string map(buffer.data());
  EXPECT_EQ(map.size(), again);
  EXPECT_EQ(map.rfind("{\"format\": \"rulloc-map\", \"version\": 1", 0), 0u);
  EXPECT_EQ(map.back(), '\n');
  // The small block's segment is listed, a slab in use, the blocks' fields.
  // Written as the map writes pointers (base/text.hpp: 0x and hex digits),
  // which is not how every C library's %p does (msvcrt: 16 digits, no 0x).
  char address[32];
  std::snprintf(address, sizeof(address), "\"0x%llx\"",
                static_cast<unsigned long long>(
                    reinterpret_cast<std::uintptr_t>(heap::segment_of(small))));
  EXPECT_NE(map.find(address), std::string::npos) << address;
  EXPECT_NE(map.find("\"state\": \"used\""), std::string::npos);
  EXPECT_NE(map.find("\"block_fields\": [\"offset\", \"bytes\", \"free\", "
                     "\"purged\"]"),
            std::string::npos);
  heap::release(small);
  heap::release(big);
}

}  // namespace
