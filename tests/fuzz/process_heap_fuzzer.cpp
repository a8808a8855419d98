// libFuzzer target for the process heap, the one behind malloc
// (rulloc::heap::allocate / release / reallocate / usable_size, from
// rulloc_heap, which replaces no malloc, so it runs under the sanitizers):
// the input is a program of malloc / calloc / aligned allocation / free /
// realloc / usable_size / trim calls, with sizes across the size classes
// and their edges (slabs, up to 32 KiB), the engine's lane buckets (to
// 256 KiB), its big-block bucket (to 16 MiB) and a few large blocks (16-40
// MiB), run on the fuzzing thread or on one of three workers, so blocks
// move between thread caches, lanes and outboxes, and workers exit and are
// replaced. Every block's usable bytes hold a pattern of its id and offset
// (model.hpp), verified whole whenever a call keeps the block and on free;
// calloc'd bytes must be zero; live blocks never overlap. Built plain and
// with RULLOC_SECURE=1 (tests/fuzz/CMakeLists.txt, replay.cmake).
//
// The heap is the process's: it lives on from one input to the next, as in
// a program; each input frees what it allocated and trims the heap.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "heap/process_heap.hpp"
#include "heap/size_classes.hpp"
#include "model.hpp"
#include "rulloc/malloc.h"

// The process heap's invariant checker, rulloc_check(char* error, size_t
// size) of the introspection issue (0: sound, else the first violation in
// `error`). Until rulloc/malloc.h declares it, calls resolve to this
// fallback, whose return type says that there is none; once it does, the
// declared function wins overload resolution (a non-template over a
// template) and check_process_heap() below calls it, with no change here.
struct NoHeapChecker {};
template <class... Args>
NoHeapChecker rulloc_check(Args...) {
  return {};
}

namespace {

namespace heap = rulloc::heap;
using fuzz::fail;

constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr std::size_t kMaxLive = 256;
// Big blocks are few and bounded, so a run stays fast: at most 3 large ones
// (over 16 MiB) live and 6 per input, 128 MiB of big ones (over 256 KiB)
// live, and 256 MiB of bytes written and read per input; past those, a big
// request is cut down to a small one.
constexpr std::size_t kBig = 256 * 1024;
constexpr std::size_t kLarge = 16 * kMiB;
constexpr int kMaxLargeLive = 3;
constexpr int kMaxLargePerInput = 6;
constexpr std::size_t kMaxBigBytes = 128 * kMiB;
constexpr std::size_t kMaxWorkBytes = 256 * kMiB;
constexpr std::size_t kMaxAlign = 2 * kMiB;

// A template, so that the call below is only compiled once it resolves to
// the real checker.
template <class Char = char>
void check_process_heap(const char* when) {
  using Result =
      decltype(::rulloc_check(static_cast<Char*>(nullptr), std::size_t{0}));
  if constexpr (!std::is_same_v<Result, NoHeapChecker>) {
    Char error[512] = "";
    if (::rulloc_check(error, sizeof(error)) != 0) {
      fail("%s: rulloc_check(): %s", when, error);
    }
  } else {
    (void)when;  // HOOK: no process heap checker to call yet
  }
}

// A request the kernel can always serve on this machine: failing it is a
// bug, not a lack of memory.
bool must_succeed(std::size_t size, std::size_t align) {
  return fuzz::is_power_of_two(align) && align <= kMaxAlign &&
         size <= 48 * kMiB;
}
// A request no heap can serve: a bad alignment, or half the address space.
bool must_fail(std::size_t size, std::size_t align) {
  return !fuzz::is_power_of_two(align) || size >= (std::size_t{1} << 62);
}

// A thread that runs what it is given, one call at a time, while the
// fuzzing thread waits: the calls stay in input order (replayable), yet
// come from other threads, with their own caches and lanes.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();  // the thread's cache goes back as it exits
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run(const std::function<void()>& task) {
    std::unique_lock<std::mutex> lock(mutex_);
    task_ = &task;
    wake_.notify_all();
    wake_.wait(lock, [this] { return task_ == nullptr; });
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || task_ != nullptr; });
      if (task_ != nullptr) {
        (*task_)();
        task_ = nullptr;
        wake_.notify_all();
      } else {
        return;
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void()>* task_ = nullptr;
  bool stop_ = false;
  std::thread thread_;  // last: it starts at once and uses the rest
};

constexpr std::size_t kWorkers = 3;  // with the fuzzing thread: four lanes
std::unique_ptr<Worker> workers[kWorkers];

