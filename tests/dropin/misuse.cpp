// Misuse that rulloc must catch: each case prints "POINTER <p>" (as %p) on
// stdout, then does the wrong thing with <p>. misuse.sh runs a case with
// librulloc.so preloaded and expects death by SIGABRT with
// "rulloc: <op>(<p>): <problem>" on stderr.
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "check.h"

namespace {

// The compiler must not see what is freed (it would warn, or fold the call).
void* volatile launder_slot;
void* launder(void* p) {
  launder_slot = p;
  return launder_slot;
}

void announce(const void* p) {
  std::printf("POINTER %p\n", p);
  std::fflush(stdout);
}

char global_buffer[256] = "a global buffer, not from malloc";
// A table of small numbers: the word below &table[3] is 64.
long global_table[4] = {1, 2, 64, 7};

}  // namespace

int main(int argc, char** argv) {
  require_rulloc();
  REQUIRE(argc == 2);
  const char* which = argv[1];
  // stdio allocates its buffer at the first printf: do that now, so the
  // buffer cannot take the place of a block freed below.
  std::printf("CASE %s\n", which);
  std::fflush(stdout);
  if (std::strcmp(which, "double-free") == 0) {
    void* p = launder(std::malloc(100));
    std::free(p);
    announce(p);
    std::free(launder(p));
  } else if (std::strcmp(which, "double-free-aligned") == 0) {
    void* p = nullptr;
    REQUIRE(posix_memalign(&p, 4096, 300) == 0);
    std::free(p);
    announce(p);
    std::free(launder(p));
  } else if (std::strcmp(which, "double-free-medium") == 0) {
    // Blocks too big for a thread cache, freed with free neighbours on the
    // bucket's free list (not merged: used blocks lie between them).
    void* blocks[8];
    for (void*& b : blocks) b = launder(std::malloc(5000));
    std::free(blocks[1]);
    std::free(blocks[3]);
    std::free(blocks[5]);
    announce(blocks[3]);
    std::free(launder(blocks[3]));
  } else if (std::strcmp(which, "double-free-large") == 0) {
    // Blocks with regions of their own; the freed one's region may be
    // returned to the kernel.
    void* keep = launder(std::malloc(8 << 20));
    void* a = launder(std::malloc(8 << 20));
    void* b = launder(std::malloc(8 << 20));
    std::free(b);
    std::free(a);
    announce(a);
    std::free(launder(a));
    std::free(keep);
  } else if (std::strcmp(which, "free-after-realloc") == 0) {
    // realloc moved the block; the old pointer is dead.
    void* p = launder(std::malloc(32));
    void* blocker = launder(std::malloc(32));  // stops growing in place
    void* q = launder(std::realloc(p, 100000));
    REQUIRE(q != nullptr && q != p);
    announce(p);
    std::free(launder(p));
    std::free(blocker);
  } else if (std::strcmp(which, "interior") == 0) {
    auto* p = static_cast<char*>(launder(std::malloc(200)));
    std::memset(p, 'x', 200);
    announce(p + 64);
    std::free(launder(p + 64));
  } else if (std::strcmp(which, "stack") == 0) {
    char buffer[128];
    std::memset(buffer, 's', sizeof(buffer));
    announce(buffer + 64);
    std::free(launder(buffer + 64));
  } else if (std::strcmp(which, "global") == 0) {
    announce(global_buffer + 16);
    std::free(launder(global_buffer + 16));
  } else if (std::strcmp(which, "global-small-ints") == 0) {
    announce(&global_table[3]);
    std::free(launder(&global_table[3]));
  } else if (std::strcmp(which, "realloc-freed") == 0) {
    void* p = launder(std::malloc(500));
    std::free(p);
    announce(p);
    void* q = launder(std::realloc(launder(p), 1000));
    std::printf("realloc returned %p\n", q);
  } else if (std::strcmp(which, "delete-twice") == 0) {
    auto* p = static_cast<int*>(launder(new int[40]));
    delete[] p;
    announce(p);
    delete[] static_cast<int*>(launder(p));
  } else {
    std::fprintf(stderr, "misuse: no case %s\n", which);
    return 2;
  }
  std::puts("SURVIVED");
  return 0;
}
