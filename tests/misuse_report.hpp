// Death tests of misuse: the child must print exactly
//   rulloc: OPERATION(POINTER): PROBLEM
// as a line of its own, POINTER formatted as printf's %p does. In the
// "threadsafe" style (fork-safe, needed under TSan) the child re-runs the
// test from the start and gets other addresses than the parent, so the child
// announces its own pointer first (announce()) and the matcher looks for
// that one in rulloc's message.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <string>
#include <utility>

namespace rulloc_test {

inline void announce(const void* p) {
  std::fprintf(stderr, "pointer=%p\n", p);
  std::fflush(stderr);
}

class ReportsMisuse : public ::testing::MatcherInterface<const std::string&> {
 public:
  ReportsMisuse(std::string operation, std::string problem)
      : operation_(std::move(operation)), problem_(std::move(problem)) {}

  bool MatchAndExplain(
      const std::string& out,
      ::testing::MatchResultListener* listener) const override {
    const std::string key = "pointer=";
    const std::size_t at = out.find(key);
    if (at == std::string::npos) {
      *listener << "the child announced no pointer";
      return false;
    }
    const std::size_t end = out.find('\n', at);
    if (end == std::string::npos) {
      *listener << "the child's announcement has no end of line";
      return false;
    }
    const std::string expected =
        line(out.substr(at + key.size(), end - at - key.size()));
    // A whole line: neither a prefix nor a longer problem may pass.
    for (std::size_t start = end + 1; start < out.size();) {
      std::size_t stop = out.find('\n', start);
      if (stop == std::string::npos) stop = out.size();
      if (out.compare(start, stop - start, expected) == 0) return true;
      start = stop + 1;
    }
    *listener << "no line \"" << expected << "\"";
    return false;
  }

  void DescribeTo(std::ostream* os) const override {
    *os << "a line \"" << line("<announced pointer>") << "\"";
  }

 private:
  std::string line(const std::string& pointer) const {
    return "rulloc: " + operation_ + "(" + pointer + "): " + problem_;
  }

  std::string operation_;
  std::string problem_;
};

// The exact report of misuse by OPERATION of the announced pointer.
inline ::testing::Matcher<const std::string&> reports(std::string operation,
                                                      std::string problem) {
  return ::testing::MakeMatcher(
      new ReportsMisuse(std::move(operation), std::move(problem)));
}

// The problems the engine reports (src/core/engine.cpp).
inline constexpr const char* kAlreadyFree = "double free (block already free)";
// The same block used by any call that does not free it (grow, shrink,
// usable_size): the report names that call, and no double free.
inline constexpr const char* kUsedAfterFree = "block already free";
inline constexpr const char* kNotOurs = "not a pointer rulloc returned";
inline constexpr const char* kUnmapped =
    "double free (its region was already unmapped)";

}  // namespace rulloc_test
