// fuzz_message.cpp: mime::parse_message under tight limits, so the limit paths (depth, parts,
// header count, line lengths, nested messages, text caps) are reached with small inputs. The
// first input byte picks the limits; the rest is the message.
// Invariants: parts within max_parts (+1 root), decoded text within max_text_bytes, nested
// messages within max_nested_messages, body_offset within the message, header values UTF-8
// after RFC 2047 decoding.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "fuzz_common.hpp"
#include "mime/message.hpp"

using namespace hdrscan;

namespace {
void check_message(const mime::ParsedMessage& m, const mime::Limits& lim) {
  fuzz::check(m.body_offset <= m.raw.size(), "body_offset within the message");
  fuzz::check(m.parts.size() <= lim.max_parts + 1, "parts within max_parts");
  fuzz::check(m.headers.fields.size() <= lim.max_header_count, "fields within max_header_count");
  for (const auto& p : m.parts) {
    fuzz::check(p.text.size() <= lim.max_text_bytes + 4, "text within max_text_bytes");
    fuzz::check(p.depth <= lim.max_mime_depth + 1, "part depth within max_mime_depth");
  }
  for (const auto& f : m.headers.fields)
    fuzz::check(fuzz::valid_utf8(f.decoded), "decoded header value is UTF-8");
  for (const auto& n : m.nested) check_message(n, lim);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t sel = data[0];
  mime::Limits lim;
  if (sel & 1) {
    lim.max_header_count = 8;
    lim.max_header_line = 64;
    lim.max_header_block = 1024;
    lim.max_body_line = 256;
  }
  if (sel & 2) {
    lim.max_mime_depth = 3;
    lim.max_parts = 6;
    lim.max_nested_messages = 2;
  }
  if (sel & 4) lim.max_text_bytes = 16;
  if (sel & 8) lim.max_message_bytes = 512;
  std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  mime::ParsedMessage m = mime::parse_message(msg, lim);
  check_message(m, lim);
  return 0;
}
