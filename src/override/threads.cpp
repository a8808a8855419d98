// pthread_create and thrd_create, wrapped: a program creating a thread is
// where the purger's thread can start with no lock of the C library held,
// never inside malloc or free (heap/purger.hpp). Then the C library's own
// function, found as the next definition after ours, creates the thread.
//
// The one file above src/platform/ that names the OS's thread API: defining
// these entry points is the override layer's job, so it needs their types
// (<pthread.h>, <threads.h>; .ci/check-layers allows exactly those here).
// It calls the OS through the platform layer all the same.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <atomic>

#include "heap/process_heap.hpp"
#include "override/runtime_heap.hpp"

namespace {

using rulloc::override_layer::next_definition;

using PthreadCreate = int (*)(pthread_t*, const pthread_attr_t*,
                              void* (*)(void*), void*);
using ThrdCreate = int (*)(thrd_t*, thrd_start_t, void*);
std::atomic<PthreadCreate> libc_pthread_create{nullptr};
std::atomic<ThrdCreate> libc_thrd_create{nullptr};

}  // namespace

#define RULLOC_EXPORT extern "C" __attribute__((visibility("default")))

RULLOC_EXPORT int pthread_create(pthread_t* thread,
                                 const pthread_attr_t* attributes,
                                 void* (*start)(void*), void* argument) {
  const PthreadCreate create =
      next_definition(libc_pthread_create, "pthread_create");
  if (create == nullptr) return EAGAIN;
  // Starting the purger comes back here once; it is marked started first.
  rulloc::heap::before_thread_create();
  return create(thread, attributes, start, argument);
}

RULLOC_EXPORT int thrd_create(thrd_t* thread, thrd_start_t start,
                              void* argument) {
  const ThrdCreate create = next_definition(libc_thrd_create, "thrd_create");
  if (create == nullptr) return thrd_error;
  rulloc::heap::before_thread_create();
  return create(thread, start, argument);
}
