// Text kept in pages of its own until the writer is done: the dump and the
// heap map are drawn under the heap's locks, and written to their
// descriptor only once every lock is released, so a reader that stops
// reading (a full pipe) stalls no allocation and a thread cancelled in the
// write holds no lock. No malloc: the pages come from the OS.
//
//   Spool spool;
//   { Text out(Spool::sink, &spool); draw(out); }  // locks taken and released
//   spool.write_to(descriptor);                     // a cancellation point
#pragma once

#include <cstddef>

namespace rulloc::base {

class Spool {
 public:
  Spool() noexcept = default;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool();

  // A Text sink (text.hpp) appending to the spool. When the OS gives no
  // more pages, what does not fit is dropped and write_to() says so.
  static void sink(void* spool, const char* text, std::size_t length) noexcept;
  // Writes everything kept so far. A thread cancelled here unmaps the
  // pages on its way out (no destructor runs in this library).
  void write_to(int descriptor) const noexcept;
  // The same to the report output (platform::write_report()).
  void write_report() const noexcept;

  const char* data() const noexcept { return data_; }
  std::size_t length() const noexcept { return length_; }
  bool truncated() const noexcept { return truncated_; }

 private:
  bool grow(std::size_t needed) noexcept;
  // To `*descriptor`, or to the report output when it is nullptr.
  void send(const int* descriptor) const noexcept;
  void put_all(const int* descriptor) const noexcept;

  char* data_ = nullptr;
  std::size_t length_ = 0;
  std::size_t capacity_ = 0;
  bool truncated_ = false;
};

}  // namespace rulloc::base
