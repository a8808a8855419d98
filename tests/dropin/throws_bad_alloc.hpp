// Whether calling `f` throws std::bad_alloc (or a class derived from it):
// false when it returns or throws anything else. For the drop-in's
// operator new checks (semantics.cpp, lean_plugin.cpp).
#pragma once

#include <new>

template <class F>
bool throws_bad_alloc(F f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    return true;
  } catch (...) {
    return false;
  }
  return false;
}
