// fuzz_common.hpp: helpers shared by the libFuzzer harnesses (invariant checks that abort so
// libFuzzer records the input as a crash).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace hdrscan::fuzz {

// Aborts with a message when `cond` is false (an invariant of the API under test broke).
inline void check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "hdrscan fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

// Strict UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    std::size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace hdrscan::fuzz
