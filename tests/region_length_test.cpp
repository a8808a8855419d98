// determine_region_length against every value of the original's own test
// (seed-rulloc-region.rs.txt), in terms of the run-time page size P.
#include <gtest/gtest.h>

#include "core/region.hpp"
#include "test_util.hpp"

namespace {

using rulloc::core::determine_region_length;
using namespace rulloc_test;

TEST(RegionLength, PointerSizeFitsOnePage) {
  EXPECT_EQ(determine_region_length(8), page());
}

TEST(RegionLength, HalfPageFitsOnePage) {
  EXPECT_EQ(determine_region_length(page() / 2), page());
}

// Whole pages of content never fit with the headers: one more page each.
TEST(RegionLength, WholePagesNeedOneMore) {
  for (std::size_t i = 1; i <= 100; ++i) {
    EXPECT_EQ(determine_region_length(page() * i), page() * (i + 1))
        << "i = " << i;
  }
}

// Headers plus content fill the page exactly: no leftover to worry about.
TEST(RegionLength, ExactFit) {
  EXPECT_EQ(determine_region_length(page() - kRegionHeader - kBlockHeader),
            page());
}

// P-144: the leftover is exactly one block header plus MIN_BLOCK_SIZE.
TEST(RegionLength, LeftoverHoldsMinimumBlock) {
  EXPECT_EQ(determine_region_length(page() - kRegionHeader - 2 * kBlockHeader -
                                    kMinBlock),
            page());
}

// P-136: 48 bytes left over cannot become a block, so add a page.
TEST(RegionLength, LeftoverTooSmallAddsPage) {
  EXPECT_EQ(determine_region_length(page() - kRegionHeader - 2 * kBlockHeader -
                                    kMinBlock + 8),
            2 * page());
}

// The design's numbers, spelled out for 4 KiB pages.
TEST(RegionLength, DesignNumbersFor4KiB) {
  if (page() != 4096) GTEST_SKIP() << "page size is " << page();
  EXPECT_EQ(determine_region_length(4008), 4096u);
  EXPECT_EQ(determine_region_length(3952), 4096u);
  EXPECT_EQ(determine_region_length(3960), 8192u);
  EXPECT_EQ(determine_region_length(4104), 8192u);
  EXPECT_EQ(determine_region_length(8192), 12288u);
}

}  // namespace
