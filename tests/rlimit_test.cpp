// A real limit from the kernel: under RLIMIT_AS, allocation fails cleanly
// and works again once memory is freed. Runs in a child process (a death
// test) so the limit does not reach the other tests.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "platform/platform.hpp"
#include "rulloc/rulloc.hpp"

namespace {

std::size_t address_space_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (statm != nullptr) {
    if (std::fscanf(statm, "%lu", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  return pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Exit codes say which expectation broke.
[[noreturn]] void limited_workload() {
  constexpr std::size_t kBlock = 1 << 20;
  std::vector<void*> blocks;
  blocks.reserve(4096);  // no std allocation while the limit bites
  rulloc::Rulloc<> heap;
  rlimit limit{address_space_bytes() + (256u << 20), RLIM_INFINITY};
  if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(10);

  bool refused = false;
  for (int i = 0; i < 4096; ++i) {
    rulloc::Allocation a = heap.allocate({kBlock, 8});
    if (a.ptr == nullptr) {
      refused = a.size == 0;
      break;
    }
    std::memset(a.ptr, 1, 64);
    blocks.push_back(a.ptr);
  }
  if (!refused) _exit(11);
  if (blocks.size() < 64) _exit(12);
  if (!heap.check()) _exit(13);
  for (std::size_t i = 0; i < blocks.size(); i += 2) heap.deallocate(blocks[i]);
  rulloc::Allocation again = heap.allocate({kBlock, 8});
  if (again.ptr == nullptr) _exit(14);
  heap.deallocate(again.ptr);
  for (std::size_t i = 1; i < blocks.size(); i += 2) heap.deallocate(blocks[i]);
  for (const auto& bucket : heap.stats()) {
    if (bucket.regions != 0) _exit(15);
  }
  _exit(0);
}

// Room for a 4 MiB segment but not for the 4 MiB more that finding an
// aligned address in a larger mapping takes.
[[noreturn]] void map_aligned_in_tight_room() {
  constexpr std::size_t kSegment = std::size_t{4} << 20;
  rlimit limit{address_space_bytes() + kSegment + (kSegment / 2),
               RLIM_INFINITY};
  if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(10);
  void* mapped = rulloc::platform::map_aligned(kSegment, kSegment);
  if (mapped == nullptr) _exit(11);
  if (reinterpret_cast<std::uintptr_t>(mapped) % kSegment != 0) _exit(12);
  std::memset(mapped, 1, kSegment);
  if (!rulloc::platform::unmap(mapped, kSegment)) _exit(13);
  _exit(0);
}

TEST(RlimitAs, AnAlignedMappingNeedsRoomForItsLengthOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(map_aligned_in_tight_room(), ::testing::ExitedWithCode(0), "");
}

TEST(RlimitAs, AllocationFailsCleanlyAndRecovers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(limited_workload(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
