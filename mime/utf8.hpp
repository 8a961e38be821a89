// utf8.hpp: writing UTF-8: a code point appended, UTF-16LE text and windows-1252 bytes as
// UTF-8. The one place for these (the decoders, the HTML entity decoder, the compound-file
// and .msg readers, the RTF de-encapsulation); header-only, so the input readers
// (hdrscan_mime_sources, which links nothing else of mime/ and is fuzzed alone) share it.
// Limits: none beyond the input's size; pure functions, no allocation beyond the output.
// Diagnostics: none; what cannot be a character becomes U+FFFD.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace hdrscan::mime {

// Appends code point `cp` as UTF-8; NUL, surrogates and values past U+10FFFF become U+FFFD.
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A high and a low surrogate joined into one code point (both checked by the caller).
inline std::uint32_t join_surrogates(std::uint32_t high, std::uint32_t low) {
  return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
}

// UTF-16LE bytes as UTF-8 (an odd last byte is ignored): surrogate pairs joined, an unpaired
// surrogate U+FFFD, U+0000 kept as a NUL byte (a caller whose strings end at it cuts there).
inline std::string utf16le_to_utf8(std::string_view b) {
  std::string out;
  out.reserve(b.size() / 2);
  auto unit = [&](std::size_t i) -> std::uint32_t {
    return static_cast<unsigned char>(b[i]) | static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 1])) << 8;
  };
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    std::uint32_t c = unit(i);
    if (c >= 0xD800 && c <= 0xDBFF && i + 3 < b.size()) {
      const std::uint32_t d = unit(i + 2);
      if (d >= 0xDC00 && d <= 0xDFFF) {
        c = join_surrogates(c, d);
        i += 2;
      }
    }
    if (c == 0)
      out.push_back('\0');
    else
      append_utf8(out, c);
  }
  return out;
}

// The character of a windows-1252 byte (0x80-0x9F from its table, undefined ones U+FFFD;
// every other byte is the code point of the same number, as in Latin-1).
inline std::uint32_t cp1252_char(unsigned char c) {
  static constexpr char16_t kHigh[32] = {
      0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
  return c >= 0x80 && c < 0xA0 ? kHigh[c - 0x80] : c;
}

}  // namespace hdrscan::mime
