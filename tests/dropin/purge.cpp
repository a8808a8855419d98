// Memory goes back to the kernel after a delay, with no call from the
// program: a 1 GiB working set of small and large blocks is built, touched,
// freed, and then the program only sleeps, watching its resident set. It
// waits for the purger's rounds (rulloc_purge_rounds()), never for a
// clock: what was freed before round N is back by round N + 2, however
// slow the machine (CTest's timeout ends a purger that never comes).
//   purge MODE   MODE = delayed: RSS under 100 MB three rounds after the
//                                frees, done by the purger's thread;
//                       busy:    the same while the program keeps using
//                                the engine's buckets (a big and a medium
//                                block allocated and freed every 50 ms);
//                       now:     under 100 MB right after the frees;
//                       off:     no round in a second, and the small half
//                                (512 MiB) still resident: without the
//                                purger nothing purges it, so the test
//                                can fail.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

bool purger_thread_exists() {
  DIR* tasks = opendir("/proc/self/task");
  REQUIRE(tasks != nullptr);
  bool found = false;
  while (dirent* entry = readdir(tasks)) {
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name +
                       "/comm");
    std::string name;
    if (comm && std::getline(comm, name) && name == "rulloc-purge")
      found = true;
  }
  closedir(tasks);
  return found;
}

void* volatile sink;

}  // namespace

int main(int argc, char** argv) {
  require_rulloc();
  REQUIRE(argc == 2);
  const std::string mode = argv[1];
  std::mt19937_64 random(42);
  std::vector<void*> blocks;
  blocks.reserve(2'000'000);
  std::size_t small_total = 0, large_total = 0;
  // Half in small blocks (16 B .. 1 KiB), half in large ones (64 KiB .. 4 MiB).
  while (small_total < 512 * kMiB) {
    const std::size_t size = 16 + random() % 1009;
    void* p = std::malloc(size);
    REQUIRE(p != nullptr);
    std::memset(p, 0x5A, size);
    blocks.push_back(p);
    small_total += size;
  }
  while (large_total < 512 * kMiB) {
    const std::size_t size = 64 * 1024 + random() % (4 * kMiB);
    void* p = std::malloc(size);
    REQUIRE(p != nullptr);
    std::memset(p, 0xA5, size);
    blocks.push_back(p);
    large_total += size;
  }
  const std::size_t peak = resident_bytes();
  std::printf("working set: %zu MiB small + %zu MiB large, RSS %zu MiB\n",
              small_total / kMiB, large_total / kMiB, peak / kMiB);
  REQUIRE(peak > 1000 * kMiB);
  std::shuffle(blocks.begin(), blocks.end(), random);
  for (void* p : blocks) std::free(p);
  std::vector<void*>().swap(blocks);
  sink = nullptr;

  const auto start = std::chrono::steady_clock::now();
  const unsigned long long first_round = dropin_purge_rounds();
  std::size_t rss = resident_bytes();
  std::printf("after the frees: RSS %zu MiB\n", rss / kMiB);
  if (mode == "now") {
    CHECK(rss < 100 * kMiB);
    return dropin_finish("purge now");
  }
  const bool purging = mode == "delayed" || mode == "busy";
  // Purging: three rounds. Off: a second, in which no round may come.
  auto waiting = [&] {
    if (purging) return dropin_purge_rounds() < first_round + 3;
    return std::chrono::steady_clock::now() - start < std::chrono::seconds(1);
  };
  while (waiting()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (mode == "busy") {
      for (std::size_t size : {300 * 1024, 64 * 1024}) {
        void* p = std::malloc(size);
        REQUIRE(p != nullptr);
        std::memset(p, 0x33, size);
        sink = p;
        std::free(p);
      }
    }
  }
  rss = resident_bytes();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("after %llu rounds (%.2f s): RSS %zu MiB\n",
              dropin_purge_rounds() - first_round, seconds, rss / kMiB);
  if (purging) {
    CHECK(purger_thread_exists());
    CHECK(rss < 100 * kMiB);
  } else {
    CHECK(!purger_thread_exists());
    CHECK(dropin_purge_rounds() == 0);
    CHECK(rss > 400 * kMiB);
  }
  return dropin_finish(("purge " + mode).c_str());
}
