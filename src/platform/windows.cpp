// Windows implementation of the platform layer: VirtualAlloc/VirtualFree.
//
// Differences from POSIX that the contract of platform.hpp hides:
// - VirtualAlloc places mappings on the allocation granularity (64 KiB) but
//   sizes them in pages, so lengths are rounded to dwPageSize, never to
//   dwAllocationGranularity (that would make every small region 16 pages).
// - VirtualFree(MEM_RELEASE) only takes the base of a whole reservation and
//   a size of 0; rulloc always unmaps whole mappings, so that fits unmap().
// - retire() decommits (MEM_DECOMMIT): the reservation stays, so the range
//   cannot be handed out again until unmap() releases it.
// - There is no mremap: remap() always says no and callers copy instead.
// - MEM_RESET keeps the pages committed and lets the OS drop their contents,
//   which is what madvise(MADV_DONTNEED) does for purge().
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <atomic>
#include <cstdint>

#include "platform/platform.hpp"

namespace rulloc::platform {

std::size_t page_size() noexcept {
  // A benign race: every thread computes the same value.
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    size =
        info.dwPageSize > 0 ? static_cast<std::size_t>(info.dwPageSize) : 4096;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

void* map(std::size_t length) noexcept {
  // Committed pages read as zero, like MAP_ANONYMOUS. A length of 0 fails
  // (as mmap does), and so does anything the OS cannot reserve.
  if (length == 0) return nullptr;
  return VirtualAlloc(nullptr, length, MEM_RESERVE | MEM_COMMIT,
                      PAGE_READWRITE);
}

bool unmap(void* address, std::size_t length) noexcept {
  // MEM_RELEASE frees the whole reservation made by map() and wants size 0.
  if (address == nullptr || length == 0) return false;
  return VirtualFree(address, 0, MEM_RELEASE) != 0;
}

bool retire(void* address, std::size_t length) noexcept {
  if (address == nullptr || length == 0) return false;
  return VirtualFree(address, length, MEM_DECOMMIT) != 0;
}

bool reserve(void* address, std::size_t length) noexcept {
  if (address == nullptr || length == 0) return false;
  // VirtualAlloc rounds the address down to the allocation granularity.
  void* reserved = VirtualAlloc(address, length, MEM_RESERVE, PAGE_NOACCESS);
  if (reserved == address) return true;
  if (reserved != nullptr) VirtualFree(reserved, 0, MEM_RELEASE);
  return false;
}

void* remap(void* /*address*/, std::size_t /*old_length*/,
            std::size_t /*new_length*/) noexcept {
  return nullptr;
}

// VirtualFree(MEM_RELEASE) takes a whole reservation only.
bool maps_split() noexcept { return false; }

bool purge(void* address, std::size_t length) noexcept {
  if (length == 0) return true;
  // MEM_RESET would round the start down to a page and so drop bytes before
  // `address`; madvise rejects an unaligned start, and so does this.
  if (reinterpret_cast<std::uintptr_t>(address) % page_size() != 0) {
    return false;
  }
  return VirtualAlloc(address, length, MEM_RESET, PAGE_READWRITE) != nullptr;
}

bool make_guard(void* address, std::size_t length) noexcept {
  DWORD old_protection;
  return VirtualProtect(address, length, PAGE_NOACCESS, &old_protection) != 0;
}

void write_error(const char* text, std::size_t length) noexcept {
  HANDLE handle = GetStdHandle(STD_ERROR_HANDLE);
  if (handle == nullptr || handle == INVALID_HANDLE_VALUE) return;
  while (length > 0) {
    const DWORD chunk =
        length > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<DWORD>(length);
    DWORD written = 0;
    if (!WriteFile(handle, text, chunk, &written, nullptr) || written == 0) {
      return;
    }
    text += written;
    length -= written;
  }
}

unsigned long long monotonic_ms() noexcept { return GetTickCount64(); }

// Windows cannot tell cheaply; the answer that is always safe.
bool process_is_single_threaded() noexcept { return false; }

}  // namespace rulloc::platform
