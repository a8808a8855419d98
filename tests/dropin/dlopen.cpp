// dlopen() of a library that allocates, run with librulloc.so preloaded:
// blocks cross between program and library both ways, the library's
// constructors and destructors allocate and free, and it is loaded and
// unloaded many times.
#include <dlfcn.h>
#include <malloc.h>

#include <cstring>
#include <string>

#include "check.h"

namespace {

template <class F>
F symbol(void* library, const char* name) {
  void* address = dlsym(library, name);
  REQUIRE(address != nullptr);
  F f;
  std::memcpy(&f, &address, sizeof(f));
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  require_rulloc();
  REQUIRE(argc == 2);
  // A C++ program has its C++ runtime loaded from the start; this one uses
  // none of it (so it is not linked in), and librulloc.so does not bring it
  // either. Loaded first by the plugin, in the plugin's own scope, libstdc++
  // would bind its calls to the std::string members a debug build of the
  // plugin exports, and glibc would then keep the plugin loaded after
  // dlclose (the check below).
  REQUIRE(dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL) != nullptr);
  const rulloc_malloc_stats before = dropin_stats();
  for (int round = 0; round < 50; ++round) {
    void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) std::fprintf(stderr, "dlopen: %s\n", dlerror());
    REQUIRE(library != nullptr);
    auto repeat = symbol<char* (*)(const char*, int)>(library, "plugin_repeat");
    auto free_in_plugin =
        symbol<std::size_t (*)(void*)>(library, "plugin_free");
    auto create = symbol<void* (*)(int)>(library, "plugin_create");
    auto destroy = symbol<std::size_t (*)(void*)>(library, "plugin_destroy");
    auto registry = symbol<std::size_t (*)()>(library, "plugin_registry_size");

    CHECK(registry() == 1100);
    // Allocated in the library, freed here (rulloc's free: it would abort on
    // a block from another allocator).
    char* text = repeat("ab", 1000 + round);
    REQUIRE(text != nullptr);
    CHECK(std::strlen(text) == 2000u + 2u * static_cast<unsigned>(round));
    CHECK(malloc_usable_size(text) >= 2001);
    std::free(text);
    // Allocated here, freed in the library.
    void* mine = std::malloc(5000);
    REQUIRE(mine != nullptr);
    std::memset(mine, 1, 5000);
    CHECK(free_in_plugin(mine) >= 5000);
    // operator new in the library, delete in the library, across threads of
    // the program's data.
    void* object = create(round + 1);
    CHECK(destroy(object) == static_cast<std::size_t>(round + 1));
    // Kept across dlclose: the library is gone, its block stays valid.
    char* survivor = repeat("xyz", 10);
    REQUIRE(dlclose(library) == 0);
    // Really unloaded: the next round runs its constructors again.
    CHECK(dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) == nullptr);
    CHECK(survivor != nullptr && std::strncmp(survivor, "xyzxyz", 6) == 0);
    std::free(survivor);
  }
  const rulloc_malloc_stats after = dropin_stats();
  CHECK(after.allocations - before.allocations > 50 * 1000);
  CHECK(after.frees - before.frees > 50 * 1000);
  return dropin_finish("dlopen");
}
