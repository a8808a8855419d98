/* The process allocator never hangs and never keeps what it should give
 * back. Each mode is one CTest test (tests/dropin/reliability.cmake, with a
 * short timeout: a deadlock fails in seconds).
 *   detached N      N detached threads with default stacks exit: glibc
 *                   frees their cached stacks' TLS while it holds its
 *                   stack-cache lock, which creating a thread also takes
 *   joined N        N threads created, then joined by main
 *   dlopen-tls LIB  8 threads, 20 rounds, use a dlopened library's 100 KB
 *                   of __thread data (freed at thread exit); the library
 *                   frees 16 MiB in its constructor and destructor
 *   exit-frees      an atexit handler frees 64 MiB, single-threaded
 *   fork-frees      a threaded parent forks while its threads exit; the
 *                   child frees 64 MiB, creates a thread and exits
 *   realloc-shrink  64 MiB shrunk by realloc to 1000 bytes and to 20 MiB:
 *                   the memory goes back within three purge rounds
 *   big-freed       blocks of 100, 200 and 300 MiB freed, each beyond the
 *                   large cache's 64 MiB: nothing stays, at once with
 *                   RULLOC_PURGE_DELAY_MS=0, within three rounds otherwise
 *   single          one 1 MiB block freed: still one thread, unshare works
 *   no-thread       RULLOC_PURGE_THREAD=0: 1 GiB freed, still one thread,
 *                   and the program's own frees give it back
 *   usable-freed    malloc_usable_size of a freed block: reported, naming
 *                   malloc_usable_size (dies)
 *   foreign-mmap    free of a page-aligned pointer from mmap whose page
 *                   before is unmapped: reported, no segfault (dies)
 *   link-smash      the free-list links of a freed 40 KiB engine block
 *                   overwritten, then malloc: reported (dies)
 *   dump-blocked    rulloc_dump() into a pipe that no one reads stops in
 *                   its write; meanwhile this thread allocates blocks of
 *                   the same engine bucket and slabs (RULLOC_LANES=1)
 *                   without waiting; the dumping thread, cancelled in the
 *                   write, leaves no lock held: the next dump and a heap
 *                   check work; nor the pages that held its text (no
 *                   readable anonymous mapping starts with what reached
 *                   the pipe)
 *   address-limit   under RLIMIT_AS with 48 MiB of room: most of it is
 *                   had in blocks of 1 MiB (a bucket's usual 64 MiB region
 *                   does not fit, one just for the block does), then
 *                   nullptr with ENOMEM; all freed, a block is had again */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define MiB ((size_t)1 << 20)

static int thread_count(void) {
  DIR* tasks = opendir("/proc/self/task");
  REQUIRE(tasks != NULL);
  int count = 0;
  struct dirent* entry;
  while ((entry = readdir(tasks)) != NULL) count += entry->d_name[0] != '.';
  closedir(tasks);
  return count;
}

static size_t resident_bytes(void) {
  FILE* statm = fopen("/proc/self/statm", "r");
  REQUIRE(statm != NULL);
  size_t total = 0, resident = 0;
  REQUIRE(fscanf(statm, "%zu %zu", &total, &resident) == 2);
  fclose(statm);
  return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Waits for `more` purge rounds (CTest's timeout bounds the wait); when
 * `allocate` is set, the program keeps freeing meanwhile, as a program
 * without the purger's thread must for its memory to go back. */
static void wait_rounds(unsigned long long more, int allocate) {
  const unsigned long long until = dropin_purge_rounds() + more;
  while (dropin_purge_rounds() < until) {
    if (allocate) free(escape(malloc(64 * 1024)));
    usleep(10 * 1000);
  }
}

static void* touch(size_t size) {
  char* p = malloc(size);
  REQUIRE(p != NULL);
  memset(p, 0x5A, size);
  return p;
}

static void* worker(void* arg) {
  free(escape(malloc(64)));
  return arg;
}

static int run_detached(int n) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < n; ++i) {
    pthread_t thread;
    REQUIRE(pthread_create(&thread, &attributes, worker, NULL) == 0);
  }
  pthread_attr_destroy(&attributes);
  /* The last ones exit while main goes on; then once more with all gone. */
  for (int i = 0; i < 3; ++i) {
    usleep(100 * 1000);
    free(escape(malloc(1 << 20)));
  }
  return dropin_finish("detached");
}

