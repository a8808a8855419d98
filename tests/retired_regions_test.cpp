// The ring of retired regions (src/core/retired_regions.*): a retired range
// is recognised while it is among the last ones, no new mapping takes it
// meanwhile, and retiring from many threads at once never touches a range
// that was mapped again in between.
#include "core/retired_regions.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "platform/platform.hpp"

namespace {

namespace retired = rulloc::core::retired_regions;
namespace platform = rulloc::platform;

TEST(RetiredRegions, ARetiredRangeIsRecognisedAndNotMappedAgain) {
  const std::size_t page = platform::page_size();
  void* region = platform::map(4 * page);
  ASSERT_NE(region, nullptr);
  auto* bytes = static_cast<std::byte*>(region);
  ASSERT_TRUE(retired::retire(region, 4 * page));
  EXPECT_TRUE(retired::contains(bytes));
  EXPECT_TRUE(retired::contains(bytes + 4 * page - 1));
  EXPECT_FALSE(retired::contains(bytes + 4 * page));
  // While it is reserved, fresh mappings land elsewhere.
  std::vector<void*> fresh;
  for (int i = 0; i < 64; ++i) {
    void* other = platform::map(4 * page);
    ASSERT_NE(other, nullptr);
    EXPECT_NE(other, region);
    fresh.push_back(other);
  }
  for (void* other : fresh) platform::unmap(other, 4 * page);
  EXPECT_TRUE(retired::release_all());
  EXPECT_FALSE(retired::contains(bytes));
}

TEST(RetiredRegions, OnlyTheLastFewStayReserved) {
  // The kernel may hand an unmapped range out again, so count distinct
  // ranges: at most a ring's worth are still recognised, the last one is.
  const std::size_t page = platform::page_size();
  std::set<void*> ranges;
  void* last = nullptr;
  for (int i = 0; i < 64; ++i) {
    last = platform::map(page);
    ASSERT_NE(last, nullptr);
    ASSERT_TRUE(retired::retire(last, page));
    ranges.insert(last);
  }
  std::size_t recognised = 0;
  for (void* range : ranges) recognised += retired::contains(range) ? 1 : 0;
  EXPECT_TRUE(retired::contains(last));
  EXPECT_GE(recognised, 1u);
  EXPECT_LE(recognised, 16u);
  retired::release_all();
}

// Threads map a page, fill it, check it and retire it, over and over, so the
// ring wraps around many times while other threads are between recording a
// range and giving its pages back. Were a range evicted (unmapped) before its
// own retire reached the kernel, that retire would strike a page another
// thread has just mapped: its pattern would vanish, or writing it would
// fault.
TEST(RetiredRegions, ConcurrentRetiresNeverTouchALiveMapping) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 3000;
  const std::size_t page = platform::page_size();
  std::atomic<int> damaged{0};
  std::atomic<int> refused{0};
  auto worker = [&](int t) {
    for (int round = 0; round < kRounds; ++round) {
      void* region = platform::map(page);
      if (region == nullptr) {
        refused.fetch_add(1);
        continue;
      }
      const auto pattern = static_cast<unsigned char>(t * 31 + round);
      std::memset(region, pattern, page);
      std::this_thread::yield();
      const auto* bytes = static_cast<const unsigned char*>(region);
      if (bytes[0] != pattern || bytes[page - 1] != pattern) {
        damaged.fetch_add(1);
      }
      if (!retired::retire(region, page)) refused.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(damaged.load(), 0);
  EXPECT_EQ(refused.load(), 0);
  retired::release_all();
}

}  // namespace
