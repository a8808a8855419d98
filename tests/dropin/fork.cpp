// fork() while other threads allocate, run with librulloc.so preloaded. The
// child allocates and frees in every bucket, then _exit(0)s; the parent waits
// with a timeout, so a heap lock left held across fork fails the test rather
// than hanging it.
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace {

std::atomic<bool> stop{false};
std::atomic<long> churned{0};

// Allocates and frees in every size range, so every bucket lock is taken
// again and again.
void churn(unsigned seed) {
  std::vector<void*> held(64, nullptr);
  while (!stop.load(std::memory_order_relaxed)) {
    seed = seed * 1103515245u + 12345u;
    std::size_t slot = (seed >> 4) % held.size();
    std::free(held[slot]);
    std::size_t size;
    switch ((seed >> 12) % 4) {
      case 0:
        size = (seed >> 16) % 128;
        break;
      case 1:
        size = (seed >> 16) % 2048;
        break;
      case 2:
        size = (seed >> 16) % 70000;
        break;
      default:
        size = (seed >> 16) % 600000;
        break;
    }
    held[slot] = std::malloc(size);
    if (held[slot] != nullptr)
      std::memset(held[slot], 1, size < 64 ? size : 64);
    if ((seed >> 20) % 8 == 0) {
      void* p = nullptr;
      if (posix_memalign(&p, 4096, 100) == 0) std::free(p);
      delete new std::string(200, 'x');
    }
    churned.fetch_add(1, std::memory_order_relaxed);
  }
  for (void* p : held) std::free(p);
}

// What the child does: a bit of everything, then _exit.
[[noreturn]] void child(int round) {
  std::vector<void*> blocks;
  for (std::size_t size = 1; size < 400000; size = size * 3 + 1) {
    for (int i = 0; i < 3; ++i) {
      void* p = std::malloc(size);
      if (p == nullptr) _exit(3);
      std::memset(p, round & 0xFF, size < 4096 ? size : 4096);
      blocks.push_back(p);
    }
  }
  for (std::size_t i = 0; i < blocks.size(); i += 2) {
    blocks[i] = std::realloc(blocks[i], 5000);
    if (blocks[i] == nullptr) _exit(4);
  }
  for (void* p : blocks) std::free(p);
  std::vector<std::string> strings;
  for (int i = 0; i < 300; ++i) strings.push_back(std::to_string(i) + "...");
  void* aligned = nullptr;
  if (posix_memalign(&aligned, 65536, 1000) != 0) _exit(5);
  std::free(aligned);
  // The child can start threads of its own, which allocate too.
  std::thread t([] {
    for (int i = 0; i < 1000; ++i)
      std::free(std::malloc(static_cast<std::size_t>(i) * 7));
  });
  t.join();
  _exit(0);
}

// Waits up to `seconds` for `pid`; kills it and reports a hang otherwise.
int wait_with_timeout(pid_t pid, double seconds) {
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = static_cast<double>(now.tv_sec - start.tv_sec) +
                     static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
    if (elapsed > seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    usleep(1000);
  }
}

}  // namespace

int main() {
  require_rulloc();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < 3; ++i) threads.emplace_back(churn, i * 7919 + 1);
  while (churned.load() < 1000) usleep(100);

  constexpr int kForks = 80;
  int hung = 0, failed = 0;
  for (int round = 0; round < kForks; ++round) {
    // Fork from the main thread, and every third time from a new thread.
    pid_t pid = -1;
    if (round % 3 == 2) {
      std::thread forker([&] {
        pid = fork();
        if (pid == 0) child(round);
      });
      forker.join();
    } else {
      pid = fork();
      if (pid == 0) child(round);
    }
    REQUIRE(pid > 0);
    int status = wait_with_timeout(pid, 20.0);
    if (status == -2) {
      ++hung;
      std::fprintf(stderr, "fork: child %d of round %d hung (killed)\n",
                   static_cast<int>(pid), round);
    } else if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
      std::fprintf(stderr, "fork: child of round %d ended with status %d\n",
                   round, status);
    }
    if (hung > 0) break;  // one hang is enough to know
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  CHECK(hung == 0);
  CHECK(failed == 0);
  CHECK(churned.load() > 1000);
  std::printf("fork: %d forks, %ld allocations by the other threads\n", kForks,
              churned.load());
  return dropin_finish("fork");
}
