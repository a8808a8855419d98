// A library that dlopen.cpp loads at run time: it allocates in its
// constructors, hands blocks to the program and frees the program's blocks,
// and keeps objects alive until it is unloaded.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

// Built when the library is loaded, destroyed when it is unloaded.
std::map<int, std::string>* registry = nullptr;
std::vector<std::string> kept_strings(100, std::string(300, 'k'));

struct Loader {
  Loader() {
    registry = new std::map<int, std::string>;
    for (int i = 0; i < 1000; ++i)
      (*registry)[i] = "entry " + std::to_string(i);
  }
  ~Loader() {
    delete registry;
    registry = nullptr;
  }
} loader;

}  // namespace

extern "C" {

// A malloc'd copy of `text` repeated `times` times; the program frees it.
__attribute__((visibility("default"))) char* plugin_repeat(const char* text,
                                                           int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += text;
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

// Frees a block the program allocated; returns its usable size first.
__attribute__((visibility("default"))) std::size_t plugin_free(void* p) {
  std::size_t usable = malloc_usable_size(p);
  std::free(p);
  return usable;
}

// An object from operator new, deleted by plugin_destroy.
__attribute__((visibility("default"))) void* plugin_create(int n) {
  return new std::vector<std::string>(static_cast<std::size_t>(n), "plugin");
}
__attribute__((visibility("default"))) std::size_t plugin_destroy(void* v) {
  auto* vector = static_cast<std::vector<std::string>*>(v);
  std::size_t n = vector->size();
  delete vector;
  return n;
}

__attribute__((visibility("default"))) std::size_t plugin_registry_size() {
  return registry == nullptr ? 0 : registry->size() + kept_strings.size();
}

}  // extern "C"
