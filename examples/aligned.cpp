// aligned: asking for alignments above 8. The allocator reserves `align`
// extra bytes in the block, returns the next aligned address after the
// block's content start, and stores a pointer back to the block header in the
// 8 bytes just below the returned address.
#include <rulloc/rulloc.hpp>

#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <vector>

int main() {
  rulloc::Rulloc<> heap;
  bool ok = true;
  std::cout << "allocate(100 bytes, align):\n"
            << "   align  address             addr % align  reserved  usable\n";
  std::vector<void*> live;
  for (std::size_t align = 8; align <= 8192; align *= 2) {
    rulloc::Allocation a = heap.allocate({100, align});
    const auto address = reinterpret_cast<std::uintptr_t>(a.ptr);
    // The block reserves 100 rounded up to 8, plus `align` when align > 8:
    // wherever the block starts, an aligned address with room for 100
    // bytes after it lies within the first `align` bytes.
    const std::size_t reserved = 104 + (align > 8 ? align : 0);
    std::cout << std::setw(8) << align << "  " << std::setw(18) << a.ptr
              << std::setw(14) << address % align << std::setw(10) << reserved
              << std::setw(8) << a.size << "\n";
    std::memset(a.ptr, 0x5A, 100);  // the whole request is writable
    ok = ok && a.ptr != nullptr && address % align == 0 && a.size >= 100;
    live.push_back(a.ptr);
  }
  std::cout << "\nusable: the bytes from the aligned address to the end of "
               "the block. The bytes\nskipped before it include 8 that hold "
               "a pointer back to the block header,\nwhich is how "
               "deallocate() finds the block from an aligned address.\n";

  // Changing the alignment of a live block: in place when it fits.
  rulloc::Allocation b = heap.allocate({200, 8});
  std::strcpy(static_cast<char*>(b.ptr), "moved to a 64-byte boundary");
  rulloc::Allocation c = heap.grow(b.ptr, {200, 8}, {200, 64});
  std::cout << "\ngrow(200 bytes, align 8 -> 64): " << b.ptr << " -> " << c.ptr
            << ", data: \"" << static_cast<char*>(c.ptr) << "\"\n";
  ok = ok && c.ptr != nullptr &&
       reinterpret_cast<std::uintptr_t>(c.ptr) % 64 == 0 &&
       std::strcmp(static_cast<char*>(c.ptr), "moved to a 64-byte boundary") ==
           0;
  live.push_back(c.ptr);

  for (void* p : live) heap.deallocate(p);  // no layout needed to free
  for (const auto& s : heap.stats()) ok = ok && s.regions == 0;
  ok = ok && heap.check();
  std::cout << (ok ? "all aligned, all freed\n" : "SOMETHING IS WRONG\n");
  return ok ? 0 : 1;
}
