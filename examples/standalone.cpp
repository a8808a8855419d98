// standalone: one allocator object, a few blocks, and pictures of its memory
// after each step. Run it and read the output top to bottom.
#include <rulloc/rulloc.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>

namespace {

void step(const rulloc::Rulloc<>& heap, const char* what) {
  std::cout << "\n== " << what << "\n";
  heap.dump(std::cout);
}

}  // namespace

int main() {
  // Three fixed buckets (blocks up to 128, 1024 and 8192 bytes) and one
  // dynamic bucket for anything larger. Each bucket maps its own regions.
  rulloc::Rulloc<> heap;
  step(heap, "A new allocator has mapped nothing yet");

  rulloc::Allocation a = heap.allocate({1, 8});
  std::cout << "\nallocate(1 byte) -> " << a.ptr << ", usable size " << a.size
            << " (the smallest block holds 16 bytes)\n";
  step(heap,
       "The 128-byte bucket mapped one page: region header, the 16-byte "
       "block, and the rest of the page as one free block");

  rulloc::Allocation b = heap.allocate({100, 8});
  rulloc::Allocation c = heap.allocate({600, 8});
  std::strcpy(static_cast<char*>(b.ptr), "hello from a 100-byte block");
  std::cout << "\nallocate(100) -> usable " << b.size
            << " (rounded up to 8), allocate(600) -> usable " << c.size
            << "\nb holds: \"" << static_cast<char*>(b.ptr) << "\"\n";
  step(heap,
       "The 100-byte block was cut from the free block of the first "
       "region; 600 bytes went to the 1024-byte bucket's own region");

  rulloc::Allocation g = heap.grow(b.ptr, {100, 8}, {120, 8});
  std::cout << "\ngrow(100 -> 120): " << (g.ptr == b.ptr ? "in place" : "moved")
            << ", b still holds: \"" << static_cast<char*>(g.ptr) << "\"\n";
  step(heap, "Growing took bytes from the free block right after it");

  heap.deallocate(a.ptr);
  step(heap,
       "Freeing the 1-byte block left a free block at the start of the "
       "region (its neighbour is in use, so nothing merged)");

  heap.deallocate(g.ptr);
  heap.deallocate(c.ptr);
  step(heap,
       "Freeing the rest merged each region into one free block, and a "
       "region with nothing in use goes back to the kernel at once");

  bool ok = heap.check();
  for (const auto& s : heap.stats()) ok = ok && s.regions == 0;
  std::cout << "\ncheck(): " << (ok ? "every invariant holds" : "BROKEN")
            << "\n";
  return ok ? 0 : 1;
}
