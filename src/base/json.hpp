// JSON written without allocating, on a base::Text: the live heap's figures
// (rulloc_stats_json) and map (rulloc_map_json). Keys and texts are
// rulloc's own, so nothing needs escaping.
//
//   Json json{out};
//   out << '{';
//   json.field("count", 3);            // "count": 3
//   json.open("items", '[');           // , "items": [
//   json.element('{');                 // {
//   json.address("at", pointer);       // "at": "0x7f.."
//   json.close('}');                   // }
//   json.close(']');                   // ]
//   out << "}\n";
#pragma once

#include <cstddef>

#include "base/text.hpp"

namespace rulloc::base {

struct Json {
  Text& out;
  bool first = true;  // nothing written yet in the object or array open now

  void key(const char* name) noexcept {
    out << (first ? "" : ", ") << '"' << name << "\": ";
    first = false;
  }
  void field(const char* name, std::size_t value) noexcept {
    key(name);
    out << value;
  }
  void signed_field(const char* name, long long value) noexcept {
    key(name);
    out << value;
  }
  void text(const char* name, const char* value) noexcept {
    key(name);
    out << '"' << value << '"';
  }
  void address(const char* name, const void* value) noexcept {
    key(name);
    out << '"' << value << '"';
  }
  // "name": followed by '{' or '['.
  void open(const char* name, char bracket) noexcept {
    key(name);
    out << bracket;
    first = true;
  }
  // An object or array as the next element of the array open now.
  void element(char bracket) noexcept {
    out << (first ? "" : ", ") << bracket;
    first = true;
  }
  // A number as the next element of the array open now.
  void value(std::size_t number) noexcept {
    out << (first ? "" : ", ") << number;
    first = false;
  }
  void close(char bracket) noexcept {
    out << bracket;
    first = false;
  }
};

}  // namespace rulloc::base
