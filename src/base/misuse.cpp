#include "base/misuse.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "platform/platform.hpp"

namespace rulloc::base {
namespace {

// Appends without allocating: the heap may be the thing that is broken.
class Message {
 public:
  Message& text(const char* text) noexcept {
    std::size_t length = std::strlen(text);
    if (length > sizeof(buffer_) - used_) length = sizeof(buffer_) - used_;
    std::memcpy(buffer_ + used_, text, length);
    used_ += length;
    return *this;
  }
  // Formatted as printf's %p does on this platform, so the message matches
  // what the program itself would print for the pointer.
  Message& pointer(const void* value) noexcept {
    char digits[32];
    std::snprintf(digits, sizeof(digits), "%p", value);
    return text(digits);
  }
  void write() const noexcept { platform::write_error(buffer_, used_); }

 private:
  char buffer_[256];
  std::size_t used_ = 0;
};

}  // namespace

void report_misuse(const char* operation, const void* pointer,
                   const char* problem) noexcept {
  Message()
      .text("rulloc: ")
      .text(operation)
      .text("(")
      .pointer(pointer)
      .text("): ")
      .text(problem)
      .text("\n")
      .write();
  std::abort();
}

void report_already_free(const char* operation, const void* pointer,
                         const char* detail) noexcept {
  const bool frees = std::strcmp(operation, "free") == 0 ||
                     std::strcmp(operation, "deallocate") == 0;
  char problem[128];
  if (frees) {
    std::snprintf(problem, sizeof(problem), "double free (%s)",
                  detail != nullptr ? detail : "block already free");
  } else if (detail != nullptr) {
    std::snprintf(problem, sizeof(problem), "block already free (%s)", detail);
  } else {
    std::snprintf(problem, sizeof(problem), "block already free");
  }
  report_misuse(operation, pointer, problem);
}

}  // namespace rulloc::base
