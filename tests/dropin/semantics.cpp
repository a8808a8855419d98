// operator new and delete as the C++ standard specifies them, run with
// librulloc.so preloaded: bad_alloc, nothrow, the new_handler loop, aligned
// new, sized and array deletes, and the standard library on top.
#include <malloc.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "check.h"
#include "throws_bad_alloc.hpp"

namespace {

volatile std::size_t huge = SIZE_MAX;
volatile std::size_t very_large = std::size_t{1} << 62;

bool aligned(const void* p, std::size_t align) {
  return (reinterpret_cast<std::uintptr_t>(p) & (align - 1)) == 0;
}

void test_on_rulloc() {
  rulloc_malloc_stats before = dropin_stats();
  int* p = static_cast<int*>(escape(new int(5)));
  rulloc_malloc_stats after = dropin_stats();
  CHECK(after.allocations == before.allocations + 1);
  CHECK(malloc_usable_size(p) >= sizeof(int));
  delete p;
  CHECK(dropin_stats().frees == after.frees + 1);
}

void test_bad_alloc() {
  CHECK(throws_bad_alloc([] { escape(::operator new(huge)); }));
  CHECK(throws_bad_alloc([] { escape(::operator new(very_large)); }));
  CHECK(throws_bad_alloc([] { escape(::operator new[](huge)); }));
  CHECK(throws_bad_alloc([] { escape(::operator new(huge - 64)); }));
  CHECK(throws_bad_alloc(
      [] { escape(::operator new (very_large, std::align_val_t{64})); }));
  CHECK(throws_bad_alloc(
      [] { escape(::operator new[](very_large, std::align_val_t{4096})); }));
  // A new-expression whose length overflows throws bad_array_new_length,
  // a bad_alloc.
  CHECK(throws_bad_alloc([] {
    std::size_t n = huge / 2;
    escape(new std::uint64_t[n]);
  }));
  CHECK(throws_bad_alloc([] {
    std::vector<char> v;
    v.reserve(very_large);
  }));
}

void test_nothrow() {
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  CHECK(::operator new[](huge, std::nothrow) == nullptr);
  CHECK(::operator new (very_large, std::align_val_t{128}, std::nothrow) ==
        nullptr);
  CHECK(::operator new[](very_large, std::align_val_t{128}, std::nothrow) ==
        nullptr);
  void* p = escape(::operator new(100, std::nothrow));
  CHECK(p != nullptr && aligned(p, 16));
  ::operator delete(p, std::nothrow);
  p = escape(::operator new[](100, std::nothrow));
  CHECK(p != nullptr && aligned(p, 16));
  ::operator delete[](p, std::nothrow);
  p = escape(::operator new (100, std::align_val_t{256}, std::nothrow));
  CHECK(p != nullptr && aligned(p, 256));
  ::operator delete (p, std::align_val_t{256}, std::nothrow);
  p = escape(::operator new[](100, std::align_val_t{256}, std::nothrow));
  CHECK(p != nullptr && aligned(p, 256));
  ::operator delete[](p, std::align_val_t{256}, std::nothrow);
}

int handler_calls = 0;
void give_up_handler() {
  ++handler_calls;
  std::set_new_handler(nullptr);  // next failure throws / returns null
}
void throwing_handler() {
  ++handler_calls;
  throw std::bad_alloc();
}

// The process's data size (private writable mappings), which RLIMIT_DATA
// bounds: VmData in /proc/self/status.
std::size_t data_bytes() {
  FILE* status = std::fopen("/proc/self/status", "r");
  REQUIRE(status != nullptr);
  char line[256];
  std::size_t kib = 0;
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    if (std::sscanf(line, "VmData: %zu kB", &kib) == 1) break;
  }
  std::fclose(status);
  REQUIRE(kib > 0);
  return kib * 1024;
}

