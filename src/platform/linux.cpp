// POSIX implementation of the platform layer: mmap/munmap/madvise.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include "platform/platform.hpp"

namespace rulloc::platform {

std::size_t page_size() noexcept {
  // A benign race: every thread computes the same value.
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    long value = sysconf(_SC_PAGESIZE);
    size = value > 0 ? static_cast<std::size_t>(value) : 4096;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

void* map(std::size_t length) noexcept {
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return address == MAP_FAILED ? nullptr : address;
}

bool unmap(void* address, std::size_t length) noexcept {
  return munmap(address, length) == 0;
}

bool purge(void* address, std::size_t length) noexcept {
  return madvise(address, length, MADV_DONTNEED) == 0;
}

bool make_guard(void* address, std::size_t length) noexcept {
  return mprotect(address, length, PROT_NONE) == 0;
}

void write_error(const char* text, std::size_t length) noexcept {
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<std::size_t>(written);
  }
}

}  // namespace rulloc::platform
