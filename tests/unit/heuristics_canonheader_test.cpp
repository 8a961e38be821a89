// canonical_header (heuristics/signature.hpp; DKIM/ARC relaxed header canonicalisation, RFC
// 6376 section 3.4.2) written in place (issue 17) against the algorithm it replaced, kept here
// unchanged as the reference: on every header field of real mail from ../shared/corpus (folded
// as written, both canonicalisations) and on edge cases (no colon, empty name or value, blanks
// around the colon, CR/LF without blanks, runs across 15/16/17/63/64/65 bytes, NUL, bytes >=
// 0x80, upper-case names).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "heuristics/signature.hpp"
#include "mime/text.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan;

namespace {

// ---- reference: the old relaxed branch of canonical_header, unchanged ----
std::string old_relaxed(std::string_view raw) {
  std::size_t colon = raw.find(':');
  std::string name = mime::text::lower(raw.substr(0, colon));
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  std::string value;
  bool ws = false;
  for (char c : raw.substr(colon == std::string_view::npos ? raw.size() : colon + 1)) {
    if (c == '\r' || c == '\n') continue;
    if (c == ' ' || c == '\t') {
      ws = true;
      continue;
    }
    if (ws && !value.empty()) value.push_back(' ');
    ws = false;
    value.push_back(c);
  }
  return name + ":" + value;
}
// ---- end of the reference ----

// The header fields of a message file as written (a field's folded lines with it).
std::vector<std::string> fields_of(const std::string& raw) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p < raw.size()) {
    std::size_t nl = raw.find('\n', p);
    std::size_t next = nl == std::string::npos ? raw.size() : nl + 1;
    std::string_view line(raw.data() + p, next - p);
    if (line == "\n" || line == "\r\n") break;  // end of the header block
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) out.back() += line;
    else out.emplace_back(line);
    p = next;
  }
  return out;
}

}  // namespace

TEST_CASE("canonical_header relaxed: edge cases give the old algorithm's bytes") {
  std::vector<std::string> cases = {
      "", ":", "a:", ":b", "NoColon", "No Colon \t", "Subject: hi", "SUBJECT :  hi  there \t",
      "Subject\t \t:\t x", "X-A: a\r\n b\r\n\tc\r\n", "X-A: a\r\nb", "X-A:\r\n", "X-A: \r\n \r\n",
      "X-A: a:b:c", "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\n def", std::string("X\0Y: a\0 b", 9),
      "X-\xc3\xa9: \x80\xff  \xfe", "Mixed-CASE-Name: Mixed Case Value", "a:\r", "a:\n\n\n", " lead: x",
  };
  for (std::size_t len : {15, 16, 17, 63, 64, 65})
    for (std::string_view sep : {" ", "\t", "  \t ", "\r\n ", "\r\n\t", "\n", "\r"}) {
      std::string v = "H: ";
      for (int i = 0; i < 4; ++i) v += std::string(len, static_cast<char>('a' + i)) + std::string(sep);
      cases.push_back(v);
      cases.push_back(v + "end");
    }
  for (const auto& c : cases) CHECK_MESSAGE(heuristics::canonical_header(c, true) == old_relaxed(c), "field: " << c);
  CHECK(cases.size() > 80);
}

TEST_CASE("canonical_header relaxed: every header field of real mail" * test::needs_shared()) {
  std::size_t fields = 0;
  for (const char* dir : {"dev_m365_legit", "dev_relays", "outlook", "malformed"}) {
    for (const auto& path : test::shared_files(dir)) {
      for (const auto& f : fields_of(test::slurp(path))) {
        REQUIRE_MESSAGE(heuristics::canonical_header(f, true) == old_relaxed(f), path.string() << ": " << f);
        ++fields;
      }
    }
  }
  CHECK(fields > 50000);
}