struct Block {
  void* ptr;
  std::size_t size;  // what was asked for
  std::size_t usable;
  std::uint64_t id;
};

// Ids never repeat within the process, so a block that reads as another
// block's bytes, or as its own bytes from an earlier input, is wrong.
std::uint64_t next_id = 1;

class Run {
 public:
  explicit Run(fuzz::Input& in) : in_(in) {}

  void step() {
    const std::uint8_t op = in_.byte() % 10;
    if (op == 8) {
      thread_ = in_.byte() % (kWorkers + 1);
    } else if (op == 9) {
      rare();
    } else if (live_.empty() || op <= 2) {
      allocate(op);
    } else {
      const std::size_t index = in_.byte() % live_.size();
      if (op <= 4) {
        on_thread([&] { release(index); });
      } else if (op <= 6) {
        const std::size_t size = std::max<std::size_t>(1, size_value());
        on_thread([&] { reallocate(index, size); });
      } else {
        verify(live_[index], "usable_size");
      }
    }
    if (++steps_ % 64 == 0) sweep("every 64 calls");
  }

  bool full() const { return live_.size() >= kMaxLive; }

  void finish() {
    on_thread([&] {
      while (!live_.empty()) release(live_.size() - 1);
    });
    check_process_heap("after freeing every block");
    // Empty regions and cached large ones go back, so the next input starts
    // from much the same heap and a crash reproduces from its input alone.
    heap::trim();
  }

 private:
  // Sizes over every road a request can take, edges included.
  std::size_t size_value() {
    const std::uint8_t kind = in_.byte();
    const std::size_t low = in_.two_bytes();
    std::size_t size;
    if (kind < 80) {
      size = low % 257;  // the 16-byte classes
    } else if (kind < 150) {
      size = low % (heap::kMaxSmallSize + 1);  // every class
    } else if (kind < 185) {
      // A class size, one byte less or one more.
      size = heap::class_size(low % heap::kClassCount) + (low >> 8) % 3 - 1;
    } else if (kind < 225) {
      size = heap::kMaxSmallSize + low * 4;  // the lane buckets, past 256 KiB
    } else if (kind < 240) {
      // The big-block bucket, as many of each power of two as of the next.
      size = (kBig << (low % 6)) + (low >> 3) * 64;
    } else if (kind < 244) {
      size = kLarge - 1 + low % 3;  // its edge
    } else if (kind < 250) {
      size = kLarge + low * 384;  // the dynamic bucket, up to 40 MiB
    } else {
      return kind & 1 ? SIZE_MAX - low : (SIZE_MAX >> 1) + low;
    }
    return within_budget(size);
  }
  std::size_t within_budget(std::size_t size) const {
    if (size <= kBig) return size;
    const bool over =
        work_ > kMaxWorkBytes || big_bytes_ + size > kMaxBigBytes ||
        (size > kLarge &&
         (large_live_ >= kMaxLargeLive || large_taken_ >= kMaxLargePerInput));
    return over ? size % heap::kMaxSmallSize : size;
  }
  // Powers of two up to 2 MiB; sometimes zero or not a power of two.
  std::size_t align_value() {
    const std::uint8_t b = in_.byte();
    if (b >= 250) return b == 255 ? 0 : b;
    return std::size_t{1} << (b % 22);
  }

  template <class F>
  void on_thread(F&& call) {
    if (thread_ == 0) {
      call();
      return;
    }
    auto& worker = workers[thread_ - 1];
    if (!worker) worker = std::make_unique<Worker>();
    worker->run(std::function<void()>(call));
  }

  // op 0: malloc, 1: calloc, 2: aligned (zeroed or not).
  void allocate(std::uint8_t op) {
    const std::size_t size = size_value();
    const std::size_t align = op == 2 ? align_value() : heap::kMallocAlign;
    const bool zeroed = op == 1 || (op == 2 && (in_.byte() & 1));
    on_thread([&] {
      void* p = heap::allocate(size, align, zeroed);
      if (p == nullptr) {
        if (must_succeed(size, align)) {
          fail("allocate(%zu, %zu, %d) failed", size, align, zeroed);
        }
        return;
      }
      if (must_fail(size, align)) {
        fail("allocate(%zu, %zu, %d) succeeded", size, align, zeroed);
      }
      const Block block =
          serve(p, size, std::max(align, heap::kMallocAlign), "allocate");
      if (zeroed) fuzz::expect_zero(p, size, "calloc");
      fuzz::fill_pattern(p, block.id, 0, block.usable);
      work_ += block.usable;
      live_.push_back(block);
    });
  }

