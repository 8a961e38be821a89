// fuzz_common.hpp: helpers shared by the libFuzzer harnesses (invariant checks that abort so
// libFuzzer records the input as a crash).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "tests/support/test_support.hpp"

namespace hdrscan::fuzz {

// Aborts with a message when `cond` is false (an invariant of the API under test broke).
inline void check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "hdrscan fuzz invariant failed: %s\n", what);
    std::abort();
  }
}

// A reader's error code is one sources.hpp documents (the readers' harnesses check it).
inline bool documented_error_code(const std::string& code) {
  static const std::set<std::string> kCodes = {
      "not_found", "io_error", "empty_input", "truncated", "corrupt", "unsupported_format",
      "encrypted_no_password", "wrong_password", "too_deep", "too_large", "archive_limit", "library_missing"};
  return kCodes.count(code) == 1;
}

// Strict UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF): the shared test helper.
inline bool valid_utf8(std::string_view s) { return test::strict_utf8(s); }

}  // namespace hdrscan::fuzz
