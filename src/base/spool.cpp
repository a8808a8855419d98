#include "base/spool.hpp"

#include <cstring>

#include "platform/platform.hpp"

namespace rulloc::base {

Spool::~Spool() {
  if (data_ != nullptr) platform::unmap(data_, capacity_);
}

// Doubles (at least a page, at least `needed`): map, copy, unmap, as
// platform::remap() is not there on every OS.
bool Spool::grow(std::size_t needed) noexcept {
  const std::size_t page = platform::page_size();
  std::size_t capacity = capacity_ == 0 ? 16 * page : capacity_ * 2;
  while (capacity < needed) capacity *= 2;
  auto* data = static_cast<char*>(platform::map(capacity));
  if (data == nullptr) return false;
  if (data_ != nullptr) {
    std::memcpy(data, data_, length_);
    platform::unmap(data_, capacity_);
  }
  data_ = data;
  capacity_ = capacity;
  return true;
}

void Spool::sink(void* context, const char* text, std::size_t length) noexcept {
  auto* self = static_cast<Spool*>(context);
  if (self->truncated_) return;
  if (self->length_ + length > self->capacity_ &&
      !self->grow(self->length_ + length)) {
    self->truncated_ = true;
    return;
  }
  std::memcpy(self->data_ + self->length_, text, length);
  self->length_ += length;
}

void Spool::write_to(int descriptor) const noexcept { send(&descriptor); }

void Spool::write_report() const noexcept { send(nullptr); }

void Spool::send(const int* descriptor) const noexcept {
  struct Sending {
    const Spool* spool;
    const int* descriptor;
  } sending{this, descriptor};
  platform::run_cancellable(
      [](void* context) {
        const auto* s = static_cast<const Sending*>(context);
        s->spool->put_all(s->descriptor);
      },
      [](void* context) {
        const Spool* spool = static_cast<const Sending*>(context)->spool;
        if (spool->data_ != nullptr) {
          platform::unmap(spool->data_, spool->capacity_);
        }
      },
      &sending);
}

void Spool::put_all(const int* descriptor) const noexcept {
  auto put = [descriptor](const char* text, std::size_t length) {
    if (descriptor != nullptr) {
      platform::write_to(*descriptor, text, length);
    } else {
      platform::write_report(text, length);
    }
  };
  if (length_ > 0) put(data_, length_);
  if (truncated_) {
    constexpr char kNote[] = "(rulloc: the rest did not fit in memory)\n";
    put(kNote, sizeof(kNote) - 1);
  }
}

}  // namespace rulloc::base
