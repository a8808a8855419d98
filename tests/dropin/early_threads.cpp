// Threads started from a constructor, before main, that allocate at once:
// with librulloc.so preloaded (dropin.preload.early_threads) and with
// librulloc-malloc.a linked in (dropin.static.early_threads, where the first
// malloc of the process may well be one of these threads').
#include <malloc.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"

namespace {

constexpr int kThreads = 8;
pthread_t threads[kThreads];
std::atomic<int> waiting{0};
std::atomic<long> bad{0};
std::atomic<long> done{0};

void* work(void* arg) {
  const auto id = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(arg));
  // Start together, so the first allocations race each other.
  waiting.fetch_add(1);
  while (waiting.load() < kThreads) {
  }
  std::vector<std::string> strings;
  void* blocks[64] = {};
  for (unsigned i = 0; i < 20000; ++i) {
    unsigned slot = (i * 7 + id) % 64;
    if (blocks[slot] != nullptr) {
      if (static_cast<unsigned char*>(blocks[slot])[0] != (slot ^ id)) ++bad;
      std::free(blocks[slot]);
    }
    std::size_t size = (i * 37 + id * 101) % 5000 + 1;
    blocks[slot] = std::malloc(size);
    if (blocks[slot] == nullptr) {
      ++bad;
      continue;
    }
    std::memset(blocks[slot], static_cast<int>(slot ^ id), size);
    if (i % 100 == 0) strings.emplace_back(i % 1000, 'e');
  }
  for (void* p : blocks) std::free(p);
  done.fetch_add(1);
  return nullptr;
}

// Runs before main (and, statically linked, before most of the C runtime
// has had reason to call malloc).
__attribute__((constructor(101))) void start_threads() {
  for (int i = 0; i < kThreads; ++i) {
    pthread_create(&threads[i], nullptr, work,
                   reinterpret_cast<void*>(static_cast<std::uintptr_t>(i)));
  }
}

}  // namespace

int main() {
  for (pthread_t& t : threads) REQUIRE(pthread_join(t, nullptr) == 0);
  CHECK(done.load() == kThreads);
  CHECK(bad.load() == 0);
  // Checked once the threads are gone: their figures are added to the
  // process-wide ones at unpredictable times while they run.
#ifdef DROPIN_STATIC
  // Linked in, not preloaded: malloc is the program's own.
  rulloc_malloc_stats s0, s1;
  REQUIRE(rulloc_get_malloc_stats(&s0) == 0);
  CHECK(s0.allocations >= kThreads * 20000);
  void* p = escape(std::malloc(10));
  REQUIRE(rulloc_get_malloc_stats(&s1) == 0);
  CHECK(s1.allocations == s0.allocations + 1);
  std::free(p);
#else
  require_rulloc();
  CHECK(dropin_stats().allocations >= kThreads * 20000);
#endif
  return dropin_finish("early threads");
}
