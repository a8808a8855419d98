#include "core/region.hpp"

#include <cstdint>

#include "core/alignment.hpp"
#include "platform/platform.hpp"

namespace rulloc::core {

std::size_t determine_region_length(std::size_t size) noexcept {
  const std::size_t page = platform::page_size();
  if (size > SIZE_MAX - kRegionHeaderSize - kBlockHeaderSize - 2 * page) {
    return 0;
  }
  const std::size_t total = kRegionHeaderSize + kBlockHeaderSize + size;
  std::size_t length = align_up(total, page);
  if (total < length && total + kMinSplitSize > length) length += page;
  return length;
}

}  // namespace rulloc::core