void* reserve = nullptr;
void freeing_handler() {
  ++handler_calls;
  if (reserve != nullptr) {
    ::operator delete(reserve);
    reserve = nullptr;
  } else {
    std::set_new_handler(nullptr);  // nothing left to free: give up
  }
}

// A handler that frees memory lets the retry succeed: with a reserve of
// 256 MiB held and the data size limited to what is mapped plus half of
// that, operator new(256 MiB) fails, calls the handler, which frees the
// reserve, and the retry gets the block.
void test_new_handler_retry() {
  constexpr std::size_t kBlock = std::size_t{256} << 20;
  rlimit old_limit;
  REQUIRE(getrlimit(RLIMIT_DATA, &old_limit) == 0);
  reserve = escape(::operator new(kBlock));
  rlimit tight = old_limit;
  tight.rlim_cur = data_bytes() + kBlock / 2;
  REQUIRE(tight.rlim_cur <= old_limit.rlim_max);
  REQUIRE(setrlimit(RLIMIT_DATA, &tight) == 0);
  // The limit holds: a second block of that size does not fit.
  void* refused = ::operator new(kBlock, std::nothrow);
  CHECK(refused == nullptr);
  handler_calls = 0;
  std::set_new_handler(freeing_handler);
  void* p = nullptr;
  const bool threw = throws_bad_alloc([&] { p = ::operator new(kBlock); });
  std::set_new_handler(nullptr);
  REQUIRE(setrlimit(RLIMIT_DATA, &old_limit) == 0);
  CHECK(!threw && p != nullptr);
  CHECK(handler_calls == 1);  // one failure, then the retry succeeded
  CHECK(reserve == nullptr);
  if (p != nullptr) {  // usable at both ends
    std::memset(p, 0x5A, 4096);
    std::memset(static_cast<char*>(p) + kBlock - 4096, 0x5A, 4096);
    ::operator delete(p);
  }
  ::operator delete(refused);
  ::operator delete(reserve);
}

// [new.delete.single]: on failure the throwing forms call the new_handler
// until it gives up; the nothrow forms call it too and return null.
void test_new_handler() {
  handler_calls = 0;
  std::set_new_handler(give_up_handler);
  CHECK(throws_bad_alloc([] { escape(::operator new(huge)); }));
  CHECK(handler_calls == 1);
  handler_calls = 0;
  std::set_new_handler(give_up_handler);
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  CHECK(handler_calls == 1);
  handler_calls = 0;
  std::set_new_handler(throwing_handler);
  CHECK(throws_bad_alloc(
      [] { escape(::operator new (huge, std::align_val_t{64})); }));
  CHECK(handler_calls == 1);
  handler_calls = 0;
  CHECK(::operator new[](huge, std::nothrow) == nullptr);
  CHECK(handler_calls == 1);
  handler_calls = 0;
  CHECK(::operator new (huge, std::align_val_t{64}, std::nothrow) == nullptr);
  CHECK(handler_calls == 1);
  std::set_new_handler(nullptr);
  // Not called when the allocation succeeds.
  handler_calls = 0;
  std::set_new_handler(give_up_handler);
  void* p = escape(::operator new(64));
  CHECK(p != nullptr && handler_calls == 0);
  ::operator delete(p);
  std::set_new_handler(nullptr);
  test_new_handler_retry();
}

template <std::size_t A>
struct alignas(A) Aligned {
  unsigned char bytes[A];
};

template <std::size_t A>
void aligned_new_for() {
  auto* one = static_cast<Aligned<A>*>(escape(new Aligned<A>));
  CHECK(aligned(one, A));
  std::memset(one->bytes, 1, A);
  delete one;  // sized aligned delete
  auto* many = static_cast<Aligned<A>*>(escape(new Aligned<A>[7]));
  CHECK(aligned(many, A));
  std::memset(many, 2, sizeof(Aligned<A>) * 7);
  delete[] many;
  auto* nothrow =
      static_cast<Aligned<A>*>(escape(new (std::nothrow) Aligned<A>));
  CHECK(nothrow != nullptr && aligned(nothrow, A));
  delete nothrow;
  std::vector<Aligned<A>> v(5);
  CHECK(aligned(v.data(), A));
  v.resize(100);
  CHECK(aligned(v.data(), A));
}

