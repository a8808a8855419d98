/* A process ends when its last thread does, even with rulloc's purger
 * running: main frees, starts a worker (which starts the purger: the
 * program creates a thread) and calls pthread_exit(); the worker allocates,
 * frees and ends.
 * The process must then exit with status 0 (CTest's timeout catches a
 * purger that keeps it alive). */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static int purger_running(void) {
  DIR* tasks = opendir("/proc/self/task");
  REQUIRE(tasks != NULL);
  int found = 0;
  struct dirent* entry;
  while ((entry = readdir(tasks)) != NULL) {
    char path[300], name[64] = "";
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", entry->d_name);
    FILE* comm = fopen(path, "r");
    if (comm == NULL) continue;
    if (fgets(name, sizeof(name), comm) != NULL &&
        strncmp(name, "rulloc-purge", 12) == 0) {
      found = 1;
    }
    fclose(comm);
  }
  closedir(tasks);
  return found;
}

static void churn(void) {
  enum { kBlocks = 20000 };
  static void* blocks[kBlocks];
  for (int i = 0; i < kBlocks; ++i) blocks[i] = escape(malloc(64 + i % 512));
  for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
}

static void* worker(void* arg) {
  (void)arg;
  usleep(200 * 1000);
  churn();
  printf("worker done\n");
  fflush(stdout);
  return NULL;
}

int main(void) {
  require_rulloc();
  churn();
  pthread_t thread;
  REQUIRE(pthread_create(&thread, NULL, worker, NULL) == 0);
  REQUIRE(purger_running());
  printf("main leaves\n");
  fflush(stdout);
  pthread_exit(NULL);
}
