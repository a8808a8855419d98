#include "core/page_map.hpp"

#include <atomic>
#include <cstdint>

#include "platform/platform.hpp"

namespace rulloc::core::page_map {

std::atomic<detail::Leaf*> detail::root[std::size_t{1} << detail::kRootBits];

namespace {

std::atomic<std::size_t> leaf_count{0};

using detail::kLeafBits;
using detail::kLimit;
using detail::kPageBits;
using detail::Leaf;
using detail::root;

std::uintptr_t page_of(const void* address) noexcept {
  return reinterpret_cast<std::uintptr_t>(address) >> kPageBits;
}

Leaf* leaf_at(std::uintptr_t page) noexcept {
  return root[page >> kLeafBits].load(std::memory_order_acquire);
}

// The leaf of `page`, mapped when it does not exist yet; nullptr when the
// kernel gives no memory.
Leaf* make_leaf(std::uintptr_t page) noexcept {
  std::atomic<Leaf*>& slot = root[page >> kLeafBits];
  Leaf* leaf = slot.load(std::memory_order_acquire);
  if (leaf != nullptr) return leaf;
  auto* fresh = static_cast<Leaf*>(platform::map(sizeof(Leaf)));
  if (fresh == nullptr) return nullptr;
  if (!slot.compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) {
    platform::unmap(fresh, sizeof(Leaf));  // another thread made it first
    return leaf;
  }
  leaf_count.fetch_add(1, std::memory_order_relaxed);
  return fresh;
}

// Sets or clears the bits of pages [first, last] in one leaf.
void mark(Leaf& leaf, std::uintptr_t first, std::uintptr_t last,
          bool live) noexcept {
  const std::uintptr_t mask = (std::uintptr_t{1} << kLeafBits) - 1;
  for (std::uintptr_t bit = first & mask; bit <= (last & mask);) {
    const std::uintptr_t offset = bit % 64;
    const std::uintptr_t count = (last & mask) - bit + 1 < 64 - offset
                                     ? (last & mask) - bit + 1
                                     : 64 - offset;
    const std::uint64_t bits =
        (count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1)
        << offset;
    if (live) {
      leaf[bit / 64].fetch_or(bits, std::memory_order_relaxed);
    } else {
      leaf[bit / 64].fetch_and(~bits, std::memory_order_relaxed);
    }
    bit += count;
  }
}

}  // namespace

bool add(const void* base, std::size_t length) noexcept {
  const auto start = reinterpret_cast<std::uintptr_t>(base);
  if (length == 0 || start >= kLimit || length > kLimit - start) return false;
  const std::uintptr_t first = page_of(base);
  const std::uintptr_t last = (start + length - 1) >> kPageBits;
  // Every leaf first, so that a failure marks nothing.
  for (std::uintptr_t leaf = first >> kLeafBits; leaf <= last >> kLeafBits;
       ++leaf) {
    if (make_leaf(leaf << kLeafBits) == nullptr) return false;
  }
  for (std::uintptr_t page = first; page <= last;) {
    const std::uintptr_t leaf_last =
        page | ((std::uintptr_t{1} << kLeafBits) - 1);
    const std::uintptr_t end = leaf_last < last ? leaf_last : last;
    mark(*leaf_at(page), page, end, true);
    page = end + 1;
  }
  return true;
}

void remove(const void* base, std::size_t length) noexcept {
  const auto start = reinterpret_cast<std::uintptr_t>(base);
  if (length == 0 || start >= kLimit || length > kLimit - start) return;
  const std::uintptr_t last = (start + length - 1) >> kPageBits;
  for (std::uintptr_t page = page_of(base); page <= last;) {
    const std::uintptr_t leaf_last =
        page | ((std::uintptr_t{1} << kLeafBits) - 1);
    const std::uintptr_t end = leaf_last < last ? leaf_last : last;
    if (Leaf* leaf = leaf_at(page)) mark(*leaf, page, end, false);
    page = end + 1;
  }
}

std::size_t leaves() noexcept {
  return leaf_count.load(std::memory_order_relaxed);
}

}  // namespace rulloc::core::page_map
