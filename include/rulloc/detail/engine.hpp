// The non-template engine behind rulloc::Rulloc<N>: what Rulloc<N> and the
// C API call, and no more. Rulloc<N> only owns the storage for its buckets;
// every algorithm lives in the compiled library, so the public header stays
// small and the core stays private (what only the process heap needs, such
// as lanes, lives in src/core/laned_engine.hpp).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "rulloc/layout.hpp"

namespace rulloc::detail {

// Room for one core::Bucket (its mutex, lists and counters). The library
// checks at compile time that a bucket fits.
inline constexpr std::size_t kBucketStorageBytes = 1280;

struct alignas(64) BucketStorage {
  std::byte raw[kBucketStorageBytes];
};

class Engine {
 public:
  // `limits` holds `count` fixed-bucket limits; `buckets` has room for
  // count + 1 buckets (the last is the dynamic bucket).
  Engine(BucketStorage* buckets, const std::size_t* limits, std::size_t count,
         Options options) noexcept;
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Allocation allocate(Layout layout, bool zeroed) noexcept;
  // Returns the usable size the block had (0 for nullptr).
  std::size_t deallocate(void* ptr) noexcept;
  Allocation grow(void* ptr, Layout old_layout, Layout new_layout,
                  bool zeroed) noexcept;
  Allocation shrink(void* ptr, Layout old_layout, Layout new_layout) noexcept;
  // grow() or shrink(), whichever the sizes ask for.
  Allocation reallocate(void* ptr, Layout old_layout,
                        Layout new_layout) noexcept {
    return new_layout.size >= old_layout.size
               ? grow(ptr, old_layout, new_layout, false)
               : shrink(ptr, old_layout, new_layout);
  }
  std::size_t usable_size(const void* ptr) const noexcept;

  std::size_t bucket_count() const noexcept { return count_ + 1; }
  BucketStats stats(std::size_t bucket) const noexcept;
  bool check(std::string* error) const;
  std::size_t trim() noexcept;
  std::size_t trim_unused() noexcept;
  void dump(std::ostream& out) const;

 protected:
  // For the library's own extension of the engine (the process heap's).
  BucketStorage* buckets_;
  std::size_t count_;
};

}  // namespace rulloc::detail
