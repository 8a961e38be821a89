// base64.hpp: writing base64 (RFC 4648: the standard alphabet, or the URL-safe one of its
// section 5). The one place for it: the .msg reader encodes bodies and attachments into the
// RFC 5322 text it builds (76-character lines, MIME), the grouping features encode recipient
// addresses to find them in URLs (no padding wanted there). Header-only, so the input readers
// (hdrscan_mime_sources, which links nothing else of mime/ and is fuzzed alone) share it;
// reading base64 is mime/decode.hpp's.
// Limits: none beyond the input's size; pure, no allocation beyond the output.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace hdrscan::mime {

enum class Base64Alphabet { standard, url_safe };

// `in` as base64 with '=' padding; `wrap`: CRLF after every 76 characters and at the end.
inline std::string encode_base64(std::string_view in, bool wrap = false,
                                 Base64Alphabet alphabet = Base64Alphabet::standard) {
  const char* k = alphabet == Base64Alphabet::url_safe
                      ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(in.size() / 3 * 4 + (wrap ? in.size() / 57 * 2 : 0) + 8);
  std::size_t line = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::uint32_t b0 = static_cast<unsigned char>(in[i]);
    const std::uint32_t b1 = i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) : 0;
    const std::uint32_t b2 = i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0;
    const std::uint32_t v = b0 << 16 | b1 << 8 | b2;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[v & 63] : '=';
    line += 4;
    if (wrap && line >= 76) {
      out += "\r\n";
      line = 0;
    }
  }
  if (wrap && line > 0) out += "\r\n";
  return out;
}

}  // namespace hdrscan::mime
