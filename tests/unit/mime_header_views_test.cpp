// mime_header_views_test.cpp: header fields as views (issue 17). name and raw view the parsed
// bytes; value views them when the field was not folded, else the block's TextStore; decoded
// is value itself when nothing needed decoding. Checked against a reference that builds the
// values as the previous code did (a trimmed, unfolded copy; RFC 2047 decoded unless plain
// ASCII without "=?"), over folds (CRLF, LF, bare CR) at every offset, lengths around 8, 16,
// 64 and the store's block sizes (2048, 8192), bytes >= 0x80, NUL, encoded-words, empty
// values, more fields than the reserved 32, and copies of a block outliving the original.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mime/decode.hpp"
#include "mime/message.hpp"
#include "tests/support/header_reference.hpp"

using namespace hdrscan::mime;

namespace {

struct Want {
  std::string name, raw, value, decoded;
};

// The previous finish_field (tests/support/header_reference.hpp), with the field's name and raw.
Want reference(std::string_view raw, std::size_t name_len) {
  const auto r = hdrscan::test::reference_field(raw, name_len);
  return Want{std::string(raw.substr(0, name_len)), std::string(raw), r.value, r.decoded};
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// Parses `block` (fields, then a blank line and a body) and compares every field with the
// reference of its raw bytes `raws` (name lengths `names`).
void check_block(const std::string& bytes, const std::vector<std::string>& raws) {
  HeaderBlock hb;
  std::vector<Defect> defects;
  parse_header_block(bytes, Limits{}, hb, defects);
  REQUIRE(hb.fields.size() == raws.size());
  for (std::size_t i = 0; i < raws.size(); ++i) {
    const auto& f = hb.fields[i];
    const Want w = reference(raws[i], raws[i].find(':'));
    CAPTURE(raws[i]);
    CHECK(f.name == w.name);
    CHECK(f.raw == w.raw);
    CHECK(f.value == w.value);
    CHECK(f.decoded == w.decoded);
    CHECK(inside(f.name, bytes));
    CHECK(inside(f.raw, bytes));
    // Not folded: the value is the message's own bytes, no copy.
    if (w.raw.find_first_of("\r\n") == std::string::npos) CHECK(inside(f.value, bytes));
    if (f.decoded == f.value && w.value.find("=?") == std::string::npos) CHECK(f.decoded.data() == f.value.data());
  }
}

}  // namespace

TEST_CASE("header views: folds at every offset, every line ending, lengths around word sizes") {
  const char* eols[] = {"\r\n", "\n", "\r"};
  std::size_t checked = 0;
  for (const char* eol : eols) {
    for (std::size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 2047, 2048, 2049, 8191, 8192, 8193}) {
      std::string v;
      for (std::size_t k = 0; k < len; ++k) v.push_back(static_cast<char>('a' + k % 26));
      for (std::size_t fold = 0; fold <= std::min<std::size_t>(len, 20); ++fold) {
        std::vector<std::string> raws;
        // plain, folded at `fold`, and with a UTF-8 byte and a NUL at `fold`
        raws.push_back("Subject: " + v);
        raws.push_back("X-Folded: " + v.substr(0, fold) + eol + " " + v.substr(fold));
        std::string high = v;
        if (fold < high.size()) high[fold] = '\xc3';
        raws.push_back("X-High: " + high);
        std::string nul = v;
        if (fold < nul.size()) nul[fold] = '\0';
        raws.push_back("X-Nul: " + nul);
        raws.push_back("X-Enc: =?utf-8?q?caf=C3=A9?= " + v.substr(0, fold) + eol + "\t=?iso-8859-1?b?4Q==?=");
        raws.push_back("X-Empty:");
        raws.push_back("X-Blanks:  \t ");
        std::string bytes;
        for (const auto& r : raws) bytes += r + eol;
        bytes += std::string(eol) + "body";
        check_block(bytes, raws);
        ++checked;
      }
    }
  }
  CHECK(checked > 300);
}

TEST_CASE("header views: many folded fields fill several store blocks; copies keep their values") {
  std::vector<std::string> raws;
  for (int i = 0; i < 200; ++i) {
    std::string v(static_cast<std::size_t>(i * 37 % 300), 'x');
    raws.push_back("Received: from host" + std::to_string(i) + "\r\n\tby mx " + v + "\r\n\t; Mon, 1 Jan 2024 00:00:00 +0000");
  }
  std::string bytes;
  for (const auto& r : raws) bytes += r + "\r\n";
  bytes += "\r\nbody";
  check_block(bytes, raws);

  // A copy of the block keeps the store alive after the original is gone.
  auto original = std::make_unique<HeaderBlock>();
  std::vector<Defect> defects;
  parse_header_block(bytes, Limits{}, *original, defects);
  const HeaderBlock copy = *original;
  original.reset();
  REQUIRE(copy.fields.size() == raws.size());
  for (std::size_t i = 0; i < raws.size(); ++i) CHECK(copy.fields[i].value == reference(raws[i], 8).value);

  // And a parsed message moved around keeps them too.
  ParsedMessage m = parse_message(bytes);
  std::vector<ParsedMessage> moved;
  moved.push_back(std::move(m));
  REQUIRE(moved[0].headers.fields.size() == raws.size());
  CHECK(moved[0].headers.fields[199].value == reference(raws[199], 8).value);
}