void test_aligned_new() {
  aligned_new_for<32>();
  aligned_new_for<64>();
  aligned_new_for<128>();
  aligned_new_for<256>();
  aligned_new_for<512>();
  aligned_new_for<1024>();
  aligned_new_for<2048>();
  aligned_new_for<4096>();
  for (std::size_t a = 1; a <= (std::size_t{1} << 20); a <<= 1) {
    for (std::size_t size : {std::size_t{1}, std::size_t{100}, a, a * 2 + 3}) {
      void* p = escape(::operator new (size, std::align_val_t{a}));
      CHECK(aligned(p, a) && aligned(p, 16));
      CHECK(malloc_usable_size(p) >= size);
      std::memset(p, 0x3C, size);
      if (size % 2 == 0) {
        ::operator delete (p, size, std::align_val_t{a});
      } else {
        ::operator delete (p, std::align_val_t{a});
      }
      p = escape(::operator new[](size, std::align_val_t{a}));
      CHECK(aligned(p, a));
      std::memset(p, 0x3D, size);
      if (size % 2 == 0) {
        ::operator delete[](p, size, std::align_val_t{a});
      } else {
        ::operator delete[](p, std::align_val_t{a});
      }
    }
  }
}

struct Counted {
  static int live;
  std::string name;
  explicit Counted(std::string n = "counted") : name(std::move(n)) { ++live; }
  ~Counted() { --live; }
};
int Counted::live = 0;

void test_sized_and_array_delete() {
  rulloc_malloc_stats s0 = dropin_stats();
  for (std::size_t size : {1, 16, 17, 100, 1000, 5000, 100000}) {
    void* p = escape(::operator new(size));
    CHECK(aligned(p, 16));
    CHECK(malloc_usable_size(p) >= size);
    std::memset(p, 9, size);
    ::operator delete(p, size);
    p = escape(::operator new[](size));
    CHECK(aligned(p, 16));
    std::memset(p, 9, size);
    ::operator delete[](p, size);
  }
  rulloc_malloc_stats s1 = dropin_stats();
  CHECK(s1.allocations - s0.allocations == 14);
  CHECK(s1.frees - s0.frees == 14);
  CHECK(s1.bytes_in_use == s0.bytes_in_use);
  // Arrays with destructors carry a cookie: delete[] must find the block.
  auto* many = static_cast<Counted*>(escape(new Counted[50]));
  CHECK(Counted::live == 50);
  delete[] many;
  CHECK(Counted::live == 0);
  // operator new(0) returns a unique pointer.
  void* a = escape(::operator new(0));
  void* b = escape(::operator new(0));
  CHECK(a != nullptr && b != nullptr && a != b);
  ::operator delete (a, std::size_t{0});
  ::operator delete(b);
  char* empty = static_cast<char*>(escape(new char[0]));
  CHECK(empty != nullptr);
  delete[] empty;
}

