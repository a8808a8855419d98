// Prints the options table (heap/options.hpp) as README.md shows it;
// check_options.py compares the two.
#include <unistd.h>

#include "base/text.hpp"
#include "heap/options.hpp"

namespace {

void to_stdout(void*, const char* text, std::size_t length) {
  while (length > 0) {
    const ssize_t written = write(1, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<std::size_t>(written);
  }
}

}  // namespace

int main() {
  rulloc::base::Text out(to_stdout, nullptr);
  rulloc::heap::write_option_table(out);
  return 0;
}
