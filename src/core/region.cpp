#include "core/region.hpp"

#include <cstdint>
#include <new>

#include "base/alignment.hpp"
#include "base/misuse.hpp"
#include "core/page_map.hpp"
#include "core/retired_regions.hpp"
#include "platform/faults.hpp"
#include "platform/platform.hpp"

namespace rulloc::core {

std::size_t determine_region_length(std::size_t size) noexcept {
  const std::size_t page = platform::page_size();
  if (size > SIZE_MAX - kRegionHeaderSize - kBlockHeaderSize - 2 * page) {
    return 0;
  }
  const std::size_t total = kRegionHeaderSize + kBlockHeaderSize + size;
  std::size_t length = base::align_up(total, page);
  if (total < length && total + kMinSplitSize > length) length += page;
  return length;
}

RegionHeader* format_region(void* memory, std::size_t length,
                            std::uint8_t bucket, Pages pages) noexcept {
  auto* region = new (memory)
      RegionHeader{nullptr, nullptr, {}, length - kRegionHeaderSize};
  auto* block = new (region->base() + kRegionHeaderSize)
      BlockHeader{nullptr,    nullptr, region, region->size - kBlockHeaderSize,
                  true,       bucket,  pages,  0,
                  kBlockMagic};
  region->blocks.push_back(block);
  return region;
}

RegionHeader* remap_region(RegionHeader* region, std::size_t length) noexcept {
  if (platform::faults::map_should_fail()) return nullptr;
  const std::size_t old_length = region->total_size();
  void* moved = platform::remap(region, old_length, length);
  if (moved == nullptr) return nullptr;
  page_map::remove(region, old_length);
  if (!page_map::add(moved, length)) {
    // No memory for 32 KiB of bits: the region cannot be recognised, and
    // its bytes (a block in use) cannot be dropped.
    base::report_misuse("remap", moved, "out of memory for the page map");
  }
  // Freeing through a pointer into the old range must still be reported.
  if (moved != region) retired_regions::retire_moved(region, old_length);
  // Headers moved with the bytes; only the pointers to them need updating.
  auto* result = static_cast<RegionHeader*>(moved);
  set_length(result, length);
  return result;
}

void set_length(RegionHeader* region, std::size_t length) noexcept {
  region->size = length - kRegionHeaderSize;
  auto* block =
      reinterpret_cast<BlockHeader*>(region->base() + kRegionHeaderSize);
  block->region = region;
  block->size = region->size - kBlockHeaderSize;
  region->blocks.head = block;
  region->blocks.tail = block;
}

}  // namespace rulloc::core
