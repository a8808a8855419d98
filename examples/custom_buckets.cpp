// custom_buckets: choosing bucket limits, seeing which bucket serves which
// size, and keeping empty regions mapped for reuse.
#include <rulloc/rulloc.hpp>

#include <array>
#include <cstdint>
#include <iomanip>
#include <iostream>

namespace {

template <class Heap>
void print_stats(const Heap& heap) {
  std::cout << "  bucket limit    regions  blocks  free  mapped bytes\n";
  for (const auto& s : heap.stats()) {
    std::cout << "  ";
    if (s.limit == SIZE_MAX) {
      std::cout << std::setw(12) << "dynamic";
    } else {
      std::cout << std::setw(12) << s.limit;
    }
    std::cout << std::setw(11) << s.regions << std::setw(8) << s.blocks
              << std::setw(6) << s.free_blocks << std::setw(14)
              << s.mapped_bytes << "\n";
  }
}

// The bucket whose count of used blocks went up.
template <class Heap>
std::size_t bucket_of_last(const Heap& heap,
                           const std::array<rulloc::BucketStats, 6>& before) {
  auto after = heap.stats();
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (after[i].blocks - after[i].free_blocks >
        before[i].blocks - before[i].free_blocks) {
      return i;
    }
  }
  return after.size();
}

}  // namespace

int main() {
  bool ok = true;

  // Five fixed buckets with limits of our choosing, plus the dynamic one.
  // A request goes to the first bucket whose limit is >= its size.
  rulloc::Rulloc<5> heap({32, 128, 512, 2048, 8192});
  std::cout << "Rulloc<5> with bucket limits 32, 128, 512, 2048, 8192:\n";
  const std::size_t sizes[] = {1, 32, 33, 500, 513, 4000, 8192, 100000};
  const std::size_t expected[] = {0, 0, 1, 2, 3, 4, 4, 5};
  void* blocks[8];
  for (int i = 0; i < 8; ++i) {
    auto before = heap.stats();
    blocks[i] = heap.allocate({sizes[i], 8}).ptr;
    std::size_t bucket = bucket_of_last(heap, before);
    std::cout << "  allocate(" << std::setw(6) << sizes[i] << ") -> bucket "
              << bucket << "\n";
    ok = ok && blocks[i] != nullptr && bucket == expected[i];
  }
  std::cout << "\nEach bucket mapped its own regions:\n";
  print_stats(heap);
  for (void* p : blocks) heap.deallocate(p);
  std::cout << "\nAfter freeing everything, every region went back:\n";
  print_stats(heap);
  for (const auto& s : heap.stats()) ok = ok && s.regions == 0;

  // By default an emptied region is unmapped at once, so a loop that
  // allocates and frees one block maps and unmaps a region every time.
  // keep_empty_regions lets a bucket keep that many empty regions mapped.
  rulloc::Options options;
  options.keep_empty_regions = 1;
  rulloc::Rulloc<> keeper(options);
  void* first = keeper.allocate({64, 8}).ptr;
  keeper.deallocate(first);
  int same = 0;
  for (int i = 0; i < 1000; ++i) {
    void* p = keeper.allocate({64, 8}).ptr;
    same += p == first;
    keeper.deallocate(p);
  }
  std::cout << "\nWith keep_empty_regions = 1, 1000 allocate+free rounds got "
               "the same address "
            << same << " times; the empty region stays mapped:\n";
  print_stats(keeper);
  ok = ok && same == 1000 && keeper.stats()[0].regions == 1 && keeper.check();
  std::cout << "(the destructor unmaps it)\n";
  return ok ? 0 : 1;
}
