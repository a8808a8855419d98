// What secure mode (librulloc-secure.so) adds, each case in a forked child
// so a fault or an abort is the expected outcome:
//   guard        writing past the last block of a slab hits a guard page;
//   random       blocks of a fresh slab come in no predictable order;
//   encoded      a free block's link is not the plain address of the next;
//   link-smash   a link overwritten after free stops the program;
//   canary-smash a free block written after free stops the program.
// Against librulloc.so, every case fails: the test can fail.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "check.h"

namespace {

void* volatile sink;

// The compiler must not see where a pointer comes from (it would warn).
void* launder(void* p) {
  sink = p;
  return sink;
}

std::uintptr_t addr(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// Runs `body` in a child; returns its wait status.
template <typename Body>
int in_child(Body body) {
  std::fflush(stdout);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    body();
    std::fflush(stdout);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  return status;
}

bool died_by(int status, int signal) {
  return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

void guard() {
  // 4 KiB blocks: the last one of a slab ends where the guard page starts.
  // Find one whose next page is not another block of ours.
  const int status = in_child([] {
    for (int i = 0; i < 4096; ++i) {
      auto* p = static_cast<char*>(launder(std::malloc(4096)));
      REQUIRE(p != nullptr);
      std::memset(p, 1, 4096);
      if ((addr(p) + 4096) % 65536 == 65536 - 4096) {
        std::printf("writing past %p\n", static_cast<void*>(p));
        std::fflush(stdout);
        auto* past = static_cast<volatile char*>(launder(p + 4096));
        *past = 1;  // the guard page
        std::printf("SURVIVED\n");
        return;
      }
    }
    std::printf("no block before a guard\n");
  });
  CHECK(died_by(status, SIGSEGV));
}

void random_order() {
  int ascending = 0;
  char* last = nullptr;
  for (int i = 0; i < 64; ++i) {
    auto* p = static_cast<char*>(std::malloc(200));
    REQUIRE(p != nullptr);
    sink = p;
    if (last != nullptr && p == last + 208) ++ascending;
    last = p;
  }
  std::printf("%d of 63 blocks right after the one before\n", ascending);
  CHECK(ascending < 16);
}

void encoded() {
  auto* a = static_cast<std::uintptr_t*>(std::malloc(64));
  auto* b = static_cast<std::uintptr_t*>(std::malloc(64));
  sink = a;
  sink = b;
  std::free(b);
  std::free(a);  // a's link now leads to b
  const std::uintptr_t raw = *static_cast<volatile std::uintptr_t*>(a);
  std::printf("a %p, b %p, a's link word %#zx\n", static_cast<void*>(a),
              static_cast<void*>(b), static_cast<std::size_t>(raw));
  CHECK(raw != addr(b));
  // Not near any block of the heap either.
  CHECK(raw - addr(a) > (std::uintptr_t{1} << 32) &&
        addr(a) - raw > (std::uintptr_t{1} << 32));
}

void smash(std::size_t word) {
  const int status = in_child([word] {
    auto* a = static_cast<std::uintptr_t*>(std::malloc(64));
    auto* b = static_cast<std::uintptr_t*>(std::malloc(64));
    sink = a;
    sink = b;
    std::free(b);
    std::free(a);
    // A write after free, as a dangling pointer would do.
    static_cast<volatile std::uintptr_t*>(a)[word] = 0x4141414141414141u;
    for (int i = 0; i < 4; ++i) sink = std::malloc(64);
    std::printf("SURVIVED\n");
  });
  CHECK(died_by(status, SIGABRT));
}

}  // namespace

int main(int argc, char** argv) {
  require_rulloc();
  REQUIRE(argc == 2);
  const std::string which = argv[1];
  if (which == "guard") {
    guard();
  } else if (which == "random") {
    random_order();
  } else if (which == "encoded") {
    encoded();
  } else if (which == "link-smash") {
    smash(0);
  } else if (which == "canary-smash") {
    smash(1);
  } else {
    REQUIRE(!"unknown case");
  }
  return dropin_finish(which.c_str());
}
