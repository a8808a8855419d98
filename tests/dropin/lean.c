/* A C program with librulloc.so preloaded (issue 12): the process maps no
 * C++ runtime, libm nor libgcc_s, however much it allocates. Then it opens
 * a C++ library with a scope of its own (RTLD_LOCAL, as Python opens
 * extension modules), which brings libstdc++ in: operator new in there
 * still calls that library's new_handler and throws std::bad_alloc to it
 * (lean_plugin.cpp), though the program's global scope has no C++ runtime.
 *   dropin_lean PLUGIN */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Whether a mapping of the process names a file whose name contains any
 * of `names` (NULL-terminated); prints the first one found. */
static int maps_any(const char* const* names) {
  FILE* maps = fopen("/proc/self/maps", "r");
  REQUIRE(maps != NULL);
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof(line), maps) != NULL) {
    const char* path = strchr(line, '/');
    if (path == NULL) continue;
    for (const char* const* name = names; *name != NULL; ++name) {
      const char* base = strrchr(path, '/') + 1;
      if (strncmp(base, *name, strlen(*name)) == 0) {
        printf("mapped: %s", path);
        found = 1;
        break;
      }
    }
  }
  fclose(maps);
  return found;
}

static const char* const kCxxLibraries[] = {"libstdc++.so", "libm.so",
                                            "libgcc_s.so", "libc++", NULL};
static const char* const kRulloc[] = {"librulloc", NULL};

int main(int argc, char** argv) {
  REQUIRE(argc == 2);
  require_rulloc();
  REQUIRE(maps_any(kRulloc));
  /* Blocks of every size class and a large one, so the heap is fully
   * built (purger, thread cache, segments) before looking again. */
  void* blocks[64];
  for (int i = 0; i < 64; ++i)
    blocks[i] = escape(malloc((size_t)16 << (i % 20)));
  for (int i = 0; i < 64; ++i) free(blocks[i]);
  CHECK(!maps_any(kCxxLibraries));

  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == NULL) fprintf(stderr, "dlopen: %s\n", dlerror());
  REQUIRE(plugin != NULL);
  /* The same look finds the C++ runtime once something loads it. */
  CHECK(maps_any(kCxxLibraries));
  CHECK(dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv") == NULL);
  int (*run)(void);
  *(void**)(&run) = dlsym(plugin, "lean_plugin_run");
  REQUIRE(run != NULL);
  const int failed = run();
  if (failed != 0)
    fprintf(stderr, "lean_plugin_run: %d checks failed\n", failed);
  CHECK(failed == 0);
  return dropin_finish("lean");
}
