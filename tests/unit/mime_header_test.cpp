// Header-block parser tests (mime/message.cpp): line endings, mbox From lines, bytes mimetic
// chokes on, limits, and a sweep over the real corpora checking that no header is lost.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/test_support.hpp"
namespace test = hdrscan::test;
#include "mime/message.hpp"

using namespace hdrscan::mime;
namespace fs = std::filesystem;

namespace {


bool has_defect(const std::vector<Defect>& d, std::string_view code) {
  for (const auto& x : d)
    if (x.code == code) return true;
  return false;
}

// An independent count of the header fields: physical lines up to the first empty one that
// start with a non-blank byte and have a colon (the mbox "From " line excluded).
std::size_t naive_field_count(const std::string& m) {
  std::size_t count = 0, pos = 0;
  bool first = true;
  while (pos < m.size()) {
    std::size_t e = m.find('\n', pos);
    if (e == std::string::npos) e = m.size();
    std::string line = m.substr(pos, e - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = e + 1;
    if (line.empty()) break;
    if (first && line.rfind("From ", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line[0] == ' ' || line[0] == '\t') continue;
    if (line.find(':') != std::string::npos) ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("CRLF, LF and bare CR line endings give the same fields; raw bytes are kept") {
  std::string lf = "Subject: hello\n world\nFrom: a@b.example\n\nbody\n";
  std::string crlf = "Subject: hello\r\n world\r\nFrom: a@b.example\r\n\r\nbody\r\n";
  std::string cr = "Subject: hello\r world\rFrom: a@b.example\r\rbody\r";
  for (const auto* m : {&lf, &crlf, &cr}) {
    auto p = parse_message(*m);
    REQUIRE(p.headers.fields.size() == 2);
    CHECK(p.headers.fields[0].name == "Subject");
    CHECK(p.headers.fields[0].value == "hello world");
    CHECK(p.headers.first("from")->value == "a@b.example");
    CHECK(p.body().substr(0, 4) == "body");
  }
  auto p = parse_message(crlf);
  CHECK(p.headers.fields[0].raw == "Subject: hello\r\n world");  // exact bytes for DKIM "simple"
  CHECK(has_defect(parse_message(cr).defects, "bare_cr"));
}

TEST_CASE("a leading mbox From line is skipped, not taken as the body") {
  auto p = parse_message("From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nSubject: x\nTo: y@z.example\n\nbody\n");
  CHECK(p.headers.fields.size() == 2);
  CHECK(has_defect(p.defects, "mbox_from_line"));
}

TEST_CASE("bytes that end mimetic's header block do not end ours") {
  std::string m = "Subject: one\nX-Bad\x01Name: two\nX-Eight\xe9: three\nJunk line without colon\nTo: four@x.example\n"
                  "X-Nul: a\0b\n\nbody\n";
  m.assign(m.data(), m.size());  // keep the NUL
  std::string with_nul = std::string("Subject: one\nX-Bad\x01Name: two\nX-Eight\xe9: three\nJunk line without colon\nTo: four@x.example\nX-Nul: a") +
                         std::string(1, '\0') + "b\n\nbody\n";
  auto p = parse_message(with_nul);
  CHECK(p.headers.fields.size() == 5);
  CHECK(p.headers.first("To") != nullptr);
  CHECK(has_defect(p.defects, "bad_header_name_bytes"));
  CHECK(has_defect(p.defects, "junk_header_line"));
  CHECK(has_defect(p.defects, "nul_in_header"));
  const auto* nul = p.headers.first("X-Nul");
  REQUIRE(nul != nullptr);
  CHECK(nul->value.size() == 3);  // the NUL is kept in the value...
  CHECK(nul->decoded.find('\0') == std::string::npos);  // ...but never in the decoded text
  CHECK(p.body().substr(0, 4) == "body");
}

TEST_CASE("a first line starting with whitespace does not lose the other headers") {
  auto p = parse_message(" stray continuation\nSubject: x\nFrom: y@z.example\n\nbody");
  CHECK(p.headers.fields.size() == 2);
  CHECK(has_defect(p.defects, "orphan_continuation"));
}

TEST_CASE("no blank line: the body starts at the first line that is not a header") {
  auto p = parse_message("Subject: x\nFrom: y@z.example\nThis is the body text, no colon\nmore body\n");
  CHECK(p.headers.fields.size() == 2);
  CHECK(has_defect(p.defects, "missing_header_separator"));
  CHECK(p.body().rfind("This is the body", 0) == 0);
}

TEST_CASE("obsolete blanks before the colon and empty values") {
  auto p = parse_message("Subject : spaced\nX-Empty:\nX-Tab:\tv\n\n");
  REQUIRE(p.headers.fields.size() == 3);
  CHECK(p.headers.fields[0].name == "Subject");
  CHECK(p.headers.fields[0].value == "spaced");
  CHECK(p.headers.fields[1].value.empty());
  CHECK(p.headers.fields[2].value == "v");
}

TEST_CASE("RFC 2047 values are decoded to UTF-8, the raw value kept") {
  auto p = parse_message("Subject: =?iso-8859-1?q?Gl=FCckwunsch?=\n\n");
  CHECK(p.headers.fields[0].value == "=?iso-8859-1?q?Gl=FCckwunsch?=");
  CHECK(p.headers.fields[0].decoded == "Gl\xc3\xbc" "ckwunsch");
}

TEST_CASE("limits: field count, field length, block size are errors with reasons, never crashes") {
  Limits lim;
  lim.max_header_count = 10;
  std::string many;
  for (int i = 0; i < 50; ++i) many += "X-H" + std::to_string(i) + ": v\n";
  many += "\nbody";
  auto p = parse_message(many, lim);  // the ParsedMessage views these bytes: keep them alive
  CHECK(p.headers.fields.size() == 10);
  CHECK(has_defect(p.defects, "too_many_headers"));
  CHECK(p.has_errors());
  CHECK(p.body() == "body");  // the body is still found

  Limits lim2;
  lim2.max_header_line = 1000;
  std::string longline = "Subject: " + std::string(5000, 'a') + "\n\tfolded " + std::string(3000, 'b') + "\nTo: t@x.example\n\nbody";
  auto q = parse_message(longline, lim2);
  REQUIRE(q.headers.fields.size() == 2);
  CHECK(q.headers.fields[0].raw.size() == 1000);
  CHECK(has_defect(q.defects, "header_line_too_long"));
  CHECK(q.headers.first("To") != nullptr);

  Limits lim3;
  lim3.max_message_bytes = 100;
  const std::string big_bytes = "Subject: big\n\n" + std::string(1000, 'x');  // viewed: kept alive
  auto r = parse_message(big_bytes, lim3);
  CHECK(has_defect(r.defects, "message_too_large"));
  CHECK(r.headers.first("Subject") != nullptr);  // headers still analysed
  CHECK(r.parts.empty());                        // the body is not
}

TEST_CASE("a 1 MB header line and 100,000 headers return (linear parser)") {
  std::string big = "X-Big: " + std::string(1 << 20, 'a') + "\nSubject: after\n\nbody";
  auto p = parse_message(big);
  CHECK(p.headers.first("Subject") != nullptr);
  CHECK(has_defect(p.defects, "header_line_too_long"));
  std::string many;
  many.reserve(100000 * 12);
  for (int i = 0; i < 100000; ++i) many += "X-A: b\n";
  many += "\nbody";  // the parsed message views these bytes: keep them alive
  auto q = parse_message(many);
  CHECK(q.headers.fields.size() == Limits{}.max_header_count);
  CHECK(has_defect(q.defects, "too_many_headers"));
}

TEST_CASE("shared corpus: every ham-spam and dev message keeps all of its headers" * test::needs_shared()) {
  std::size_t files = 0, fields = 0;
  std::map<std::string, int> mismatches;
  for (const char* dir : {"ham-spam", "dev_m365_legit", "dev_relays"}) {
    for (const auto& e : fs::recursive_directory_iterator(test::shared_path(dir))) {
      if (!e.is_regular_file()) continue;
      std::string fname = e.path().filename().string();
      if (fname.rfind("LICENSE", 0) == 0 || fname.rfind("README", 0) == 0) continue;  // not mail
      std::string m = test::slurp(e.path());
      auto p = parse_message(m);
      ++files;
      fields += p.headers.fields.size();
      if (p.headers.fields.size() != naive_field_count(m)) mismatches[e.path().string()] = static_cast<int>(p.headers.fields.size());
      CHECK_FALSE(has_defect(p.defects, "no_headers"));
      CHECK_FALSE(p.has_errors());
    }
  }
  for (const auto& [path, n] : mismatches) MESSAGE("header count differs: ", path, " parsed ", n);
  MESSAGE(files, " messages, ", fields, " header fields");
  CHECK(files > 6700);
  CHECK(mismatches.empty());
}

TEST_CASE("malformed corpus: header-side defect counts pinned, no crash" * test::needs_shared()) {
  const fs::path dir = test::shared_path("malformed");
  std::map<std::string, int> counts;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string name = e.path().filename().string();
    if (name.rfind("LICENSE", 0) == 0 || name.rfind("README", 0) == 0 || e.path().extension() == ".md" ||
        e.path().extension() == ".py")
      continue;
    const std::string bytes = test::slurp(e.path());  // viewed by the parsed message
    auto p = parse_message(bytes);
    ++files;
    for (const auto& d : p.defects) ++counts[d.code];
  }
  std::string summary;
  for (const auto& [code, n] : counts) summary += code + "=" + std::to_string(n) + " ";
  MESSAGE(files, " files; defects: ", summary);
  // Pinned on the corpus as shipped: a change is a behaviour change to look at.
  CHECK(files == 1053);
  CHECK(counts["mbox_from_line"] == 94);
  CHECK(counts["bare_cr"] == 0);
  CHECK(counts["junk_header_line"] == 18);
  CHECK(counts["orphan_continuation"] == 14);
  CHECK(counts["missing_header_separator"] == 32);
  CHECK(counts["bad_header_name_bytes"] == 2);
  CHECK(counts["nul_in_header"] == 0);
  CHECK(counts["no_headers"] == 38);
  CHECK(counts["header_line_too_long"] == 0);
  CHECK(counts["message_too_large"] == 0);
}

TEST_CASE("a MIME delimiter right after the headers (no blank line) starts the body, colon or not") {
  auto p = parse_message("Subject: x\nContent-Type: multipart/mixed; boundary=\"--9-1:2\"\n----9-1:2\nContent-Type: text/plain\n\nhi\n----9-1:2--\n");
  CHECK(p.headers.fields.size() == 2);
  CHECK(has_defect(p.defects, "missing_header_separator"));
  CHECK(p.body().rfind("----9-1:2", 0) == 0);
}

TEST_CASE("headers_only: a header block without a body is said so, and no MIME tree is made") {
  using hdrscan::mime::parse_message;
  auto has = [](const auto& m, const char* code) {
    for (const auto& d : m.defects)
      if (d.code == code) return true;
    return false;
  };
  for (const char* text : {"Received: from a by b\nSubject: x\n", "Subject: x\r\n\r\n\r\n  \r\n",
                           "Subject: x\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"}) {
    CAPTURE(text);
    const auto m = parse_message(text);
    CHECK(has(m, "headers_only"));
    CHECK_FALSE(has(m, "boundary_not_found"));
    CHECK(m.headers.first("Subject") != nullptr);
  }
  CHECK_FALSE(has(parse_message("Subject: x\n\nbody\n"), "headers_only"));
  CHECK_FALSE(has(parse_message(""), "headers_only"));  // no headers: no_headers, not this
}

TEST_CASE("unfolding and the plain-ASCII test at every position of an 8-byte word") {
  // finish_field looks for line breaks and non-ASCII bytes eight bytes at a time (issue 17):
  // a fold (CRLF, LF or bare CR) or a UTF-8 byte at any offset must give what a byte loop gave.
  for (std::size_t pad = 0; pad <= 20; ++pad) {
    CAPTURE(pad);
    const std::string a(pad, 'a');
    for (const char* eol : {"\r\n", "\n", "\r"}) {
      const std::string m = std::string("Subject: ") + a + eol + " x" + eol + "\tyz" + a + eol +
                            "X-Utf: " + a + "\xC3\xA9" + a + eol + eol + "body";
      auto p = parse_message(m);
      REQUIRE(p.headers.fields.size() == 2);
      CHECK(p.headers.fields[0].value == (pad ? a + " x\tyz" + a : std::string("x\tyz")));
      CHECK(p.headers.fields[0].decoded == p.headers.fields[0].value);
      // Not plain ASCII: decoded through the RFC 2047/charset path, which keeps valid UTF-8.
      CHECK(p.headers.fields[1].value == a + "\xC3\xA9" + a);
      CHECK(p.headers.fields[1].decoded == a + "\xC3\xA9" + a);
    }
  }
}

namespace {
// The line splitter before issue 17 (a memchr for LF, then one for CR inside the line): the
// reference the one-pass next_line must agree with.
detail::Line reference_next_line(std::string_view s, std::size_t pos) {
  detail::Line l;
  l.begin = pos;
  const char* base = s.data();
  const std::size_t n = s.size();
  const void* nl = std::memchr(base + pos, '\n', n - pos);
  const std::size_t lf = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : n;
  if (const void* cr = std::memchr(base + pos, '\r', lf - pos)) {
    const std::size_t c = static_cast<std::size_t>(static_cast<const char*>(cr) - base);
    l.end = c;
    if (c + 1 == lf) {
      l.next = lf < n ? lf + 1 : n;
    } else {
      l.next = c + 1;
      l.bare_cr = true;
    }
    return l;
  }
  l.end = lf;
  l.next = lf < n ? lf + 1 : n;
  return l;
}

void check_next_line_everywhere(const std::string& s) {
  for (std::size_t pos = 0; pos <= s.size(); ++pos) {
    const auto got = detail::next_line(s, pos);
    const auto want = reference_next_line(s, pos);
    CAPTURE(pos);
    CHECK(got.begin == want.begin);
    CHECK(got.end == want.end);
    CHECK(got.next == want.next);
    CHECK(got.bare_cr == want.bare_cr);
  }
}
}  // namespace

TEST_CASE("next_line: one pass for CR or LF gives what the two memchr calls gave") {
  // Empty input, and a terminator (LF, CRLF, bare CR, CR at the end) at every offset around
  // the 16-byte block: lengths 0..70 cover 7/8/9, 15/16/17, 31/32/33, 63/64/65.
  check_next_line_everywhere("");
  for (const char* eol : {"\n", "\r\n", "\r", "\rx", "\n\r", "\r\r\n"}) {
    for (std::size_t len = 0; len <= 70; ++len) {
      CAPTURE(len);
      std::string s(len, 'a');
      check_next_line_everywhere(s + eol);
      check_next_line_everywhere(s + eol + s + eol + "tail");
      // Bytes >= 0x80, NUL and other control bytes are ordinary line content.
      std::string odd(len, '\0');
      for (std::size_t k = 0; k < len; ++k) odd[k] = static_cast<char>(k % 3 == 0 ? 0x8d : (k % 3 == 1 ? 0 : 0x0a + 0x80));
      check_next_line_everywhere(odd + eol + odd);
    }
  }
  // Pseudo-random mixes of the bytes that matter.
  const char alphabet[] = {'a', '\r', '\n', '\0', '\x8a', '\x8d', ' ', ':'};
  std::uint32_t state = 12345;
  for (int round = 0; round < 200; ++round) {
    std::string s;
    state = state * 1103515245u + 12345u;
    const std::size_t len = (state >> 16) % 90;
    for (std::size_t k = 0; k < len; ++k) {
      state = state * 1103515245u + 12345u;
      const unsigned r = (state >> 16) % 64;
      s.push_back(r < 56 ? 'a' : alphabet[r - 56]);
    }
    check_next_line_everywhere(s);
  }
}
