// Storage with one copy per thread for plain data of the heap (its thread
// cache): all zero when the thread starts, no constructor or destructor,
// at one place for the thread's life, and reached without a call, a lock or
// an allocation, so that malloc itself can keep it.
//
//   extern RULLOC_PER_THREAD T image;          // declared like a global
//   RULLOC_PER_THREAD T image;                 // defined in one file
//   T& mine = platform::this_thread(image);    // the calling thread's copy
//
// Linux: the compiler's TLS, initial-exec (one %fs-relative access): `image`
// is already the calling thread's copy.
// Windows: mingw-w64's GCC 12 has emulated TLS only (__emutls_get_address
// allocates each thread's copy with malloc, which would call the heap from
// itself), so the copy is the PE image's own TLS instead, what MSVC's
// __declspec(thread) uses: the object lives in the image's .tls section,
// which the loader copies for every thread before its first instruction;
// the thread's copy is found through its TEB (the TLS block of this image,
// at `image`'s offset from the section's start). `image` itself is only the
// pattern copied and must never be used directly.
//
//   gs:[0x58] -> TLS blocks [ image 0 | image 1 (_tls_index) | ... ]
//                                          |
//                                          v
//                 [ .tls of this image: _tls_start ... image ... _tls_end ]
#pragma once

#include <cstdint>

#if defined(_WIN32)

// mingw-w64's CRT (tlssup.c) defines the TLS directory of the image: its
// index among the thread's blocks and the first byte of its section.
extern "C" unsigned long _tls_index;
extern "C" char _tls_start;

// The linker sorts .tls$* by name between .tls and .tls$ZZZ, which holds
// _tls_end: the name must sort before ZZZ (upper case).
#define RULLOC_PER_THREAD __attribute__((section(".tls$RULLOC")))

namespace rulloc::platform {

template <typename T>
inline T& this_thread(T& image) noexcept {
  char** blocks;  // the TEB's ThreadLocalStoragePointer (x86-64)
  asm("movq %%gs:0x58, %0" : "=r"(blocks));
  const std::uintptr_t offset = reinterpret_cast<std::uintptr_t>(&image) -
                                reinterpret_cast<std::uintptr_t>(&_tls_start);
  return *reinterpret_cast<T*>(blocks[_tls_index] + offset);
}

}  // namespace rulloc::platform

#else

#define RULLOC_PER_THREAD __thread __attribute__((tls_model("initial-exec")))

namespace rulloc::platform {

template <typename T>
inline T& this_thread(T& image) noexcept {
  // The copy's address as a plain pointer, computed once: GCC's UBSan
  // otherwise tests the %fs-relative offset of a member it reaches
  // directly for null, and reports a null `this` (false, but fatal).
  T* copy = &image;
  asm("" : "+r"(copy));
  return *copy;
}

}  // namespace rulloc::platform

#endif
