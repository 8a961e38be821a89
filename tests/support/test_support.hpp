// test_support.hpp: helpers shared by the unit tests and the fuzz harnesses.
// strict_utf8 is written here on purpose, independently of mime/decode.cpp: checking the
// decoders' output with their own validator could not catch a bug in it.
// The ../shared helpers at the end (unit tests only: they need doctest and the
// HDRSCAN_SHARED_CORPUS definition tests/CMakeLists.txt gives every unit test) decide what a
// test does when data it reads from ../shared is missing: see "../shared data" below.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::test {

// Strict UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF). NUL is valid UTF-8 here;
// `no_nul` also rejects it (sanitize_utf8 and decoded header values never hold one).
inline bool strict_utf8(std::string_view s, bool no_nul = false) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0 && no_nul) return false;
    std::size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                    : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    unsigned cp = len == 1 ? c : c & (0xFF >> (len + 1));
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

// The whole file; throws when it cannot be opened (a test reading a missing file fails, it
// does not go on with an empty string).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test input " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace hdrscan::test

#ifdef HDRSCAN_SHARED_CORPUS
#include <doctest/doctest.h>

#include <system_error>

namespace hdrscan::test {

// ---- ../shared data (issue 14, "Test honesty") ----------------------------------------------
// Where ../shared exists (CI, every engineer's machine), a file or folder a test reads from it
// is REQUIRED: a missing one fails the case (shared_path, shared_docs_path: REQUIRE), it is never
// a skip and never a pass. Only when ../shared is absent as a whole (neither the configured
// corpus folder HDRSCAN_SHARED_CORPUS nor its sibling docs/ exists: a checkout on its own) do
// the cases marked `* test::needs_shared()` not run: doctest skips them (its summary counts
// them "skipped", not "passed"), and tests/test_main.cpp prints one "SKIP:" line per case,
// which tools/test lists at the end. A case that reads ../shared without the mark fails
// when ../shared is absent, so the mark cannot be forgotten silently.

inline const std::filesystem::path& shared_corpus() {
  static const std::filesystem::path p(HDRSCAN_SHARED_CORPUS);
  return p;
}
inline std::filesystem::path shared_root() { return shared_corpus().parent_path(); }

inline bool shared_absent() {
  static const bool absent = [] {
    std::error_code ec;
    return !std::filesystem::exists(shared_corpus(), ec) && !std::filesystem::exists(shared_root() / "docs", ec);
  }();
  return absent;
}

// TEST_CASE("..." * test::needs_shared()): the case reads ../shared; it is skipped (visibly)
// only when ../shared is absent as a whole.
struct needs_shared {
  void fill(doctest::detail::TestCase& tc) const {
    if (!shared_absent()) return;
    tc.m_skip = true;
    tc.m_description = "needs ../shared, which is absent (HDRSCAN_SHARED_CORPUS=" HDRSCAN_SHARED_CORPUS ")";
  }
  void fill(doctest::detail::TestSuite& ts) const {
    if (!shared_absent()) return;
    ts.m_skip = true;
    ts.m_description = "needs ../shared, which is absent (HDRSCAN_SHARED_CORPUS=" HDRSCAN_SHARED_CORPUS ")";
  }
};

inline std::filesystem::path required_path(const std::filesystem::path& p) {
  std::error_code ec;
  const std::string why = shared_absent() ? " (../shared is absent: mark the case * test::needs_shared())"
                                           : " (../shared exists, so missing data is a failure)";
  REQUIRE_MESSAGE(std::filesystem::exists(p, ec), "missing test data " << p.string() << why);
  return p;
}
// `rel` under ../shared/corpus (HDRSCAN_SHARED_CORPUS); REQUIREd to exist.
inline std::filesystem::path shared_path(const std::filesystem::path& rel) { return required_path(shared_corpus() / rel); }
// The regular files under ../shared/corpus/`rel` (REQUIREd to exist), recursively, sorted by
// path (a stable order whatever the filesystem's); the first `max` of them when given.
inline std::vector<std::filesystem::path> shared_files(const std::filesystem::path& rel,
                                                       std::size_t max = SIZE_MAX) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(shared_path(rel)))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  if (out.size() > max) out.resize(max);
  return out;
}
// `rel` under ../shared/docs; REQUIREd to exist.
inline std::filesystem::path shared_docs_path(const std::filesystem::path& rel) {
  return required_path(shared_root() / "docs" / rel);
}

}  // namespace hdrscan::test
#endif  // HDRSCAN_SHARED_CORPUS
