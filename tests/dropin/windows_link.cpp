// Windows: librulloc-malloc.a linked into a program (tests/dropin/
// windows.cmake). malloc, free, new, delete and the runtime's dllimport'ed
// heap calls (_msize, _aligned_malloc, ...) are rulloc's, which its own
// counters show; blocks the C runtime DLL allocated itself (_strdup,
// _getcwd) reach free(), realloc() and _msize() and go back to the
// runtime's heap, not to rulloc's, whose counters do not move. Threads
// allocate, free each other's blocks and exit (the exit hook), and the
// purger's thread starts from a free and runs rounds.
//
//   windows_link GROUP   (groups: below; none runs them all)
#include <direct.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rulloc/malloc.h"

namespace {

int failures = 0;

#define CHECK(condition)                                               \
  do {                                                                 \
    if (!(condition)) {                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
              #condition);                                             \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

rulloc_malloc_stats now() {
  rulloc_malloc_stats stats;
  rulloc_get_malloc_stats(&stats);
  return stats;
}

// The compiler must not pair a malloc with its free and drop both.
void* escape(void* pointer) {
  asm volatile("" : : "g"(pointer) : "memory");
  return pointer;
}

void malloc_family() {
  const rulloc_malloc_stats s0 = now();
  void* p = escape(malloc(1000));
  const rulloc_malloc_stats s1 = now();
  CHECK(p != nullptr && reinterpret_cast<uintptr_t>(p) % 16 == 0);
  CHECK(s1.allocations == s0.allocations + 1);
  CHECK(s1.bytes_in_use == s0.bytes_in_use + _msize(p));
  memset(p, 7, 1000);
  p = escape(realloc(p, 100000));
  CHECK(p != nullptr && static_cast<unsigned char*>(p)[999] == 7);
  CHECK(_msize(p) >= 100000);
  free(p);
  auto* zeroed = static_cast<unsigned char*>(escape(calloc(300, 7)));
  CHECK(zeroed != nullptr);
  bool all_zero = true;
  for (int i = 0; i < 2100; ++i) all_zero &= zeroed[i] == 0;
  CHECK(all_zero);
  free(zeroed);
  CHECK(calloc(SIZE_MAX / 2, 4) == nullptr && errno == ENOMEM);
  const rulloc_malloc_stats s2 = now();
  CHECK(s2.frees >= s1.frees + 3);
  CHECK(s2.allocations >= s1.allocations + 2);  // realloc moved, calloc
}

void runtime_calls() {
  // Declared dllimport: called through the import slots rulloc defines.
  const rulloc_malloc_stats s0 = now();
  void* a = _aligned_malloc(1000, 256);
  CHECK(a != nullptr && reinterpret_cast<uintptr_t>(a) % 256 == 0);
  CHECK(_msize(a) >= 1000);
  memset(a, 3, 1000);
  a = _aligned_realloc(a, 50000, 4096);
  CHECK(a != nullptr && reinterpret_cast<uintptr_t>(a) % 4096 == 0);
  CHECK(static_cast<unsigned char*>(a)[999] == 3);
  _aligned_free(a);
  CHECK(_aligned_malloc(10, 24) == nullptr && errno == EINVAL);
  auto* r = static_cast<unsigned char*>(_recalloc(nullptr, 10, 10));
  CHECK(r != nullptr && r[99] == 0);
  memset(r, 9, 100);
  r = static_cast<unsigned char*>(_recalloc(r, 100, 100));
  CHECK(r != nullptr && r[99] == 9 && r[9999] == 0 && r[5000] == 0);
  CHECK(_expand(r, _msize(r)) == r);
  CHECK(_expand(r, _msize(r) + (1 << 20)) == nullptr);
  free(r);
  const rulloc_malloc_stats s1 = now();
  CHECK(s1.allocations >= s0.allocations + 4);
  CHECK(s1.frees >= s0.frees + 4);
}

void runtime_blocks() {
  // The runtime DLL allocates these from its own heap.
  const rulloc_malloc_stats s0 = now();
  char* copy = _strdup("allocated inside the C runtime");
  char* directory = _getcwd(nullptr, 0);
  CHECK(copy != nullptr && directory != nullptr);
  CHECK(_msize(copy) >= 31);
  copy = static_cast<char*>(realloc(copy, 100000));
  CHECK(copy != nullptr && strcmp(copy, "allocated inside the C runtime") == 0);
  free(copy);
  free(directory);
  const rulloc_malloc_stats s1 = now();
  CHECK(s1.allocations == s0.allocations && s1.frees == s0.frees);
}

void new_delete() {
  const rulloc_malloc_stats s0 = now();
  auto* numbers = new std::vector<std::string>;
  for (int i = 0; i < 1000; ++i)
    numbers->push_back(std::string(40, 'a' + i % 26));
  struct alignas(128) Line {
    char bytes[128];
  };
  auto line = std::make_unique<Line>();
  CHECK(reinterpret_cast<uintptr_t>(line.get()) % 128 == 0);
  const rulloc_malloc_stats s1 = now();
  CHECK(s1.allocations >= s0.allocations + 1001);
  delete numbers;
  CHECK(now().frees >= s1.frees + 1000);
}

// 4 threads hand blocks to each other, then exit: their caches go back.
void threads() {
  constexpr int kThreads = 4, kBlocks = 20000;
  std::vector<std::vector<void*>> made(kThreads);
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&made, t] {
      for (int i = 0; i < kBlocks; ++i) {
        void* p = malloc(16 + (i * 37 + t) % 3000);
        memset(p, t, 16);
        made[t].push_back(p);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  workers.clear();
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&made, t] {
      for (void* p : made[(t + 1) % kThreads]) {
        if (*static_cast<unsigned char*>(p) != (t + 1) % kThreads) abort();
        free(p);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  char error[256];
  CHECK(rulloc_check(error, sizeof(error)) == 0);
  const rulloc_malloc_stats stats = now();
  CHECK(stats.allocations >= stats.frees);
}

// Freeing more than 8 MiB starts the purger's thread (Windows can start one
// from inside free); it runs rounds while this thread only sleeps.
void purger() {
  for (int i = 0; i < 64; ++i) free(escape(malloc(1 << 20)));
  for (int i = 0; i < 64; ++i) {
    void* blocks[100];
    for (void*& block : blocks) block = escape(malloc(40000));
    for (void* block : blocks) free(block);
  }
  const unsigned long long start = rulloc_purge_rounds();
  for (int waited = 0; rulloc_purge_rounds() < start + 3 && waited < 20000;
       waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(rulloc_purge_rounds() >= start + 3);
}

struct Group {
  const char* name;
  void (*run)();
};
constexpr Group kGroups[] = {{"malloc", malloc_family},
                             {"runtime_calls", runtime_calls},
                             {"runtime_blocks", runtime_blocks},
                             {"new_delete", new_delete},
                             {"threads", threads},
                             {"purger", purger}};

}  // namespace

int main(int argc, char** argv) {
  bool ran = false;
  for (const Group& group : kGroups) {
    if (argc < 2 || strcmp(argv[1], group.name) == 0) {
      group.run();
      ran = true;
    }
  }
  if (!ran) {
    fprintf(stderr, "windows_link: unknown group %s\n", argv[1]);
    return 2;
  }
  printf("%s: %d failed\n", argc < 2 ? "all" : argv[1], failures);
  return failures == 0 ? 0 : 1;
}
