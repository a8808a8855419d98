// libFuzzer target for the object allocator, Rulloc<>: the input picks the
// heap's options, then is a program of allocate / allocate_zeroed /
// deallocate / grow / grow_zeroed / shrink / reallocate / usable_size /
// trim / trim_unused calls with random sizes and alignments. Every block's
// usable bytes hold a pattern of its id and offset (model.hpp), verified
// whole whenever a call keeps the block, and on free; live blocks must
// never overlap; heap.check() runs every 4 calls, after a trim and at the
// end. tests/fuzz/CMakeLists.txt builds it with libFuzzer, replay.cmake as
// a corpus replay.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model.hpp"
#include "rulloc/rulloc.hpp"

namespace {

using fuzz::fail;
using rulloc::Allocation;
using rulloc::Layout;

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kMaxLive = 256;
// Bounds on one input's memory and on the bytes it writes and reads, so a
// run of big blocks stays fast; past them, big requests are cut down.
constexpr std::size_t kMaxLiveBytes = 128 * kMiB;
constexpr std::size_t kMaxWorkBytes = 256 * kMiB;

// A request the kernel can always serve on this machine: failing it is a
// bug, not a lack of memory.
bool must_succeed(Layout layout) {
  return fuzz::is_power_of_two(layout.align) && layout.align <= 65536 &&
         layout.size <= 16 * kMiB;
}
// A request no heap can serve: a bad alignment, or more than any mapping.
bool must_fail(Layout layout) {
  return !fuzz::is_power_of_two(layout.align) ||
         layout.size >= (std::size_t{1} << 40);
}

struct Block {
  void* ptr;
  Layout layout;  // what was asked for
  std::size_t usable;
  std::uint64_t id;
};

// Ids never repeat within a process, so a block that reads as another
// block's bytes, or as its own bytes from an earlier input, is wrong.
std::uint64_t next_id = 1;

class Run {
 public:
  Run(fuzz::Input& in, const rulloc::Options& options)
      : in_(in), heap_(options) {}

  void step() {
    const std::uint8_t op = in_.byte() % 8;
    if (live_.empty() || op <= 1) {
      allocate(op == 1);
    } else if (op == 7) {
      maintain();
    } else {
      const std::size_t index = in_.byte() % live_.size();
      switch (op) {
        case 2:
          release(index);
          break;
        case 3:
        case 4:
        case 5:
          resize(index, op);
          break;
        default:
          look(index);
      }
    }
    // check() walks every block: after every call it took a quarter of the
    // run.
    if (++calls_ % 4 == 0) check("every 4 calls");
  }

  bool full() const { return live_.size() >= kMaxLive; }

  void finish() {
    while (!live_.empty()) release(live_.size() - 1);
    check("after freeing every block");
    heap_.trim();  // kept empty regions and cached large ones go too
    for (const auto& bucket : heap_.stats()) {
      if (bucket.regions != 0) {
        fail("bucket %zu keeps %zu regions after every free and trim()",
             bucket.limit, bucket.regions);
      }
    }
  }

 private:
  // Mostly small sizes, sometimes large ones (as many of each power of two
  // as of the next), rarely absurd ones.
  std::size_t size_value() {
    const std::uint8_t kind = in_.byte();
    const std::size_t low = in_.two_bytes();
    if (kind < 160) return low % 512;
    if (kind < 240) return low * 4;
    if (kind < 254) return (low & 0xFFF) << ((low >> 12) % 13);  // to 16 MiB
    return SIZE_MAX - low;
  }
  // Powers of two up to 32 KiB; sometimes zero or not a power of two.
  std::size_t align_value() {
    const std::uint8_t b = in_.byte();
    if (b >= 250) return b == 255 ? 0 : b;
    return std::size_t{1} << (b % 16);
  }
  // Cuts a big request down once the input has used its budget.
  std::size_t within_budget(std::size_t size) const {
    if (size <= kMiB || must_fail(Layout{size, 1})) return size;
    if (live_bytes_ + size > kMaxLiveBytes || work_ > kMaxWorkBytes) {
      return size % kMiB;
    }
    return size;
  }

  void allocate(bool zeroed) {
    const Layout layout{within_budget(size_value()), align_value()};
    const Allocation a =
        zeroed ? heap_.allocate_zeroed(layout) : heap_.allocate(layout);
    if (a.ptr == nullptr) {
      if (a.size != 0) fail("failed allocation with size %zu", a.size);
      if (must_succeed(layout)) {
        fail("allocate(%zu, %zu) failed", layout.size, layout.align);
      }
      return;
    }
    if (must_fail(layout)) {
      fail("allocate(%zu, %zu) succeeded", layout.size, layout.align);
    }
    Block block{a.ptr, layout, a.size, next_id++};
    expect_served(block, "allocate");
    if (zeroed) fuzz::expect_zero(a.ptr, layout.size, "allocate_zeroed");
    fuzz::fill_pattern(a.ptr, block.id, 0, a.size);
    work_ += a.size;
    live_bytes_ += a.size;
    live_.push_back(block);
  }

  void release(std::size_t index) {
    const Block block = live_[index];
    verify(block, "before deallocate");
    if (in_.byte() & 1) {
      heap_.deallocate(block.ptr, block.layout);
    } else {
      heap_.deallocate(block.ptr);  // the header knows its bucket
    }
    ranges_.remove(block.ptr);
    live_bytes_ -= block.usable;
    live_[index] = live_.back();
    live_.pop_back();
  }

