// mime_regress_test.cpp: every input under tests/regress/ (each once crashed or broke a
// parser, see tests/regress/README.md) parses without throwing, with default limits and with
// the tight limits the fuzz_message harness uses; plus the default-limit forms of findings
// whose committed input only triggers under tight limits.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "mime/message.hpp"

using namespace hdrscan;

namespace {

mime::Limits tight() {
  mime::Limits l;
  l.max_header_count = 8;
  l.max_header_line = 64;
  l.max_mime_depth = 3;
  l.max_parts = 6;
  return l;
}

bool has_defect(const mime::ParsedMessage& m, const std::string& code) {
  for (const auto& d : m.defects)
    if (d.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("every tests/regress input parses with default and tight limits") {
  std::filesystem::path dir = std::filesystem::path(HDRSCAN_SOURCE_DIR) / "tests" / "regress";
  REQUIRE(std::filesystem::is_directory(dir));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "README.md") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    INFO(e.path().filename().string());
    mime::ParsedMessage a, b;
    CHECK_NOTHROW(a = mime::parse_message(bytes));
    CHECK_NOTHROW(b = mime::parse_message(bytes, tight()));
    CHECK(a.raw.size() == bytes.size());
    ++files;
  }
  CHECK(files >= 1);
}

TEST_CASE("header name longer than max_header_line: field kept truncated, no throw") {
  // tests/regress/header-name-over-line-limit.eml with tight limits...
  std::string msg = "From: a@example.com\nSubject" + std::string(58, '\xff') + "X: Test\n\nbody\n";
  mime::ParsedMessage m;
  REQUIRE_NOTHROW(m = mime::parse_message(msg, tight()));
  CHECK(has_defect(m, "header_line_too_long"));
  CHECK(m.headers.has("From"));
  CHECK(m.body() == "body\n");
  // ...and a user-set --max-header-line below the 1000-byte name cap: a 700-byte name.
  mime::Limits l;
  l.max_header_line = 500;
  std::string big = "From: a@example.com\n" + std::string(700, 'N') + ": v\nTo: b@example.com\n\nbody\n";
  mime::ParsedMessage d;
  REQUIRE_NOTHROW(d = mime::parse_message(big, l));
  CHECK(has_defect(d, "header_line_too_long"));
  CHECK(d.headers.has("To"));
  CHECK(d.body() == "body\n");
}
