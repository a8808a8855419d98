/* Preloaded after librulloc.so by the real-program tests (common.sh's
 * on_rulloc): as each process exits, it appends one line
 *   EXECUTABLE PID ALLOCATIONS PEAK
 * to the file named by $DROPIN_WITNESS, ALLOCATIONS and PEAK (the peak of
 * bytes in use) being what rulloc's own entry point counted in that process
 * ("none none" without rulloc). A test can so
 * tell that the program under test, in its own process, allocated through
 * rulloc: a wrapper (the bash that runs git, say) shows up under its own
 * name, and a program whose malloc is not rulloc's counts next to nothing.
 * It writes to a file, not to stderr, which the tests compare with glibc's
 * and which some programs parse (CPython's test workers). */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rulloc/malloc.h"

__attribute__((destructor)) static void dropin_witness(void) {
  const char* path = getenv("DROPIN_WITNESS");
  if (path == NULL) return;
  char exe[1024];
  const ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  exe[length > 0 ? length : 0] = '\0';
  char counts[64] = "none none";
  int (*stats)(rulloc_malloc_stats*);
  void* symbol = dlsym(RTLD_DEFAULT, "rulloc_get_malloc_stats");
  *(void**)(&stats) = symbol;
  rulloc_malloc_stats s;
  if (stats != NULL && stats(&s) == 0) {
    snprintf(counts, sizeof(counts), "%zu %zu", s.allocations,
             s.peak_bytes_in_use);
  }
  char line[1200];
  const int n = snprintf(line, sizeof(line), "%s %ld %s\n", exe,
                         (long)getpid(), counts);
  /* One write with O_APPEND: lines of processes exiting at once stay whole. */
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (n > 0 && write(fd, line, (size_t)n) != n) {
    /* Nothing to do: a missing line fails the test, which is the point. */
  }
  close(fd);
}
