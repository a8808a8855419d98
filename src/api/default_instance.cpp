#include <new>

#include "rulloc/rulloc.hpp"

namespace rulloc {

Rulloc<>& default_instance() noexcept {
  // Built in static storage and never destroyed: objects with static storage
  // duration may still free into it while the program exits.
  alignas(Rulloc<>) static unsigned char storage[sizeof(Rulloc<>)];
  static Rulloc<>* const instance = new (storage) Rulloc<>();
  return *instance;
}

}  // namespace rulloc
