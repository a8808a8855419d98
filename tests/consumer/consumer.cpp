// Uses the installed headers and librulloc.a: a Rulloc<> object, a pmr
// vector on it, the STL allocator and the C API.
#include <rulloc/rulloc.h>

#include <cstdio>
#include <cstring>
#include <memory_resource>
#include <rulloc/rulloc.hpp>
#include <string>
#include <vector>

int main() {
  rulloc::Rulloc<> heap;
  rulloc::Allocation a = heap.allocate({100, 8});
  if (a.ptr == nullptr || a.size < 100) return 1;
  std::memset(a.ptr, 7, a.size);
  rulloc::Allocation b = heap.grow(a.ptr, {100, 8}, {5000, 64});
  if (b.ptr == nullptr || reinterpret_cast<std::uintptr_t>(b.ptr) % 64 != 0) {
    return 2;
  }
  if (static_cast<unsigned char*>(b.ptr)[99] != 7) return 3;
  heap.deallocate(b.ptr);

  std::pmr::vector<std::pmr::string> words(&heap);
  for (int i = 0; i < 1000; ++i) {
    words.emplace_back("a word that is longer than the small buffer " +
                       std::to_string(i));
  }
  std::vector<int, rulloc::StlAllocator<int>> numbers;
  for (int i = 0; i < 10000; ++i) numbers.push_back(i);

  rulloc_heap* c_heap = rulloc_heap_create(nullptr, 0, 0);
  if (c_heap == nullptr) return 4;
  void* p = rulloc_alloc(c_heap, 300, 32);
  if (p == nullptr || rulloc_usable_size(c_heap, p) < 300) return 5;
  rulloc_free(c_heap, p);
  if (rulloc_heap_check(c_heap) != 1) return 6;
  rulloc_heap_destroy(c_heap);

  std::string error;
  if (!heap.check(&error)) {
    std::printf("check: %s\n", error.c_str());
    return 7;
  }
  std::printf("consumer: %zu words, %zu numbers, heap consistent\n",
              words.size(), numbers.size());
  return 0;
}
