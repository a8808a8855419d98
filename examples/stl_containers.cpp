// stl_containers: rulloc under standard containers, two ways.
//  - rulloc::StlAllocator<T>: a classic allocator type for std::vector,
//    std::map, ... over any memory_resource (the default instance if none).
//  - std::pmr: Rulloc<N> is a std::pmr::memory_resource itself.
#include <rulloc/rulloc.hpp>

#include <iostream>
#include <map>
#include <memory_resource>
#include <string>
#include <vector>

namespace {

template <class Heap>
void report(const char* what, const Heap& heap) {
  std::size_t used = 0, regions = 0, mapped = 0;
  for (const auto& s : heap.stats()) {
    used += s.blocks - s.free_blocks;
    regions += s.regions;
    mapped += s.mapped_bytes;
  }
  std::cout << what << ": " << used << " blocks in use, " << regions
            << " regions, " << mapped << " bytes mapped\n";
}

}  // namespace

int main() {
  rulloc::Rulloc<> heap;
  bool ok = true;

  {
    // The container's allocator type says where its memory comes from.
    using Alloc = rulloc::StlAllocator<int>;
    std::vector<int, Alloc> squares{Alloc(&heap)};
    for (int i = 0; i < 1000; ++i) squares.push_back(i * i);
    report("std::vector<int> with 1000 squares", heap);

    // Node containers rebind the allocator to their node type.
    using Entry = std::pair<const std::string, int>;
    std::map<std::string, int, std::less<>, rulloc::StlAllocator<Entry>> ages{
        rulloc::StlAllocator<Entry>(&heap)};
    ages["ada"] = 36;
    ages["alan"] = 41;
    ages["grace"] = 85;
    report("plus std::map with 3 entries (one node each)", heap);
    ok = ok && squares[999] == 998001 && ages.at("alan") == 41;
  }
  report("containers destroyed", heap);

  {
    // std::pmr containers take the resource at run time.
    std::pmr::vector<std::pmr::string> names(&heap);
    for (const char* n : {"region", "block", "bucket", "free list"}) {
      names.emplace_back(std::string(n) + " (a string too long for SSO)");
    }
    report("std::pmr::vector of 4 std::pmr::string", heap);
    ok = ok && names.size() == 4 && names[3].starts_with("free list");

    // A pool in front of rulloc: it asks rulloc for big chunks and carves
    // small objects out of them itself.
    std::pmr::unsynchronized_pool_resource pool(&heap);
    std::pmr::vector<std::pmr::string> many(&pool);
    for (int i = 0; i < 500; ++i) {
      many.emplace_back("pooled string number " + std::to_string(i));
    }
    report("plus 500 strings from a pool over rulloc", heap);
    ok = ok && many[499] == "pooled string number 499";
  }
  report("pmr containers and pool destroyed", heap);

  for (const auto& s : heap.stats()) ok = ok && s.regions == 0;
  ok = ok && heap.check();
  return ok ? 0 : 1;
}