  // op 3: grow (or grow_zeroed), 4: shrink, 5: reallocate to any size.
  void resize(std::size_t index, std::uint8_t op) {
    Block& block = live_[index];
    verify(block, "before resize");
    const Layout old = block.layout;
    Layout next{};
    bool zeroed = false;
    Allocation r{};
    if (op == 3) {
      next = {within_budget(old.size + size_value()), align_value()};
      zeroed = (in_.byte() & 1) != 0;
      r = zeroed ? heap_.grow_zeroed(block.ptr, old, next)
                 : heap_.grow(block.ptr, old, next);
    } else if (op == 4) {
      next = {old.size / (1 + in_.byte()), align_value()};
      r = heap_.shrink(block.ptr, old, next);
    } else {
      next = {within_budget(size_value()), align_value()};
      r = heap_.reallocate(block.ptr, old, next);
    }
    // grow() never makes a block smaller, nor shrink() larger.
    const bool refused = must_fail(next) || (op == 3 && next.size < old.size) ||
                         (op == 4 && next.size > old.size);
    if (r.ptr == nullptr) {
      if (r.size != 0) fail("failed resize with size %zu", r.size);
      if (!refused && must_succeed(next)) {
        fail("resize (op %d) of %zu bytes to (%zu, %zu) failed", op, old.size,
             next.size, next.align);
      }
      verify(block, "after a failed resize");  // left as it was
      return;
    }
    if (refused) {
      fail("resize (op %d) of %zu bytes to (%zu, %zu) succeeded", op, old.size,
           next.size, next.align);
    }
    ranges_.remove(block.ptr);
    live_bytes_ -= block.usable;
    block.ptr = r.ptr;
    block.layout = next;
    block.usable = r.size;
    expect_served(block, "resize");
    const std::size_t kept = std::min(old.size, next.size);
    fuzz::expect_pattern(r.ptr, block.id, 0, kept, "kept by resize");
    if (zeroed) {
      fuzz::expect_zero(static_cast<unsigned char*>(r.ptr) + old.size,
                        next.size - old.size, "grow_zeroed");
    }
    fuzz::fill_pattern(r.ptr, block.id, kept, r.size);
    work_ += r.size;
    live_bytes_ += r.size;
  }

  void look(std::size_t index) { verify(live_[index], "usable_size"); }

  // trim() or trim_unused(): neither may touch a live block's bytes.
  void maintain() {
    if (trims_ >= 8) return;
    ++trims_;
    if (in_.byte() & 1) {
      heap_.trim();
    } else {
      heap_.trim_unused();
    }
    for (const Block& block : live_) verify(block, "after a trim");
    check("after a trim");
  }

  // A block just handed out: big enough, aligned, where no other lives.
  void expect_served(const Block& block, const char* call) {
    if (block.usable < block.layout.size) {
      fail("%s(%zu, %zu) gave %zu usable bytes", call, block.layout.size,
           block.layout.align, block.usable);
    }
    // Contents are always 8-aligned (and the model relies on it).
    const std::size_t align = std::max<std::size_t>(block.layout.align, 8);
    if (reinterpret_cast<std::uintptr_t>(block.ptr) % align != 0) {
      fail("%s(%zu, %zu) gave %p", call, block.layout.size, block.layout.align,
           block.ptr);
    }
    const std::size_t usable = heap_.usable_size(block.ptr);
    if (usable != block.usable) {
      fail("%s gave %zu usable bytes, usable_size() says %zu", call,
           block.usable, usable);
    }
    ranges_.add(block.ptr, block.usable, block.id);
  }

  void verify(const Block& block, const char* when) {
    fuzz::expect_pattern(block.ptr, block.id, 0, block.usable, when);
    const std::size_t usable = heap_.usable_size(block.ptr);
    if (usable != block.usable) {
      fail("%s: block %p had %zu usable bytes, now %zu", when, block.ptr,
           block.usable, usable);
    }
    work_ += block.usable;
  }

  void check(const char* when) const {
    std::string error;
    if (!heap_.check(&error)) fail("%s: check(): %s", when, error.c_str());
  }

  fuzz::Input& in_;
  rulloc::Rulloc<> heap_;
  std::vector<Block> live_;
  fuzz::Ranges ranges_;
  std::size_t live_bytes_ = 0;
  std::size_t work_ = 0;
  std::size_t calls_ = 0;
  int trims_ = 0;
};

// The first two bytes choose the heap's options.
rulloc::Options options_from(fuzz::Input& in) {
  const std::uint8_t a = in.byte();
  const std::uint8_t b = in.byte();
  constexpr std::size_t kRegionBlocks[] = {0, 2, 4, 8};
  constexpr std::size_t kMinRegion[] = {0, 65536, kMiB, 4 * kMiB};
  rulloc::Options options;
  options.keep_empty_regions = a % 3;
  options.segregated_free_lists = (a / 3) & 1;
  options.remap_large_regions = (a / 3) & 2;
  options.large_cache_bytes = (a / 3) & 4 ? 64 * kMiB : 0;
  options.region_blocks = kRegionBlocks[(a / 24) % 4];
  options.min_region_bytes = kMinRegion[b % 4];
  // Cached regions expire by the clock: that would make a run depend on its
  // speed (an input that fails once and passes the next time). An hour is
  // longer than any run; trim(), trim_unused() and the cap still empty it.
  options.large_cache_ms = 3600 * 1000;
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  fuzz::Input in(data, size);
  Run run(in, options_from(in));
  while (!in.empty() && !run.full()) run.step();
  run.finish();
  return 0;
}