void test_standard_library() {
  std::vector<std::string> words;
  for (int i = 0; i < 20000; ++i) {
    words.push_back("word number " + std::to_string(i) +
                    std::string(static_cast<std::size_t>(i % 50), 'x'));
  }
  std::map<std::string, int> counts;
  std::unordered_map<int, std::vector<int>> buckets;
  for (std::size_t i = 0; i < words.size(); ++i) {
    counts[words[i]] += static_cast<int>(i);
    buckets[static_cast<int>(i % 97)].push_back(static_cast<int>(i));
  }
  CHECK(counts.size() == words.size());
  CHECK(buckets.size() == 97);
  CHECK(buckets[5].size() == words.size() / 97 + (5 < words.size() % 97));
  std::list<std::shared_ptr<Counted>> shared;
  for (int i = 0; i < 1000; ++i) {
    shared.push_back(std::make_shared<Counted>(std::to_string(i)));
  }
  std::vector<std::unique_ptr<Counted>> owned;
  for (int i = 0; i < 1000; ++i) owned.push_back(std::make_unique<Counted>());
  CHECK(Counted::live == 2000);
  shared.clear();
  owned.clear();
  CHECK(Counted::live == 0);
  std::function<int(int)> f = [words](int i) {
    return static_cast<int>(words[static_cast<std::size_t>(i)].size());
  };
  CHECK(f(0) == 13);
  // Exceptions are allocated by __cxa_allocate_exception (malloc).
  int caught = 0;
  for (int i = 0; i < 1000; ++i) {
    try {
      throw std::runtime_error("error number " + std::to_string(i) +
                               std::string(200, 'e'));
    } catch (const std::runtime_error& e) {
      caught += std::strncmp(e.what(), "error number ", 13) == 0;
    }
  }
  CHECK(caught == 1000);
}

// new and malloc share one heap: rulloc's figures count the blocks of both,
// malloc_usable_size knows blocks from new, each frees the other's blocks,
// and a block one frees is the next the other hands out. A heap of new's
// own (or one layered on malloc) fails each.
void test_new_and_malloc_share_the_heap() {
  constexpr int kPairs = 100;
  std::vector<void*> blocks;
  blocks.reserve(2 * kPairs);  // outside the figures below
  std::vector<std::size_t> sizes;
  sizes.reserve(2 * kPairs);
  rulloc_malloc_stats s0 = dropin_stats();
  for (int i = 0; i < kPairs; ++i) {
    const auto size = static_cast<std::size_t>(i * 10 + 1);
    blocks.push_back(escape(::operator new(size)));
    blocks.push_back(escape(std::malloc(size)));
    sizes.push_back(size);
    sizes.push_back(size);
  }
  rulloc_malloc_stats s1 = dropin_stats();
  CHECK(s1.allocations - s0.allocations == 2 * kPairs);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(blocks[i] != nullptr && malloc_usable_size(blocks[i]) >= sizes[i]);
  }
  // Crossed: free() for blocks from new, delete for blocks from malloc.
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 2 == 0) {
      std::free(blocks[i]);
    } else {
      ::operator delete(blocks[i]);
    }
  }
  rulloc_malloc_stats s2 = dropin_stats();
  CHECK(s2.frees - s1.frees == 2 * kPairs);
  CHECK(s2.bytes_in_use == s0.bytes_in_use);
  for (std::size_t size : {24, 100, 1000, 5000}) {
    void* from_new = escape(::operator new(size));
    ::operator delete(from_new);
    void* from_malloc = escape(std::malloc(size));
    CHECK(from_malloc == from_new);
    std::free(from_malloc);
    void* again = escape(::operator new(size));
    CHECK(again == from_malloc);
    ::operator delete(again);
  }
}

struct Group {
  const char* name;
  void (*run)();
};

const Group groups[] = {
    {"on_rulloc", test_on_rulloc},
    {"bad_alloc", test_bad_alloc},
    {"nothrow", test_nothrow},
    {"new_handler", test_new_handler},
    {"aligned_new", test_aligned_new},
    {"sized_delete", test_sized_and_array_delete},
    {"standard_library", test_standard_library},
    {"shared_heap", test_new_and_malloc_share_the_heap},
};

}  // namespace

// With no argument every group runs; else only the one named.
int main(int argc, char** argv) {
  require_rulloc();
  int ran = 0;
  for (const Group& g : groups) {
    if (argc > 1 && std::strcmp(argv[1], g.name) != 0) continue;
    g.run();
    ++ran;
  }
  REQUIRE(ran > 0);
  return dropin_finish(argc > 1 ? argv[1] : "semantics.cpp");
}
