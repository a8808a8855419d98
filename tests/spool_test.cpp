// base::Spool (src/base/spool.hpp): text kept in pages of its own, grown
// past its first mapping with everything kept in order, then written out.
#include "base/spool.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "base/text.hpp"
#include "platform/platform.hpp"

namespace {

using rulloc::base::Spool;
using rulloc::base::Text;

TEST(Spool, KeepsEverythingInOrderAcrossGrowth) {
  Spool spool;
  std::string expected;
  {
    Text out(Spool::sink, &spool);
    // About 1.1 MiB: several doublings beyond the first 16 pages.
    for (unsigned i = 0; i < 100000; ++i) {
      out << "line " << i << '\n';
      expected += "line " + std::to_string(i) + '\n';
    }
  }
  EXPECT_FALSE(spool.truncated());
  ASSERT_EQ(spool.length(), expected.size());
  EXPECT_EQ(std::string(spool.data(), spool.length()), expected);
}

TEST(Spool, WritesWhatItKeeps) {
  const char* path = "spool_test.out";
  const int descriptor = rulloc::platform::create_file(path);
  ASSERT_GE(descriptor, 0);
  Spool spool;
  {
    Text out(Spool::sink, &spool);
    out << "segment " << 3u << ": free\n";
  }
  spool.write_to(descriptor);
  rulloc::platform::close_file(descriptor);
  std::FILE* file = std::fopen(path, "rb");
  ASSERT_NE(file, nullptr);
  char read[64] = {};
  EXPECT_EQ(std::fread(read, 1, sizeof(read) - 1, file), 16u);
  std::fclose(file);
  std::remove(path);
  EXPECT_STREQ(read, "segment 3: free\n");
}

TEST(Spool, AnEmptySpoolWritesNothing) {
  Spool spool;
  EXPECT_EQ(spool.length(), 0u);
  EXPECT_EQ(spool.data(), nullptr);
}

}  // namespace
