// Secure mode, a build of its own (librulloc-secure.so, RULLOC_SECURE=1):
// free-list links encoded with a secret and checked when followed, a guard page
// at the end of every slab, blocks handed out in a random order within a slab
// (random_order.hpp), and every free block's canary checked when it is handed
// out again. The plain build keeps only the checks on free.
#pragma once

#ifndef RULLOC_SECURE
#define RULLOC_SECURE 0
#endif
#ifndef RULLOC_UNCHECKED
#define RULLOC_UNCHECKED 0
#endif

namespace rulloc::heap {

inline constexpr bool kSecure = RULLOC_SECURE != 0;
// A build without the misuse checks on free, only to measure what they
// cost (librulloc-unchecked.so, for the benchmark suite; never shipped).
inline constexpr bool kUnchecked = RULLOC_UNCHECKED != 0;

static_assert(!(kSecure && kUnchecked),
              "secure and unchecked exclude each other");

}  // namespace rulloc::heap
