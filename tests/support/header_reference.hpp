// header_reference.hpp: the header field value as finish_field (mime/message.cpp) made it before
// issue 17 turned values into views, byte by byte: the differential reference of
// mime_header_views_test and mime_header_ref_test. Kept as it was on purpose: it must not
// follow the code it checks.
#pragma once
#include <algorithm>
#include <string>
#include <string_view>

#include "mime/decode.hpp"

namespace hdrscan::test {

struct ReferenceField {
  std::string value, decoded;
};

// After the colon, trim blanks and line breaks at both ends, drop the CR and LF bytes inside;
// decoded is the value when it has no "=?" and only ASCII without NUL, else decode_rfc2047 of it.
inline ReferenceField reference_field(std::string_view raw, std::size_t name_len) {
  ReferenceField w;
  std::string_view rest = raw.substr(std::min(name_len, raw.size()));
  const auto colon = rest.find(':');
  rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && blank(rest.back())) rest.remove_suffix(1);
  for (char c : rest)
    if (c != '\r' && c != '\n') w.value.push_back(c);
  bool plain = true;
  for (char c : w.value)
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') plain = false;
  w.decoded = (w.value.find("=?") == std::string::npos && plain) ? w.value : mime::decode_rfc2047(w.value);
  return w;
}

}  // namespace hdrscan::test
