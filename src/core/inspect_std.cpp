// The engine's checker and map with std::string and std::ostream, as
// Rulloc<N> offers them: the Text versions (core/inspect.cpp) writing into
// the string or the stream. The object allocator's alone: librulloc.so
// leaves this file out, so that it needs no C++ library.
#include <new>
#include <ostream>
#include <string>

#include "base/text.hpp"
#include "core/bucket.hpp"
#include "rulloc/detail/engine.hpp"

namespace rulloc::detail {
namespace {

void to_string(void* context, const char* text, std::size_t length) {
  static_cast<std::string*>(context)->append(text, length);
}

void to_stream(void* context, const char* text, std::size_t length) {
  static_cast<std::ostream*>(context)->write(
      text, static_cast<std::streamsize>(length));
}

const core::Bucket& bucket_at(const BucketStorage* storage,
                              std::size_t index) noexcept {
  return *std::launder(
      reinterpret_cast<const core::Bucket*>(storage[index].raw));
}

}  // namespace

bool Engine::check(std::string* error) const {
  std::string message;
  bool sound = true;
  {
    base::Text out(to_string, &message);
    for (std::size_t i = 0; i <= count_ && sound; ++i) {
      sound = bucket_at(buckets_, i).check(out);
    }
  }
  if (!sound && error != nullptr) *error = message;
  return sound;
}

void Engine::dump(std::ostream& out) const {
  base::Text text(to_stream, &out);
  for (std::size_t i = 0; i <= count_; ++i) {
    bucket_at(buckets_, i).dump(text, false);
  }
}

}  // namespace rulloc::detail