static int run_joined(int n) {
  pthread_t* threads = malloc((size_t)n * sizeof(pthread_t));
  REQUIRE(threads != NULL);
  for (int i = 0; i < n; ++i) {
    REQUIRE(pthread_create(&threads[i], NULL, worker, NULL) == 0);
  }
  for (int i = 0; i < n; ++i) REQUIRE(pthread_join(threads[i], NULL) == 0);
  free(threads);
  return dropin_finish("joined");
}

static int (*touch_tls)(int);

static void* tls_worker(void* arg) {
  CHECK(touch_tls((int)(long)arg) == (int)(long)arg);
  return NULL;
}

static int run_dlopen_tls(const char* library) {
  void* handle = dlopen(library, RTLD_NOW);
  REQUIRE(handle != NULL);
  *(void**)(&touch_tls) = dlsym(handle, "dropin_touch_tls");
  REQUIRE(touch_tls != NULL);
  for (int round = 0; round < 20; ++round) {
    pthread_t threads[8];
    for (long i = 0; i < 8; ++i) {
      REQUIRE(pthread_create(&threads[i], NULL, tls_worker, (void*)i) == 0);
    }
    for (int i = 0; i < 8; ++i) REQUIRE(pthread_join(threads[i], NULL) == 0);
  }
  dlclose(handle);
  return dropin_finish("dlopen-tls");
}

static void free_big_at_exit(void) { free(touch(64 * MiB)); }

static int run_exit_frees(void) {
  REQUIRE(atexit(free_big_at_exit) == 0);
  return dropin_finish("exit-frees");
}

static int run_fork_frees(void) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 8; ++i) {
      pthread_t thread;
      REQUIRE(pthread_create(&thread, &attributes, worker, NULL) == 0);
    }
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      free(touch(64 * MiB));
      pthread_t thread;
      if (pthread_create(&thread, NULL, worker, NULL) != 0) _exit(3);
      if (pthread_join(thread, NULL) != 0) _exit(4);
      free(touch(64 * MiB));
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  pthread_attr_destroy(&attributes);
  return dropin_finish("fork-frees");
}

static int run_realloc_shrink(void) {
  const size_t base = resident_bytes();
  void* a = realloc(touch(64 * MiB), 1000);
  void* b = realloc(touch(64 * MiB), 20 * MiB);
  REQUIRE(a != NULL && b != NULL);
  wait_rounds(3, 0);
  const size_t rss = resident_bytes();
  printf("realloc-shrink: RSS %zu MiB over the start\n", (rss - base) / MiB);
  /* What stays: b's 20 MiB. */
  CHECK(rss < base + 28 * MiB);
  free(a);
  free(b);
  return dropin_finish("realloc-shrink");
}

static int run_big_freed(void) {
  const char* delay = getenv("RULLOC_PURGE_DELAY_MS");
  const int at_once = delay != NULL && strcmp(delay, "0") == 0;
  const size_t base = resident_bytes();
  void* blocks[] = {touch(100 * MiB), touch(200 * MiB), touch(300 * MiB)};
  for (int i = 0; i < 3; ++i) free(blocks[i]);
  size_t rss = resident_bytes();
  printf("big-freed: RSS %zu MiB over the start right after the frees\n",
         (rss - base) / MiB);
  /* Nothing at once; else none fits the large cache: a few MiB (a slab, an
   * engine region), then nothing. */
  CHECK(rss < base + (at_once ? 4 : 36) * MiB);
  if (!at_once) {
    wait_rounds(3, 0);
    rss = resident_bytes();
    printf("big-freed: RSS %zu MiB over the start after 3 rounds\n",
           (rss - base) / MiB);
    CHECK(rss < base + 4 * MiB);
  }
  return dropin_finish("big-freed");
}

