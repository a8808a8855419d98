// The engine as the process heap uses it: what Rulloc<N> does not need, and
// so is not in the installed rulloc/detail/engine.hpp.
//
// - Lanes: fixed buckets with equal limits form a group, and `lane` picks
//   one of them (modulo the group's size), so threads given different lanes
//   do not share a lock. Rulloc<N>'s limits increase strictly, so there each
//   group is one bucket and the public calls use lane 0.
// - `operation` names the caller's call (malloc, free, realloc, ...) in
//   misuse reports, where the public calls name their own.
// - limit_for(), for realloc's slack; lock_all() / unlock_all() across
//   fork().
//
// These hide the public calls of the same names: through a LanedEngine, a
// call always says its lane and its operation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "base/text.hpp"
#include "core/region.hpp"
#include "rulloc/detail/engine.hpp"
#include "rulloc/layout.hpp"

namespace rulloc::core {

class LanedEngine : public detail::Engine {
 public:
  using detail::Engine::Engine;

  Allocation allocate(Layout layout, bool zeroed, std::size_t lane,
                      const char* operation) noexcept;
  std::size_t deallocate(void* ptr, const char* operation) noexcept;
  // A block stays in its bucket when the new size belongs to a bucket of
  // the same limit (its own lane); otherwise it moves to `lane` of the
  // bucket the new size asks for. grow() or shrink(), as the sizes ask.
  Allocation reallocate(void* ptr, Layout old_layout, Layout new_layout,
                        std::size_t lane, const char* operation) noexcept;
  std::size_t usable_size(const void* ptr,
                          const char* operation) const noexcept;

  // The limit of the bucket a block of `size` bytes goes to (SIZE_MAX: the
  // dynamic bucket's).
  std::size_t limit_for(std::size_t size) const noexcept;

  // From now on a block of `bytes` or more goes to the dynamic bucket, a
  // region of its own (cached or unmapped when freed, grown by remapping),
  // whatever the fixed buckets' limits (mallopt's M_MMAP_THRESHOLD). A
  // block allocated before stays where it is until it is reallocated.
  void set_own_region_from(std::size_t bytes) noexcept {
    own_region_from_.store(bytes, std::memory_order_relaxed);
  }
  std::size_t own_region_from() const noexcept {
    return own_region_from_.load(std::memory_order_relaxed);
  }

  // Holds every bucket lock, e.g. across fork() so the child inherits a
  // consistent heap.
  void lock_all() noexcept;
  void unlock_all() noexcept;

  // The live heap, on demand (inspect.cpp), without allocating: every
  // bucket checked as check() does, each under its own lock in turn;
  // every bucket drawn as dump() does ("bucket limit L: busy" for one
  // whose lock is held, when `try_only`); one bucket's bytes by use.
  bool check(base::Text& error) const noexcept;
  void dump(base::Text& out, bool try_only) const noexcept;
  struct Account {
    std::size_t limit, mapped, used, free, headers, cached, purged;
  };
  Account account(std::size_t bucket) const noexcept;
  // Bucket::visit() of one bucket; a bucket's limit (SIZE_MAX: dynamic).
  bool visit(std::size_t bucket, RegionVisitor& visitor,
             bool try_only) const noexcept;
  std::size_t limit(std::size_t bucket) const noexcept;

 private:
  std::atomic<std::size_t> own_region_from_{SIZE_MAX};
};

}  // namespace rulloc::core
