// libFuzzer target: the input is a program of allocate / free / grow /
// shrink / aligned operations on a Rulloc, checked against a model (each
// live block's expected byte) and heap.check() as it runs. Built with
// -fsanitize=fuzzer,address by tests/fuzz/CMakeLists.txt.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rulloc/rulloc.hpp"

namespace {

struct Live {
  void* ptr;
  rulloc::Layout layout;
  std::uint8_t fill;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size) {}
  bool empty() const { return used_ >= size_; }
  std::uint8_t byte() { return used_ < size_ ? data_[used_++] : 0; }
  std::size_t size_value() {
    // Mostly small sizes, sometimes large ones, rarely absurd ones.
    const std::uint8_t kind = byte();
    const std::size_t low = byte() | (static_cast<std::size_t>(byte()) << 8);
    if (kind < 160) return low % 512;
    if (kind < 240) return low * 4;
    if (kind < 254) return low << 8;
    return SIZE_MAX - low;
  }
  std::size_t align_value() {
    const std::uint8_t b = byte();
    if (b >= 250) return b;  // sometimes not a power of two
    return std::size_t{1} << (b % 14);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t used_ = 0;
};

void verify(const Live& live) {
  const auto* bytes = static_cast<const std::uint8_t*>(live.ptr);
  for (std::size_t i = 0; i < live.layout.size; ++i) {
    if (bytes[i] != live.fill) std::abort();
  }
}

void check(const rulloc::Rulloc<>& heap) {
  std::string error;
  if (!heap.check(&error)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  Input in(data, size);
  rulloc::Rulloc<> heap(
      rulloc::Options{static_cast<std::size_t>(in.byte() % 3), 0});
  std::vector<Live> live;
  while (!in.empty() && live.size() < 256) {
    const std::uint8_t op = in.byte() % 4;
    if (op == 0 || live.empty()) {
      const rulloc::Layout layout{in.size_value(), in.align_value()};
      rulloc::Allocation a = heap.allocate(layout);
      const bool valid = layout.align != 0 &&
                         (layout.align & (layout.align - 1)) == 0 &&
                         layout.size < (std::size_t{1} << 40);
      if (a.ptr == nullptr) {
        if (valid && layout.size < (std::size_t{1} << 24)) std::abort();
        continue;
      }
      if (!valid || a.size < layout.size ||
          reinterpret_cast<std::uintptr_t>(a.ptr) % layout.align != 0) {
        std::abort();
      }
      const auto fill = in.byte();
      std::memset(a.ptr, fill, layout.size);
      live.push_back({a.ptr, layout, fill});
    } else {
      const std::size_t index = in.byte() % live.size();
      Live& victim = live[index];
      verify(victim);
      if (op == 1) {
        heap.deallocate(victim.ptr, victim.layout);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
      } else {
        const rulloc::Layout next{op == 2
                                      ? victim.layout.size + in.size_value()
                                      : victim.layout.size / (1 + in.byte()),
                                  in.align_value()};
        rulloc::Allocation r =
            op == 2 ? heap.grow(victim.ptr, victim.layout, next)
                    : heap.shrink(victim.ptr, victim.layout, next);
        if (r.ptr == nullptr) {
          verify(victim);  // a failure leaves the block as it was
          continue;
        }
        if (r.size < next.size ||
            reinterpret_cast<std::uintptr_t>(r.ptr) % next.align != 0) {
          std::abort();
        }
        victim.ptr = r.ptr;
        const std::size_t kept = std::min(victim.layout.size, next.size);
        victim.layout = next;
        const auto* bytes = static_cast<const std::uint8_t*>(r.ptr);
        for (std::size_t i = 0; i < kept; ++i) {
          if (bytes[i] != victim.fill) std::abort();
        }
        std::memset(r.ptr, victim.fill, next.size);
      }
    }
    check(heap);
  }
  for (const Live& l : live) {
    verify(l);
    heap.deallocate(l.ptr, l.layout);
  }
  check(heap);
  heap.trim();  // kept empty regions go too
  for (const auto& bucket : heap.stats()) {
    if (bucket.regions != 0) std::abort();
  }
  return 0;
}