static int run_single(void) {
  free(touch(1 * MiB));
  for (int i = 0; i < 100; ++i) free(touch(64 + (size_t)i * 100));
  CHECK(thread_count() == 1);
  if (unshare(CLONE_NEWUSER) != 0) {
    /* EPERM or ENOSPC: user namespaces are off here, which says nothing
     * of rulloc; EINVAL is what a second thread causes. */
    printf("single: unshare(CLONE_NEWUSER): %s\n", strerror(errno));
    CHECK(errno != EINVAL);
  }
  return dropin_finish("single");
}

static int run_no_thread(void) {
  const size_t base = resident_bytes();
  enum { kBlocks = 4096 };
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) blocks[i] = touch(i % 2 ? 512 : 512 * 1024);
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
  CHECK(thread_count() == 1);
  wait_rounds(3, 1);
  const size_t rss = resident_bytes();
  printf("no-thread: RSS %zu MiB over the start after 3 rounds\n",
         (rss - base) / MiB);
  CHECK(thread_count() == 1);
  CHECK(rss < base + 16 * MiB);
  return dropin_finish("no-thread");
}

static int run_usable_freed(void) {
  void* p = escape(malloc(100));
  free(p);
  printf("POINTER %p\n", p);
  fflush(stdout);
  printf("usable %zu\n", malloc_usable_size(p));
  printf("SURVIVED\n");
  return 1;
}

static int run_foreign_mmap(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char* pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(pages != MAP_FAILED);
  REQUIRE(munmap(pages, page) == 0);
  printf("POINTER %p\n", (void*)(pages + page));
  fflush(stdout);
  free(pages + page);
  printf("SURVIVED\n");
  return 1;
}

static int run_link_smash(void) {
  char* victim = touch(40 * 1024);
  void* guard = touch(40 * 1024); /* keeps the victim from merging */
  const size_t size = malloc_usable_size(victim);
  free(victim);
  /* The links sit in the last 16 bytes of a free engine block; the report
   * names where they lie. */
  memset(victim + size - 16, 0x41, 16);
  printf("POINTER %p\n", (void*)(victim + size - 16));
  fflush(stdout);
  void* again = escape(malloc(40 * 1024));
  printf("SURVIVED %p %p\n", again, guard);
  return 1;
}

static int dump_pipe[2];

static void* lookup(const char* name) {
  void* symbol = dlsym(RTLD_DEFAULT, name);
  REQUIRE(symbol != NULL);
  return symbol;
}

static void* dump_into_pipe(void* unused) {
  (void)unused;
  void (*dump)(int);
  *(void**)(&dump) = lookup("rulloc_dump");
  dump(dump_pipe[1]);
  return NULL;
}

/* Whether a readable anonymous private mapping starts with `text`. */
static int mapping_starts_with(const char* text, size_t length) {
  FILE* maps = fopen("/proc/self/maps", "r");
  REQUIRE(maps != NULL);
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof(line), maps) != NULL) {
    unsigned long start, end;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms,
               &path_at) != 3) {
      continue;
    }
    const int anonymous = line[path_at] == '\n' || line[path_at] == '\0';
    if (!anonymous || perms[0] != 'r' || perms[3] != 'p') continue;
    found = end - start >= length && memcmp((void*)start, text, length) == 0;
  }
  fclose(maps);
  return found;
}