  void release(std::size_t index) {
    const Block block = live_[index];
    verify(block, "before free");
    heap::release(block.ptr);
    forget(block);
    live_[index] = live_.back();
    live_.pop_back();
  }

  // realloc keeps min(old usable, new size) bytes: a program may use all
  // that malloc_usable_size() reported.
  void reallocate(std::size_t index, std::size_t size) {
    Block& block = live_[index];
    verify(block, "before realloc");
    void* p = heap::reallocate(block.ptr, size);
    if (p == nullptr) {
      if (must_succeed(size, heap::kMallocAlign)) {
        fail("realloc(%zu bytes, %zu) failed", block.size, size);
      }
      verify(block, "after a failed realloc");  // left as it was
      return;
    }
    if (must_fail(size, heap::kMallocAlign)) {
      fail("realloc(%zu bytes, %zu) succeeded", block.size, size);
    }
    const std::size_t kept = std::min(block.usable, size);
    const std::uint64_t id = block.id;
    forget(block);
    block = serve(p, size, heap::kMallocAlign, "realloc", id);
    fuzz::expect_pattern(p, id, 0, kept, "kept by realloc");
    fuzz::fill_pattern(p, id, kept, block.usable);
    work_ += block.usable;
  }

  void rare() {
    const std::uint8_t what = in_.byte() % 4;
    if (what == 0 && trims_ < 4) {
      // Gives back this thread's cache, free slabs and the pages inside
      // free engine blocks: none of a live block's bytes.
      ++trims_;
      on_thread([] { heap::trim(); });
      for (const Block& block : live_) verify(block, "after trim");
    } else if (what == 1 && retired_ < 2) {
      // The worker exits (its cache goes back, maybe holding blocks of live
      // neighbours' slabs) and a new thread takes a lane in its place.
      ++retired_;
      workers[in_.byte() % kWorkers].reset();
    } else if (what == 2) {
      sweep("on demand");
    }
  }

  // A block just handed out: big enough, aligned, where no other lives.
  Block serve(void* p, std::size_t size, std::size_t align, const char* call,
              std::uint64_t id = 0) {
    const Block block{p, size, heap::usable_size(p), id ? id : next_id++};
    if (block.usable < size) {
      fail("%s(%zu) gave %p with %zu usable bytes", call, size, p,
           block.usable);
    }
    if (reinterpret_cast<std::uintptr_t>(p) % align != 0) {
      fail("%s(%zu, %zu) gave %p", call, size, align, p);
    }
    ranges_.add(p, block.usable, block.id);
    if (block.usable > kBig) big_bytes_ += block.usable;
    if (block.usable > kLarge) {
      ++large_live_;
      ++large_taken_;
    }
    return block;
  }

  void forget(const Block& block) {
    ranges_.remove(block.ptr);
    if (block.usable > kBig) big_bytes_ -= block.usable;
    if (block.usable > kLarge) --large_live_;
  }

  void verify(const Block& block, const char* when) {
    fuzz::expect_pattern(block.ptr, block.id, 0, block.usable, when);
    const std::size_t usable = heap::usable_size(block.ptr);
    if (usable != block.usable) {
      fail("%s: block %p had %zu usable bytes, now %zu", when, block.ptr,
           block.usable, usable);
    }
    work_ += block.usable;
  }

  // Now and then: every live slab block, where neighbours are closest
  // (engine blocks are verified whenever they are used and freed), and the
  // heap's own invariants.
  void sweep(const char* when) {
    for (const Block& block : live_) {
      if (block.usable <= heap::kMaxSmallSize) verify(block, when);
    }
    check_process_heap(when);
  }

  fuzz::Input& in_;
  std::vector<Block> live_;
  fuzz::Ranges ranges_;
  std::size_t thread_ = 0;  // 0: the fuzzing thread, else a worker
  std::size_t steps_ = 0;
  std::size_t work_ = 0;
  std::size_t big_bytes_ = 0;
  int large_live_ = 0;
  int large_taken_ = 0;
  int trims_ = 0;
  int retired_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  // What the header promises for null pointers.
  heap::release(nullptr);
  if (heap::usable_size(nullptr) != 0) fail("usable_size(nullptr) != 0");
  fuzz::Input in(data, size);
  Run run(in);
  while (!in.empty() && !run.full()) run.step();
  run.finish();
  return 0;
}
