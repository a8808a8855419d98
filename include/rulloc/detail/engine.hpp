// The non-template engine behind rulloc::Rulloc<N>. Rulloc<N> only owns the
// storage for its buckets; every algorithm lives in the compiled library, so
// the public header stays small and the core stays private.
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

  // Fixed buckets with equal limits form a group of lanes: `lane` picks one
  // of them (modulo the group's size), so threads given different lanes do
  // not share a lock. Rulloc<N>'s limits increase strictly: one lane each.
  // `operation` names the caller's call in misuse reports.
  Allocation allocate(Layout layout, bool zeroed, std::size_t lane = 0,
                      const char* operation = "allocate") noexcept;
  // Returns the usable size the block had (0 for nullptr).
  std::size_t deallocate(void* ptr,
                         const char* operation = "deallocate") noexcept;
  // A block stays in its bucket when the new size belongs to a bucket of
  // the same limit (its own lane); otherwise it moves to `lane` of the
  // bucket the new size asks for.
  Allocation grow(void* ptr, Layout old_layout, Layout new_layout, bool zeroed,
                  std::size_t lane = 0,
                  const char* operation = "grow") noexcept;
  Allocation shrink(void* ptr, Layout old_layout, Layout new_layout,
                    std::size_t lane = 0,
                    const char* operation = "shrink") noexcept;
  // grow() or shrink(), whichever the sizes ask for.
  Allocation reallocate(void* ptr, Layout old_layout, Layout new_layout,
                        std::size_t lane = 0,
                        const char* operation = nullptr) noexcept {
    return new_layout.size >= old_layout.size
               ? grow(ptr, old_layout, new_layout, false, lane,
                      operation != nullptr ? operation : "grow")
               : shrink(ptr, old_layout, new_layout, lane,
                        operation != nullptr ? operation : "shrink");
  }
  // `operation` names the caller's call in a misuse report.
  std::size_t usable_size(const void* ptr,
                          const char* operation = "usable_size") const noexcept;

  std::size_t bucket_count() const noexcept { return count_ + 1; }
  // The limit of the bucket a block of `size` bytes goes to (SIZE_MAX: the
  // dynamic bucket's).
  std::size_t limit_for(std::size_t size) const noexcept;
  BucketStats stats(std::size_t bucket) const noexcept;
  bool check(std::string* error) const;
  std::size_t trim() noexcept;
  std::size_t trim_unused() noexcept;
  void dump(std::ostream& out) const;

  // Holds every bucket lock, e.g. across fork() so the child inherits a
  // consistent heap.
  void lock_all() noexcept;
  void unlock_all() noexcept;

 private:
  Allocation resize(void* ptr, Layout old_layout, Layout new_layout,
                    const char* operation, std::size_t lane) noexcept;
  std::size_t bucket_for(std::size_t size, std::size_t lane) const noexcept;

  BucketStorage* buckets_;
  std::size_t count_;
};

}  // namespace rulloc::detail