static int run_dump_blocked(void) {
  /* Engine blocks, every other one free: the bucket's drawing alone is
   * many times the pipe's one page. */
  enum { kBlocks = 400 };
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) blocks[i] = escape(malloc(40 * 1024));
  for (int i = 0; i < kBlocks; i += 2) free(blocks[i]);
  REQUIRE(pipe(dump_pipe) == 0);
  const int room = fcntl(dump_pipe[1], F_SETPIPE_SZ, 4096);
  REQUIRE(room > 0);
  pthread_t dumper;
  REQUIRE(pthread_create(&dumper, NULL, dump_into_pipe, NULL) == 0);
  int queued = 0;
  for (int waited_ms = 0; queued < room; ++waited_ms) {
    REQUIRE(waited_ms < 10 * 1000);
    usleep(1000);
    REQUIRE(ioctl(dump_pipe[0], FIONREAD, &queued) == 0);
  }
  usleep(100 * 1000); /* the dumper waits in its write by now */
  for (int i = 0; i < 100; ++i) {
    free(escape(malloc(40 * 1024)));
    free(escape(malloc(64)));
  }
  REQUIRE(pthread_cancel(dumper) == 0);
  void* result = NULL;
  REQUIRE(pthread_join(dumper, &result) == 0);
  REQUIRE(result == PTHREAD_CANCELED);
  char start[64];
  REQUIRE(read(dump_pipe[0], start, sizeof(start)) == (ssize_t)sizeof(start));
  REQUIRE(!mapping_starts_with(start, sizeof(start)));
  void (*dump)(int);
  *(void**)(&dump) = lookup("rulloc_dump");
  int (*check)(char*, size_t);
  *(void**)(&check) = lookup("rulloc_check");
  const int devnull = open("/dev/null", O_WRONLY);
  REQUIRE(devnull >= 0);
  dump(devnull);
  close(devnull);
  char error[256];
  REQUIRE(check(error, sizeof(error)) == 0);
  for (int i = 1; i < kBlocks; i += 2) free(blocks[i]);
  printf("dump-blocked: %d bytes in the pipe, allocations went on\n", queued);
  return 0;
}

static size_t address_space_bytes(void) {
  FILE* status = fopen("/proc/self/status", "r");
  REQUIRE(status != NULL);
  char line[256];
  size_t kib = 0;
  while (fgets(line, sizeof(line), status) != NULL) {
    if (strncmp(line, "VmSize:", 7) == 0) kib = strtoul(line + 7, NULL, 10);
  }
  fclose(status);
  REQUIRE(kib > 0);
  return kib * 1024;
}

static int run_address_limit(void) {
  enum { kMost = 64 };
  const size_t room = 48 * MiB;
  struct rlimit limit;
  limit.rlim_cur = limit.rlim_max = address_space_bytes() + room;
  REQUIRE(setrlimit(RLIMIT_AS, &limit) == 0);
  static void* blocks[kMost];
  int had = 0;
  for (;;) {
    errno = 0;
    void* block = malloc(MiB);
    if (block == NULL) {
      REQUIRE(errno == ENOMEM);
      break;
    }
    memset(block, 0x5A, MiB);
    REQUIRE(had < kMost);
    blocks[had++] = block;
  }
  REQUIRE(had >= 32);
  for (int i = 0; i < had; ++i) free(blocks[i]);
  free(touch(MiB));
  printf("address-limit: %d blocks of 1 MiB in 48 MiB of room\n", had);
  return 0;
}

int main(int argc, char** argv) {
  REQUIRE(argc >= 2);
  require_rulloc();
  const char* mode = argv[1];
  if (strcmp(mode, "detached") == 0 && argc == 3)
    return run_detached(atoi(argv[2]));
  if (strcmp(mode, "joined") == 0 && argc == 3)
    return run_joined(atoi(argv[2]));
  if (strcmp(mode, "dlopen-tls") == 0 && argc == 3)
    return run_dlopen_tls(argv[2]);
  if (strcmp(mode, "exit-frees") == 0) return run_exit_frees();
  if (strcmp(mode, "fork-frees") == 0) return run_fork_frees();
  if (strcmp(mode, "realloc-shrink") == 0) return run_realloc_shrink();
  if (strcmp(mode, "big-freed") == 0) return run_big_freed();
  if (strcmp(mode, "single") == 0) return run_single();
  if (strcmp(mode, "no-thread") == 0) return run_no_thread();
  if (strcmp(mode, "usable-freed") == 0) return run_usable_freed();
  if (strcmp(mode, "foreign-mmap") == 0) return run_foreign_mmap();
  if (strcmp(mode, "link-smash") == 0) return run_link_smash();
  if (strcmp(mode, "dump-blocked") == 0) return run_dump_blocked();
  if (strcmp(mode, "address-limit") == 0) return run_address_limit();
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
