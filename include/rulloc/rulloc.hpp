// rulloc: a general purpose memory allocator that teaches how one works.
//
// Rulloc<N> is an allocator object with N fixed size buckets plus one dynamic
// bucket for everything larger. Each bucket owns regions mapped from the
// kernel, regions hold blocks with headers, and free blocks form a free list
// per bucket. See README.md for the memory layout.
#pragma once

#include <array>
#include <cstddef>
#include <iosfwd>
#include <limits>
#include <memory_resource>
#include <new>
#include <string>

#include "rulloc/detail/engine.hpp"
#include "rulloc/layout.hpp"

namespace rulloc {

// Default bucket limits: 128, 1024, 8192, ... (each 8x the one before).
template <std::size_t N>
constexpr std::array<std::size_t, N> default_bucket_limits() noexcept {
  std::array<std::size_t, N> limits{};
  std::size_t limit = 128;
  for (std::size_t i = 0; i < N; ++i) {
    limits[i] = limit;
    if (limit <= std::numeric_limits<std::size_t>::max() / 8) limit *= 8;
  }
  return limits;
}

template <std::size_t N = 3>
class Rulloc : public std::pmr::memory_resource {
 public:
  static_assert(N < 255, "a block header keeps its bucket in one byte");
  static constexpr std::size_t kBuckets = N + 1;

  Rulloc() noexcept : Rulloc(default_bucket_limits<N>(), Options{}) {}
  explicit Rulloc(Options options) noexcept
      : Rulloc(default_bucket_limits<N>(), options) {}
  explicit Rulloc(std::array<std::size_t, N> bucket_limits,
                  Options options = {}) noexcept
      : limits_(bucket_limits),
        engine_(storage_.data(), limits_.data(), N, options) {}
  // Rulloc<5>({32, 128, 512, 2048, 8192}): a braced list of limits binds
  // here first, so it never reads as an Options of as many fields.
  explicit Rulloc(const std::size_t (&bucket_limits)[N],
                  Options options = {}) noexcept
      : Rulloc(std::to_array(bucket_limits), options) {}
  ~Rulloc() override = default;  // the engine unmaps every region
  Rulloc(const Rulloc&) = delete;
  Rulloc& operator=(const Rulloc&) = delete;

  // The std::pmr entry points stay reachable on the object itself.
  using std::pmr::memory_resource::allocate;
  using std::pmr::memory_resource::deallocate;

  Allocation allocate(Layout layout) noexcept {
    return engine_.allocate(layout, false);
  }
  Allocation allocate_zeroed(Layout layout) noexcept {
    return engine_.allocate(layout, true);
  }
  // `layout` is the one given to allocate (any size up to the returned one).
  // The block header knows its bucket, so the layout is not needed.
  void deallocate(void* ptr, Layout /*layout*/) noexcept {
    engine_.deallocate(ptr);
  }
  void deallocate(void* ptr) noexcept { engine_.deallocate(ptr); }

  Allocation grow(void* ptr, Layout old_layout, Layout new_layout) noexcept {
    return engine_.grow(ptr, old_layout, new_layout, false);
  }
  // Zeroes the bytes [old_layout.size, new_layout.size).
  Allocation grow_zeroed(void* ptr, Layout old_layout,
                         Layout new_layout) noexcept {
    return engine_.grow(ptr, old_layout, new_layout, true);
  }
  Allocation shrink(void* ptr, Layout old_layout, Layout new_layout) noexcept {
    return engine_.shrink(ptr, old_layout, new_layout);
  }
  // Grow or shrink, whichever the sizes ask for.
  Allocation reallocate(void* ptr, Layout old_layout,
                        Layout new_layout) noexcept {
    return engine_.reallocate(ptr, old_layout, new_layout);
  }
  // Bytes usable at `ptr` (0 for nullptr).
  std::size_t usable_size(const void* ptr) const noexcept {
    return engine_.usable_size(ptr);
  }

  // Gives memory back to the kernel now: unmaps every empty region (those
  // kept by Options::keep_empty_regions too) and purges the whole pages
  // inside free blocks. Returns the bytes given back.
  std::size_t trim() noexcept { return engine_.trim(); }
  // For a program that calls it now and then (e.g. once a second): gives
  // back what went unused since its last call. A bucket nothing used
  // meanwhile is trimmed as above (once, until it is used again); a bucket
  // in use gives back its empty regions if none of them emptied or served
  // again meanwhile, and purges the pages of free blocks that stayed free
  // since the last call. Returns the bytes given back.
  std::size_t trim_unused() noexcept { return engine_.trim_unused(); }

  std::array<BucketStats, kBuckets> stats() const {
    std::array<BucketStats, kBuckets> out{};
    for (std::size_t i = 0; i < kBuckets; ++i) out[i] = engine_.stats(i);
    return out;
  }
  // Verifies every invariant of every region; describes the first broken one.
  bool check(std::string* error = nullptr) const {
    return engine_.check(error);
  }
  // Draws every region and its blocks as ASCII.
  void dump(std::ostream& out) const { engine_.dump(out); }

  // The engine behind this object, for the C API (not a stable interface).
  detail::Engine& detail_engine() noexcept { return engine_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    Allocation a = engine_.allocate(Layout{bytes, align}, false);
    if (a.ptr == nullptr) throw std::bad_alloc();
    return a.ptr;
  }
  void do_deallocate(void* ptr, std::size_t, std::size_t) override {
    engine_.deallocate(ptr);
  }
  bool do_is_equal(
      const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::array<std::size_t, N> limits_;
  std::array<detail::BucketStorage, kBuckets> storage_{};
  detail::Engine engine_;
};

// A process-wide Rulloc<> that is never destroyed, so objects with static
// storage duration may free into it at exit.
Rulloc<>& default_instance() noexcept;

// An STL allocator over any memory_resource (a Rulloc<N> by default the
// process-wide instance): std::vector<int, rulloc::StlAllocator<int>>.
template <class T>
class StlAllocator {
 public:
  using value_type = T;

  StlAllocator() noexcept : resource_(&default_instance()) {}
  explicit StlAllocator(std::pmr::memory_resource* resource) noexcept
      : resource_(resource) {}
  template <class U>
  StlAllocator(const StlAllocator<U>& other) noexcept  // NOLINT: rebinding
      : resource_(other.resource()) {}

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) {
      throw std::bad_array_new_length();
    }
    return static_cast<T*>(resource_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* ptr, std::size_t n) noexcept {
    resource_->deallocate(ptr, n * sizeof(T), alignof(T));
  }
  std::pmr::memory_resource* resource() const noexcept { return resource_; }

  template <class U>
  bool operator==(const StlAllocator<U>& other) const noexcept {
    return resource_->is_equal(*other.resource());
  }

 private:
  std::pmr::memory_resource* resource_;
};

}  // namespace rulloc
