// mime_regress_test.cpp: every input under tests/regress/ (each once crashed or broke a
// parser, see tests/regress/README.md) parses without throwing, with default limits and with
// the tight limits the fuzz_message harness uses; plus the default-limit forms of findings
// whose committed input only triggers under tight limits.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "mime/decode.hpp"
#include "tests/support/test_support.hpp"
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

using hdrscan::test::strict_utf8;

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

TEST_CASE("charset names glibc takes for UTF-8 still give valid UTF-8 (F5..F7 leads)") {
  // tests/regress/charset-glibc-utf8-alias.eml: found by fuzz_decode (decode_rfc2047 with
  // charset "utf%8": glibc iconv's UTF-8 passed F7 A5 99 A9 through).
  const std::string bad = "a\xf7\xa5\x99\xa9z\xed\xa0\x80q";
  for (const char* cs : {"utf%8", "UTF-8//", "utf-8", "x-unknown", "iso-8859-1", "koi8-r"}) {
    INFO(cs);
    std::string out = mime::to_utf8(bad, cs);
    CHECK(strict_utf8(out));
    CHECK(out.find('a') == 0);
  }
  CHECK(strict_utf8(mime::decode_rfc2047("=?utf%8?B?96WZqQ==?= x")));
  std::filesystem::path p = std::filesystem::path(HDRSCAN_SOURCE_DIR) / "tests" / "regress" /
                            "charset-glibc-utf8-alias.eml";
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  mime::ParsedMessage m = mime::parse_message(bytes);
  const auto* subject = m.headers.first("Subject");
  REQUIRE(subject != nullptr);
  CHECK(strict_utf8(subject->decoded));
  for (const auto& part : m.parts) CHECK(strict_utf8(part.text));
}

TEST_CASE("a header block ending in a lone CR: body offset within the input") {
  // tests/regress/header-block-ends-in-cr.eml: found by fuzz_header_block.
  for (std::string msg : {std::string("From: a@example.com\nSubject: x\n\r"), std::string("From: a@b\r"),
                          std::string("\r"), std::string("From: a@b\r\n\r")}) {
    INFO(msg.size());
    mime::HeaderBlock hb;
    std::vector<mime::Defect> defects;
    std::size_t off = mime::parse_header_block(msg, mime::Limits{}, hb, defects);
    CHECK(off <= msg.size());
    mime::ParsedMessage m = mime::parse_message(msg);
    CHECK(m.body_offset <= m.raw.size());
  }
  mime::ParsedMessage m = mime::parse_message("From: a@example.com\nSubject: x\n\r");
  CHECK(m.headers.has("Subject"));
  CHECK(m.has_body_separator);
}
