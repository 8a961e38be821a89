// fuzz_common.hpp: helpers shared by the libFuzzer harnesses (invariant checks that abort so
// libFuzzer records the input as a crash).
#pragma once
#include <cstdio>
#include <cstdlib>
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

// Strict UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF): the shared test helper.
inline bool valid_utf8(std::string_view s) { return test::strict_utf8(s); }

}  // namespace hdrscan::fuzz
