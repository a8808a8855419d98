#include "core/misuse.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "platform/platform.hpp"

namespace rulloc::core {
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
  Message& hex(std::uintptr_t value) noexcept {
    char digits[2 + 2 * sizeof(value) + 1] = "0x";
    char* end = digits + 2;
    int shift = 8 * sizeof(value) - 4;
    while (shift > 0 && ((value >> shift) & 0xF) == 0) shift -= 4;
    for (; shift >= 0; shift -= 4)
      *end++ = "0123456789abcdef"[(value >> shift) & 0xF];
    *end = '\0';
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
      .hex(reinterpret_cast<std::uintptr_t>(pointer))
      .text("): ")
      .text(problem)
      .text("\n")
      .write();
  std::abort();
}

}  // namespace rulloc::core
