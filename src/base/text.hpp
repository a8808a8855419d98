// Text written without allocating: the live heap's check messages, dump and
// JSON figures (heap/inspect.cpp, core/inspect.cpp) are formatted into a
// buffer on the stack and handed to a sink in pieces, so they can be
// written from inside malloc's own locks or from a signal handler.
//
//   Text out(sink, context);   // 256 bytes on the stack
//   out << "slab " << index << ": " << pointer;  // numbers, pointers, text
//   out.flush();               // also at destruction
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rulloc::base {

class Text {
 public:
  using Sink = void (*)(void* context, const char* text, std::size_t length);

  Text(Sink sink, void* context) noexcept : sink_(sink), context_(context) {}
  ~Text() { flush(); }
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

  Text& operator<<(const char* text) noexcept {
    return write(text, std::strlen(text));
  }
  Text& operator<<(char c) noexcept { return write(&c, 1); }
  Text& operator<<(unsigned long long value) noexcept {
    char digits[20];
    std::size_t n = 0;
    do {
      digits[sizeof(digits) - ++n] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    return write(digits + sizeof(digits) - n, n);
  }
  Text& operator<<(unsigned long value) noexcept {
    return *this << static_cast<unsigned long long>(value);
  }
  Text& operator<<(unsigned value) noexcept {
    return *this << static_cast<unsigned long long>(value);
  }
  Text& operator<<(long long value) noexcept {
    if (value < 0) {
      *this << '-';
      return *this << (0ull - static_cast<unsigned long long>(value));
    }
    return *this << static_cast<unsigned long long>(value);
  }
  Text& operator<<(long value) noexcept {
    return *this << static_cast<long long>(value);
  }
  Text& operator<<(int value) noexcept {
    return *this << static_cast<long long>(value);
  }
  // As std::ostream prints a pointer: 0x and hex digits, 0 for nullptr.
  Text& operator<<(const void* pointer) noexcept {
    auto value = reinterpret_cast<std::uintptr_t>(pointer);
    if (value == 0) return *this << '0';
    char digits[2 + 2 * sizeof(value)];
    std::size_t n = 0;
    for (; value != 0; value >>= 4) {
      digits[sizeof(digits) - ++n] = "0123456789abcdef"[value & 15];
    }
    digits[sizeof(digits) - ++n] = 'x';
    digits[sizeof(digits) - ++n] = '0';
    return write(digits + sizeof(digits) - n, n);
  }

  Text& write(const char* text, std::size_t length) noexcept {
    written_ += length;
    while (length > 0) {
      if (used_ == sizeof(buffer_)) flush();
      const std::size_t room = sizeof(buffer_) - used_;
      const std::size_t n = length < room ? length : room;
      std::memcpy(buffer_ + used_, text, n);
      used_ += n;
      text += n;
      length -= n;
    }
    return *this;
  }
  // Spaces up to `width` characters written since mark().
  Text& pad_to(std::size_t width) noexcept {
    while (written_ - mark_ < width) *this << ' ';
    return *this;
  }
  void mark() noexcept { mark_ = written_; }
  std::size_t written() const noexcept { return written_; }

  void flush() noexcept {
    if (used_ > 0) sink_(context_, buffer_, used_);
    used_ = 0;
  }

 private:
  Sink sink_;
  void* context_;
  char buffer_[256];
  std::size_t used_ = 0;
  std::size_t written_ = 0;
  std::size_t mark_ = 0;
};

// A sink into a caller's array, as snprintf fills one: at most size - 1
// bytes and a NUL (when size > 0); `length` counts everything written.
struct Bounded {
  char* out;
  std::size_t size;
  std::size_t length = 0;

  Bounded(char* out_, std::size_t size_) noexcept : out(out_), size(size_) {
    if (size > 0) out[0] = '\0';
  }
  static void sink(void* context, const char* text,
                   std::size_t length) noexcept {
    auto* self = static_cast<Bounded*>(context);
    if (self->size > 0 && self->length < self->size - 1) {
      const std::size_t room = self->size - 1 - self->length;
      const std::size_t n = length < room ? length : room;
      std::memcpy(self->out + self->length, text, n);
      self->out[self->length + n] = '\0';
    }
    self->length += length;
  }
};

}  // namespace rulloc::base
