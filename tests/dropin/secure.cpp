// What secure mode (librulloc-secure.so) adds, each case in a forked child
// where a fault or an abort is the expected outcome:
//   guard        writing past the last block of a slab hits a guard page;
//   random       blocks of a fresh slab come in no predictable order;
//   encoded      a free block's link is not the plain address of the next;
//   link-smash   a link overwritten after free stops the program with
//                "rulloc: malloc(<block>): free list corrupted ...";
//   canary-smash a free block written after free stops the program with
//                "rulloc: malloc(<block>): free block written after free";
//   link-flip    one bit of a link flipped after free (it then leads 16
//                bytes into the next block, inside the slab): the program
//                stops with a report before that address is handed out.
// Exit status 0: the protection works. 3, after "CASE: not caught: ...":
// the protection is missing and nothing else went wrong (what librulloc.so
// must give, so a test on it shows each case can fail, and for that reason
// only). 1: any other failure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

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

// A child's wait status and everything it wrote on stdout and stderr.
struct Outcome {
  int status;
  std::string output;
};

// Exit statuses of a child that did not die.
constexpr int kSurvived = 3;  // the misuse went through unnoticed
constexpr int kNoTarget = 4;  // the setup failed: nothing was tested

// Runs `body` in a child whose stdout and stderr go to a pipe; the child
// exits with `body`'s status unless it dies first. Its output is shown.
template <typename Body>
Outcome in_child(Body body) {
  std::fflush(stdout);
  std::fflush(stderr);
  int pipe_ends[2];
  REQUIRE(pipe(pipe_ends) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(pipe_ends[0]);
    dup2(pipe_ends[1], STDOUT_FILENO);
    dup2(pipe_ends[1], STDERR_FILENO);
    close(pipe_ends[1]);
    const int status = body();
    std::fflush(stdout);
    _exit(status);
  }
  close(pipe_ends[1]);
  Outcome outcome{0, ""};
  char buffer[4096];
  ssize_t got;
  while ((got = read(pipe_ends[0], buffer, sizeof(buffer))) > 0) {
    outcome.output.append(buffer, static_cast<std::size_t>(got));
  }
  close(pipe_ends[0]);
  REQUIRE(waitpid(child, &outcome.status, 0) == child);
  std::printf("--- child's output:\n%s--- end of child's output\n",
              outcome.output.c_str());
  return outcome;
}

bool has_line(const std::string& output, const std::string& line) {
  return ("\n" + output).find("\n" + line + "\n") != std::string::npos;
}

// Set when a protection is missing; main then exits with kSurvived.
std::string missing;

void not_caught(std::string what) {
  std::printf("%s\n", what.c_str());
  missing = std::move(what);
}

