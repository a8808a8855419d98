#include "heap/options.hpp"

#include <array>
#include <cstring>

#include "platform/platform.hpp"

namespace rulloc::heap {
namespace {

constexpr std::size_t kOptionCount = static_cast<std::size_t>(Option::kCount);

enum class Source : unsigned char { kDefault, kOptions, kVariable };

constexpr std::array<long long, kOptionCount> defaults() noexcept {
  std::array<long long, kOptionCount> values{};
  for (std::size_t i = 0; i < kOptionCount; ++i) {
    values[i] = kOptionTable[i].fallback;
  }
  return values;
}

// Written once, while the heap is built, before any other thread can use it.
constinit std::array<long long, kOptionCount> values = defaults();
constinit std::array<Source, kOptionCount> sources{};
// The text of kPath options (a few KiB of zeroes, never touched otherwise).
constexpr std::size_t kPathRoom = 256;
constinit char texts[kOptionCount][kPathRoom] = {};

// Room for a variable's value and for RULLOC_OPTIONS: no value the table
// takes is longer, so a longer one is bad.
constexpr std::size_t kValueRoom = 64;
constexpr std::size_t kOptionsRoom = 1024;

void to_stderr(void*, const char* text, std::size_t length) noexcept {
  platform::write_error(text, length);
}

// The suffixes a number of bytes may carry, each 1024 times the one before.
constexpr char kSuffixes[] = "KMGT";
constexpr std::size_t kSuffixCount = sizeof(kSuffixes) - 1;

// Bytes with the largest suffix that divides them (32M), else a number.
void write_bytes(base::Text& out, long long bytes) noexcept {
  for (std::size_t i = kSuffixCount; i-- > 0;) {
    const long long unit = 1ll << (10 * (i + 1));
    if (bytes != 0 && bytes % unit == 0) {
      out << bytes / unit << kSuffixes[i];
      return;
    }
  }
  out << bytes;
}

void write_value(base::Text& out, const OptionSpec& spec,
                 long long value) noexcept {
  if (spec.kind == OptionKind::kPath) {
    // A path's value is 1 when set, its text in texts[].
    out << (value != 0 ? texts[&spec - kOptionTable] : "(none)");
  } else if (spec.word != nullptr && value == spec.word_value) {
    out << spec.word;
  } else if (spec.kind == OptionKind::kBytes) {
    write_bytes(out, value);
  } else {
    out << value;
  }
}

enum class Problem : unsigned char {
  kNone,
  kNotNumber,
  kOutOfRange,
  kNotFlag,
  kNotSignal,
  kTooLong
};

void write_problem(base::Text& out, const OptionSpec& spec,
                   Problem problem) noexcept {
  // The word, where the setting takes one: "not a number or off".
  const char* word = spec.word;
  switch (problem) {
    case Problem::kNotNumber:
      out << "not a number";
      break;
    case Problem::kOutOfRange:
      out << "out of range (";
      write_value(out, spec, spec.minimum);
      out << " to ";
      write_value(out, spec, spec.maximum);
      out << ')';
      word = nullptr;
      break;
    case Problem::kNotFlag:
      out << (word != nullptr ? "not 0, 1" : "not 0 or 1");
      break;
    case Problem::kNotSignal:
      out << "not a signal that may be caught (SIGUSR2, USR2 or a number)";
      break;
    case Problem::kTooLong:
      out << "too long";
      word = nullptr;
      break;
    case Problem::kNone:
      return;
  }
  if (word != nullptr) out << " or " << word;
}

// A decimal number, for kBytes with one of the suffixes (either case).
Problem parse_number(const OptionSpec& spec, const char* text,
                     long long* out) noexcept {
  long long value = 0;
  const char* at = text;
  for (; *at >= '0' && *at <= '9'; ++at) {
    if (value > (1ll << 50)) return Problem::kOutOfRange;
    value = value * 10 + (*at - '0');
  }
  if (at == text) return Problem::kNotNumber;
  if (spec.kind == OptionKind::kBytes && *at != '\0' && at[1] == '\0') {
    const char upper = static_cast<char>(*at & ~0x20);
    const char* suffix =
        upper != '\0' ? std::strchr(kSuffixes, upper) : nullptr;
    if (suffix == nullptr) return Problem::kNotNumber;
    const auto shift = 10 * (suffix - kSuffixes + 1);
    if (value > (spec.maximum >> shift)) return Problem::kOutOfRange;
    value <<= shift;
    ++at;
  }
  if (*at != '\0') return Problem::kNotNumber;
  if (value < spec.minimum || value > spec.maximum) return Problem::kOutOfRange;
  *out = value;
  return Problem::kNone;
}

Problem parse(const OptionSpec& spec, const char* text,
              long long* out) noexcept {
  if (spec.word != nullptr && std::strcmp(text, spec.word) == 0) {
    *out = spec.word_value;
    return Problem::kNone;
  }
  switch (spec.kind) {
    case OptionKind::kFlag:
      if (std::strcmp(text, "0") != 0 && std::strcmp(text, "1") != 0) {
        return Problem::kNotFlag;
      }
      *out = text[0] - '0';
      return Problem::kNone;
    case OptionKind::kSignal: {
      const int number = platform::signal_number(text);
      if (number < 0) return Problem::kNotSignal;
      *out = number;
      return Problem::kNone;
    }
    case OptionKind::kNumber:
    case OptionKind::kBytes:
      return parse_number(spec, text, out);
    case OptionKind::kPath:  // set() keeps the text
      if (std::strlen(text) >= kPathRoom) return Problem::kTooLong;
      *out = *text != '\0' ? 1 : 0;
      return Problem::kNone;
  }
  return Problem::kNotNumber;
}

// "rulloc: " `where` `name` `text` ": " problem ", using " the value kept.
void report(const char* where, const char* name, const char* text,
            std::size_t index, Problem problem) noexcept {
  const OptionSpec& spec = kOptionTable[index];
  base::Text out(to_stderr, nullptr);
  out << "rulloc: " << where << name << '=' << text << ": ";
  write_problem(out, spec, problem);
  out << ", using ";
  write_value(out, spec, values[index]);
  out << '\n';
}

void set(std::size_t index, const char* text, Source source, const char* where,
         const char* name) noexcept {
  long long value = 0;
  const Problem problem = parse(kOptionTable[index], text, &value);
  if (problem != Problem::kNone) {
    report(where, name, text, index, problem);
    return;
  }
  values[index] = value;
  sources[index] = source;
  if (kOptionTable[index].kind == OptionKind::kPath) {
    std::strcpy(texts[index], text);  // parse() checked its length
  }
}

std::size_t find(const char* name) noexcept {
  for (std::size_t i = 0; i < kOptionCount; ++i) {
    if (std::strcmp(kOptionTable[i].name, name) == 0) return i;
  }
  return kOptionCount;
}

void say(const char* a, const char* b = "", const char* c = "") noexcept {
  base::Text out(to_stderr, nullptr);
  out << "rulloc: RULLOC_OPTIONS: " << a << b << c << '\n';
}

// Cuts spaces from both ends, in place.
char* trimmed(char* text) noexcept {
  while (*text == ' ') ++text;
  std::size_t length = std::strlen(text);
  while (length > 0 && text[length - 1] == ' ') text[--length] = '\0';
  return text;
}

// One "name=value" of RULLOC_OPTIONS.
void read_item(char* item) noexcept {
  item = trimmed(item);
  if (*item == '\0') return;  // ",," or a comma at the end
  char* equals = std::strchr(item, '=');
  if (equals == nullptr) {
    say("'", item, "' is not name=value, ignored");
    return;
  }
  *equals = '\0';
  const char* name = trimmed(item);
  const std::size_t index = find(name);
  if (index == kOptionCount) {
    say("unknown option '", name, "', ignored");
    return;
  }
  set(index, trimmed(equals + 1), Source::kOptions, "RULLOC_OPTIONS: ", name);
}

void read_options_variable() noexcept {
  char text[kOptionsRoom];
  const long length =
      platform::environment("RULLOC_OPTIONS", text, sizeof(text));
  if (length <= 0) return;
  if (static_cast<std::size_t>(length) >= sizeof(text)) {
    say("longer than 1023 bytes, ignored");
    return;
  }
  for (char* item = text; item != nullptr;) {
    char* comma = std::strchr(item, ',');
    if (comma != nullptr) *comma = '\0';
    read_item(item);
    item = comma != nullptr ? comma + 1 : nullptr;
  }
}

void read_variable(std::size_t index) noexcept {
  const OptionSpec& spec = kOptionTable[index];
  char text[kPathRoom];
  const std::size_t room =
      spec.kind == OptionKind::kPath ? kPathRoom : kValueRoom;
  const long length = platform::environment(spec.variable, text, room);
  if (length <= 0) return;  // unset or empty: as if unset
  if (static_cast<std::size_t>(length) >= room) {
    std::memcpy(text + room - 4, "...", 4);
    report("", spec.variable, text, index, Problem::kTooLong);
    return;
  }
  set(index, text, Source::kVariable, "", spec.variable);
}

void write_values(base::Text& out, const OptionSpec& spec) noexcept {
  switch (spec.kind) {
    case OptionKind::kFlag:
      out << "`0`, `1`";
      break;
    case OptionKind::kSignal:
      out << "a signal: `SIGUSR2`, `USR2`, `12`";
      break;
    case OptionKind::kNumber:
    case OptionKind::kBytes:
      out << (spec.kind == OptionKind::kBytes ? "bytes, `" : "`");
      write_value(out, spec, spec.minimum);
      out << "` to `";
      write_value(out, spec, spec.maximum);
      out << '`';
      break;
    case OptionKind::kPath:
      out << "a path of up to 255 characters (in `RULLOC_OPTIONS`, without "
             "`,`)";
      break;
  }
  if (spec.word != nullptr) out << ", `" << spec.word << '`';
}

}  // namespace

long long option(Option which) noexcept {
  return values[static_cast<std::size_t>(which)];
}

const char* option_text(Option which) noexcept {
  return texts[static_cast<std::size_t>(which)];
}

void read_options() noexcept {
  read_options_variable();
  for (std::size_t i = 0; i < kOptionCount; ++i) read_variable(i);
}

void print_options() noexcept {
  for (std::size_t i = 0; i < kOptionCount; ++i) {
    const OptionSpec& spec = kOptionTable[i];
    base::Text out(to_stderr, nullptr);
    out << "rulloc: option " << spec.name << '=';
    write_value(out, spec, values[i]);
    out << " ("
        << (sources[i] == Source::kDefault   ? "default"
            : sources[i] == Source::kOptions ? "RULLOC_OPTIONS"
                                             : spec.variable)
        << ")\n";
  }
}

void write_option_table(base::Text& out) noexcept {
  out << "| option | variable | values | default | what it does |\n"
      << "| --- | --- | --- | --- | --- |\n";
  for (const OptionSpec& spec : kOptionTable) {
    out << "| `" << spec.name << "` | `" << spec.variable << "` | ";
    write_values(out, spec);
    out << " | `";
    write_value(out, spec, spec.fallback);
    out << "` | " << spec.doc << " |\n";
  }
}

}  // namespace rulloc::heap
