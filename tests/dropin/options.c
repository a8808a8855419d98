/* The options' effects, as check_options.py asks for them: each mode does
 * one thing an option changes and prints what it saw on stdout, the
 * figures as a rulloc_stats_json() document on a line of their own.
 *
 *   options none              a few blocks (settings seen at start or exit)
 *   options big-free MIB      a block of MIB MiB written and freed: JSON
 *   options alone KIB [mallopt]   a block of KIB KiB held: JSON (mallopt:
 *                             mallopt(M_MMAP_THRESHOLD, 1 MiB) first)
 *   options slabs [mallopt|mallopt-off]   64 MiB of 1 KiB blocks written and
 *                             freed: JSON (mallopt: M_TRIM_THRESHOLD 1 MiB
 *                             first; mallopt-off: -1, none)
 *   options cache             4096 blocks of 1000 bytes allocated and freed:
 *                             JSON
 *   options thread            a thread created and joined, then whether a
 *                             thread named rulloc-purge runs ("purge thread:
 *                             yes" / "no")
 *   options lanes             4 threads holding a block each: JSON
 *   options signal            whether SIGUSR2 has a handler ("handler: yes"
 *                             / "no"), and then raises it if so
 *   options secure            "AT_SECURE=N", for the set-uid copy
 * Exit status 0, or 1 when something went wrong (CHECK). */
#define _GNU_SOURCE
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>

#include "check.h"
#include "lane_threads.h"

static void print_json(void) {
  size_t (*stats_json)(char*, size_t);
  *(void**)(&stats_json) = dlsym(RTLD_DEFAULT, "rulloc_stats_json");
  REQUIRE(stats_json != NULL);
  static char text[1 << 20];
  REQUIRE(stats_json(text, sizeof(text)) < sizeof(text));
  printf("%s\n", text);
}

static void big_free(size_t mib) {
  char* block = escape(malloc(mib << 20));
  REQUIRE(block != NULL);
  memset(block, 1, mib << 20);
  free(block);
  print_json();
}

static void alone(size_t kib, int with_mallopt) {
  if (with_mallopt) {
    CHECK(mallopt(M_MMAP_THRESHOLD, -1) == 0);
    CHECK(mallopt(M_MMAP_THRESHOLD, (32 << 20) + 1) == 0);
    CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1);
  }
  char* block = escape(malloc(kib << 10));
  REQUIRE(block != NULL);
  memset(block, 1, kib << 10);
  print_json();
  free(block);
}

static void slabs(const char* how) {
  if (how != NULL && strcmp(how, "mallopt") == 0) {
    CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1);
  } else if (how != NULL && strcmp(how, "mallopt-off") == 0) {
    CHECK(mallopt(M_TRIM_THRESHOLD, -1) == 1);
  }
  enum { kBlocks = 64 * 1024 };
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) {
    blocks[i] = escape(malloc(1000));
    REQUIRE(blocks[i] != NULL);
    memset(blocks[i], 1, 1000);
  }
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
  print_json();
}

/* Blocks of one class freed in a row: the thread's cache keeps what its
 * limit allows, the rest goes back to the pools. */
static void cache(void) {
  enum { kBlocks = 4096 };
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) blocks[i] = escape(malloc(1000));
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
  print_json();
}

static void* nothing(void* arg) { return arg; }

static int purge_thread_runs(void) {
  DIR* tasks = opendir("/proc/self/task");
  REQUIRE(tasks != NULL);
  int found = 0;
  for (struct dirent* task; (task = readdir(tasks)) != NULL;) {
    if (task->d_name[0] == '.') continue;
    char path[64], name[32] = "";
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", task->d_name);
    FILE* comm = fopen(path, "r");
    if (comm == NULL) continue; /* it ended meanwhile */
    if (fgets(name, sizeof(name), comm) != NULL &&
        strcmp(name, "rulloc-purge\n") == 0) {
      found = 1;
    }
    fclose(comm);
  }
  closedir(tasks);
  return found;
}

static void thread(void) {
  pthread_t other;
  REQUIRE(pthread_create(&other, NULL, nothing, NULL) == 0);
  REQUIRE(pthread_join(other, NULL) == 0);
  printf("purge thread: %s\n", purge_thread_runs() ? "yes" : "no");
}

static void print_json_of(void* unused) {
  (void)unused;
  print_json();
}

static void lanes(void) {
  dropin_while_threads_hold_blocks(print_json_of, NULL);
}

static void signal_handler(void) {
  struct sigaction action;
  REQUIRE(sigaction(SIGUSR2, NULL, &action) == 0);
  const int handled = action.sa_handler != SIG_DFL;
  printf("handler: %s\n", handled ? "yes" : "no");
  fflush(stdout);
  if (handled) raise(SIGUSR2);
}

int main(int argc, char** argv) {
  REQUIRE(argc >= 2);
  const char* mode = argv[1];
  const char* arg = argc >= 3 ? argv[2] : NULL;
  /* The set-uid copy is linked with librulloc-malloc.a; its control run
   * shows it is on rulloc (check_options.py). */
  if (strcmp(mode, "secure") != 0) require_rulloc();
  if (strcmp(mode, "none") == 0) {
  } else if (strcmp(mode, "big-free") == 0 && arg != NULL) {
    big_free(strtoul(arg, NULL, 10));
  } else if (strcmp(mode, "alone") == 0 && arg != NULL) {
    alone(strtoul(arg, NULL, 10), argc >= 4 && strcmp(argv[3], "mallopt") == 0);
  } else if (strcmp(mode, "slabs") == 0) {
    slabs(arg);
  } else if (strcmp(mode, "cache") == 0) {
    cache();
  } else if (strcmp(mode, "thread") == 0) {
    thread();
  } else if (strcmp(mode, "lanes") == 0) {
    lanes();
  } else if (strcmp(mode, "signal") == 0) {
    signal_handler();
  } else if (strcmp(mode, "secure") == 0) {
    printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
  } else {
    REQUIRE(!"a known mode");
  }
  fflush(stdout);
  return dropin_failures == 0 ? 0 : 1;
}
