// Linux implementation of the platform layer: mmap/munmap/mremap/madvise.
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <time.h>
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

bool retire(void* address, std::size_t length) noexcept {
  // MAP_FIXED swaps the pages for the reservation in one step, leaving no
  // moment in which another thread's mmap could take the range.
  void* reserved =
      mmap(address, length, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return reserved == address;
}

bool reserve(void* address, std::size_t length) noexcept {
  // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and may map elsewhere.
  void* reserved = mmap(
      address, length, PROT_NONE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (reserved == address) return true;
  if (reserved != MAP_FAILED) munmap(reserved, length);
  return false;
}

void* remap(void* address, std::size_t old_length,
            std::size_t new_length) noexcept {
  // The kernel moves page table entries, not bytes: no copy, no new faults.
  void* moved = mremap(address, old_length, new_length, MREMAP_MAYMOVE);
  return moved == MAP_FAILED ? nullptr : moved;
}

bool maps_split() noexcept { return true; }

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

unsigned long long monotonic_ms() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // the vDSO: no system call
  return static_cast<unsigned long long>(now.tv_sec) * 1000 +
         static_cast<unsigned long long>(now.tv_nsec) / 1000000;
}

// glibc sets it to false before it creates the first thread and never back
// (a forked child of a threaded parent may get true again: it has one).
bool process_is_single_threaded() noexcept { return __libc_single_threaded; }

}  // namespace rulloc::platform