bool died_by(int status, int signal) {
  return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

void guard() {
  // 4 KiB blocks: the last one of a slab ends where the guard page starts.
  // Find one whose next page is not another block of ours.
  const Outcome child = in_child([] {
    for (int i = 0; i < 4096; ++i) {
      auto* p = static_cast<char*>(launder(std::malloc(4096)));
      REQUIRE(p != nullptr);
      std::memset(p, 1, 4096);
      if ((addr(p) + 4096) % 65536 == 65536 - 4096) {
        std::printf("writing past %p\n", static_cast<void*>(p));
        std::fflush(stdout);
        auto* past = static_cast<volatile char*>(launder(p + 4096));
        *past = 1;  // the guard page
        return kSurvived;
      }
    }
    std::printf("no block before a guard\n");
    return kNoTarget;
  });
  if (WIFEXITED(child.status) && WEXITSTATUS(child.status) == kSurvived) {
    not_caught("guard: not caught: the write past the slab's end went on");
    return;
  }
  // The fault is the write's: the child got that far.
  CHECK(died_by(child.status, SIGSEGV));
  CHECK(child.output.find("writing past 0x") != std::string::npos);
}

// 255 blocks of one class in a row: right after the one before in address
// order far more often than a shuffle gives (a quarter of the time is well
// above what a shuffled batch of 8 shows). 2 KiB blocks too: a big class's
// carved batches hold few blocks, and must still be shuffled.
void random_order() {
  constexpr int kBlocks = 256;
  for (const std::size_t size : {std::size_t{208}, std::size_t{2048}}) {
    int ascending = 0;
    char* last = nullptr;
    for (int i = 0; i < kBlocks; ++i) {
      auto* p = static_cast<char*>(std::malloc(size));
      REQUIRE(p != nullptr);
      sink = p;
      if (last != nullptr && p == last + size) ++ascending;
      last = p;
    }
    std::printf("%zu bytes: %d of %d blocks right after the one before\n", size,
                ascending, kBlocks - 1);
    if (ascending >= kBlocks / 4) {
      not_caught("random: not caught: blocks come in address order");
    }
  }
}

// Two 64-byte blocks, freed b first: a heads the free list, its link
// leading to b.
struct FreedPair {
  std::uintptr_t* a;
  std::uintptr_t* b;
};

FreedPair freed_pair() {
  auto* a = static_cast<std::uintptr_t*>(std::malloc(64));
  auto* b = static_cast<std::uintptr_t*>(std::malloc(64));
  sink = a;
  sink = b;
  std::free(b);
  std::free(a);
  return {a, b};
}

void encoded() {
  const auto [a, b] = freed_pair();
  const std::uintptr_t raw = *static_cast<volatile std::uintptr_t*>(a);
  std::printf("a %p, b %p, a's link word %#zx\n", static_cast<void*>(a),
              static_cast<void*>(b), static_cast<std::size_t>(raw));
  if (raw == addr(b)) {
    not_caught("encoded: not caught: the link is the next block's address");
    return;
  }
  // Not near any block of the heap either.
  CHECK(raw - addr(a) > (std::uintptr_t{1} << 32) &&
        addr(a) - raw > (std::uintptr_t{1} << 32));
}

// Overwrites word `word` of a free block (its link or its canary) and
// mallocs until that block would come back: secure mode stops the program
// then, naming the block.
void smash(const char* name, std::size_t word, const char* problem) {
  const Outcome child = in_child([word] {
    std::uintptr_t* const a = freed_pair().a;
    std::printf("smashed %p\n", static_cast<void*>(a));
    std::fflush(stdout);
    // A write after free, as a dangling pointer would do.
    static_cast<volatile std::uintptr_t*>(a)[word] = 0x4141414141414141u;
    // Without the check, the block comes back as if nothing happened (and a
    // smashed link would be followed by the next malloc: stop before).
    for (int i = 0; i < 4; ++i) {
      if (launder(std::malloc(64)) == a) return kSurvived;
    }
    std::printf("the smashed block never came back\n");
    return kNoTarget;
  });
  if (WIFEXITED(child.status) && WEXITSTATUS(child.status) == kSurvived) {
    not_caught(std::string(name) +
               ": not caught: malloc handed out the smashed block");
    return;
  }
  CHECK(died_by(child.status, SIGABRT));
  const std::string key = "smashed ";
  const std::size_t at = child.output.find(key);
  REQUIRE(at != std::string::npos);
  const std::string block = child.output.substr(
      at + key.size(), child.output.find('\n', at) - at - key.size());
  const std::string report = "rulloc: malloc(" + block + "): " + problem;
  std::printf("expecting the line: %s\n", report.c_str());
  CHECK(has_line(child.output, report));
}

// a's link leads to b; bit 4 of it flipped leads 16 bytes into b, a place
// a link check that only asks "inside a slab?" lets through: the canary
// check must stop the program before malloc hands that place out.
void link_flip() {
  const Outcome child = in_child([] {
    const auto [a, b] = freed_pair();
    const std::uintptr_t inside = addr(b) ^ 16;
    std::printf("flipped %p, leading to %p\n", static_cast<void*>(a),
                reinterpret_cast<void*>(inside));
    std::fflush(stdout);
    auto* link = static_cast<volatile std::uintptr_t*>(a);
    *link = *link ^ 16;
    for (int i = 0; i < 4; ++i) {
      if (addr(launder(std::malloc(64))) == inside) return kSurvived;
    }
    std::printf("the flipped link was never followed\n");
    return kNoTarget;
  });
  if (WIFEXITED(child.status) && WEXITSTATUS(child.status) == kSurvived) {
    not_caught(
        "link-flip: not caught: malloc handed out a place inside a block");
    return;
  }
  CHECK(died_by(child.status, SIGABRT));
  const std::size_t at = child.output.find("flipped ");
  REQUIRE(at != std::string::npos);
  const std::string line =
      child.output.substr(at, child.output.find('\n', at) - at);
  const std::string a = line.substr(8, line.find(',') - 8);
  const std::string inside = line.substr(line.rfind(' ') + 1);
  std::printf("expecting a report naming %s or %s\n", a.c_str(),
              inside.c_str());
  CHECK(child.output.find("rulloc: malloc(" + a + "): ") != std::string::npos ||
        child.output.find("rulloc: malloc(" + inside + "): ") !=
            std::string::npos);
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
    smash("link-smash", 0, "free list corrupted (written after free?)");
  } else if (which == "link-flip") {
    link_flip();
  } else if (which == "canary-smash") {
    smash("canary-smash", 1, "free block written after free");
  } else {
    REQUIRE(!"unknown case");
  }
  const int status = dropin_finish(which.c_str());
  return status == 0 && !missing.empty() ? kSurvived : status;
}
