// mime_decode_test.cpp: base64, quoted-printable, charset conversion, RFC 2047 and UTF-8
// sanitising, on hand-made edge cases and on real subjects from the SpamAssassin corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/test_support.hpp"
namespace test = hdrscan::test;
#include "mime/decode.hpp"

using namespace hdrscan::mime;

namespace {

// Checked with an independent validator, not with sanitize_utf8 (which the code under test uses).
bool valid_utf8(const std::string& s) { return hdrscan::test::strict_utf8(s, true); }

// The byte-at-a-time base64 decoder before issue 17's step B1 (mime/decode.cpp at a18c9cc),
// kept verbatim as the reference the quantum-at-a-time one must agree with (output bytes
// and the clean/repaired answer).
bool reference_base64(std::string_view in, std::string& out, std::size_t max_out = SIZE_MAX) {
  static const auto kBase64 = [] {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  bool clean = true;
  std::uint32_t bits = 0;
  int sextets = 0;
  out.reserve(out.size() + std::min(max_out, in.size() / 4 * 3 + 3));
  for (unsigned char c : in) {
    const int v = kBase64[c];
    if (v < 0) {
      if (c == '=') {
        if (sextets == 1) clean = false;
        bits = 0;
        sextets = 0;
      } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        clean = false;
      }
      continue;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++sextets == 2) {
      if (out.size() >= max_out) return clean;
      out.push_back(static_cast<char>((bits >> 4) & 0xFF));
    } else if (sextets == 3) {
      if (out.size() >= max_out) return clean;
      out.push_back(static_cast<char>((bits >> 2) & 0xFF));
    } else if (sextets == 4) {
      if (out.size() >= max_out) return clean;
      out.push_back(static_cast<char>(bits & 0xFF));
      bits = 0;
      sextets = 0;
    }
  }
  if (sextets != 0) clean = false;
  return clean;
}

// decode_base64 and the reference on `in`, from an empty output and from a non-empty one,
// without a cap and with caps around the output's size and block edges.
void same_base64(std::string_view in, bool all_caps = true) {
  std::string want, got;
  const bool want_clean = reference_base64(in, want);
  const bool got_clean = decode_base64(in, got);
  REQUIRE(got == want);
  REQUIRE(got_clean == want_clean);
  const std::size_t full = want.size();
  std::vector<std::size_t> caps = {full / 2, full > 0 ? full - 1 : 0};
  if (all_caps) caps.insert(caps.end(), {0, 1, 2, 3, 4, full, full + 1, full + 3});
  for (const std::size_t cap : caps) {
    for (const char* prefix : {"", "xy"}) {
      std::string w = prefix, g = prefix;
      const bool wc = reference_base64(in, w, cap);
      const bool gc = decode_base64(in, g, cap);
      CAPTURE(cap);
      CAPTURE(prefix);
      REQUIRE(g == w);
      REQUIRE(gc == wc);
    }
  }
}

// The bytes of every file of a ../shared corpus folder (test::shared_files: recursively, in
// path order, at most `max_files`).
std::vector<std::string> shared_file_bytes(const char* folder, std::size_t max_files) {
  std::vector<std::string> out;
  for (const auto& p : test::shared_files(folder, max_files)) out.push_back(test::slurp(p));
  return out;
}

// The blocks of a message between blank lines (LF or CRLF): header block, part headers and
// part bodies, base64 ones among them.
std::vector<std::string_view> blocks(std::string_view m) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < m.size()) {
    std::size_t e = m.find("\n\n", i), e2 = m.find("\n\r\n", i);
    e = std::min(e, e2);
    if (e == std::string_view::npos) e = m.size();
    out.push_back(m.substr(i, e - i));
    i = e + 2;
  }
  return out;
}


}  // namespace

TEST_CASE("base64: clean, wrapped, junk, missing padding") {
  std::string out;
  CHECK(decode_base64("SGVsbG8sIHdvcmxkIQ==", out));
  CHECK(out == "Hello, world!");

  out.clear();
  CHECK(decode_base64("SGVs\r\nbG8s\r\n IHdv\tcmxk\nIQ==\r\n", out));  // whitespace is fine
  CHECK(out == "Hello, world!");

  out.clear();
  CHECK_FALSE(decode_base64("SGVs!!bG8s*IHdvcmxkIQ==", out));  // junk skipped, reported
  CHECK(out == "Hello, world!");

  out.clear();
  CHECK_FALSE(decode_base64("SGVsbG8", out));  // padding missing: repaired
  CHECK(out == "Hello");

  // mimetic's decoder reads '|' through its table and yields "AB@"; '|' is not base64.
  out.clear();
  CHECK_FALSE(decode_base64("QUJ|", out));
  CHECK(out == "AB");

  // Two concatenated padded blobs (seen when parts are glued together).
  out.clear();
  decode_base64("YQ==Yg==", out);
  CHECK(out == "ab");

  out.clear();
  decode_base64("SGVsbG8sIHdvcmxkIQ==", out, 5);
  CHECK(out == "Hello");

  // Every byte value round-trips.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string encoded =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"
      "QkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD"
      "hIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TF"
      "xsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
  out.clear();
  CHECK(decode_base64(encoded, out));
  CHECK(out == all);
}

TEST_CASE("quoted-printable: soft breaks, invalid escapes, trailing blanks") {
  std::string out;
  CHECK(decode_quoted_printable("caf=C3=A9 au lait=\r\n suite=\nend", out));
  CHECK(out == "caf\xC3\xA9 au lait suiteend");

  out.clear();
  CHECK_FALSE(decode_quoted_printable("100=ZZ% =4", out));  // invalid escapes kept literally
  CHECK(out == "100=ZZ% =4");

  out.clear();
  decode_quoted_printable("a=3d=3Db", out);  // lower-case hex tolerated
  CHECK(out == "a==b");

  out.clear();
  decode_quoted_printable("line one   \r\nline two\t\nx = \r\ny", out);  // transport blanks dropped
  CHECK(out == "line one\r\nline two\nx y");

  out.clear();
  decode_quoted_printable("<a href=3D\"http://x.example/?a=3D1\">", out);
  CHECK(out == "<a href=\"http://x.example/?a=1\">");

  out.clear();
  decode_quoted_printable("abcdef", out, 3);
  CHECK(out == "abc");

  out.clear();
  decode_quoted_printable("ends with soft break=", out);
  CHECK(out == "ends with soft break");
}

TEST_CASE("to_utf8: common and Asian charsets") {
  CHECK(to_utf8("plain ascii", "iso-8859-1") == "plain ascii");
  CHECK(to_utf8("caf\xE9", "ISO-8859-1") == "caf\xC3\xA9");
  CHECK(to_utf8("caf\xE9", "\"iso-8859-1\"") == "caf\xC3\xA9");
  // windows-1252 curly quotes and euro sign; iso-8859-1 is read as windows-1252 too.
  CHECK(to_utf8("\x93q\x94 \x80", "windows-1252") == "\xE2\x80\x9Cq\xE2\x80\x9D \xE2\x82\xAC");
  CHECK(to_utf8("\x80", "win-1252") == "\xE2\x82\xAC");
  CHECK(to_utf8("\x99", "iso-8859-1") == "\xE2\x84\xA2");
  CHECK(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r") == "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  CHECK(to_utf8("\x82\xB1\x82\xF1\x82\xC9\x82\xBF\x82\xCD", "shift_jis") ==
        "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF");
  CHECK(to_utf8("\xC4\xE3\xBA\xC3", "gb2312") == "\xE4\xBD\xA0\xE5\xA5\xBD");
  CHECK(to_utf8("\xBE\xC8\xB3\xE7", "ks_c_5601-1987") == "\xEC\x95\x88\xEB\x85\x95");
  CHECK(to_utf8("\xF9\xEC\xE5\xED", "iso-8859-8-i") == "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");
  CHECK(to_utf8("caf\xC3\xA9", "utf8") == "caf\xC3\xA9");
}

TEST_CASE("to_utf8: unknown charsets and invalid input never fail") {
  // Unknown charset: valid UTF-8 kept, anything else read as windows-1252.
  CHECK(to_utf8("caf\xC3\xA9", "x-klingon") == "caf\xC3\xA9");
  CHECK(to_utf8("caf\xE9", "x-klingon") == "caf\xC3\xA9");
  CHECK(to_utf8("caf\xE9", "") == "caf\xC3\xA9");
  // Invalid UTF-8 declared as UTF-8: each bad byte becomes U+FFFD.
  CHECK(to_utf8("a\xFF" "b\xC3", "utf-8") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  // An invalid Shift_JIS lead/trail pair: U+FFFD, and the text after it survives.
  const std::string sjis = to_utf8("\x82\xB1\x85\x20ok", "shift_jis");
  CHECK(valid_utf8(sjis));
  CHECK(sjis.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(sjis.find("ok") != std::string::npos);
  CHECK(sjis.rfind("\xE3\x81\x93", 0) == 0);
  // A truncated multi-byte character at the end.
  CHECK(to_utf8("\xC4\xE3\xBA", "gb2312") == "\xE4\xBD\xA0\xEF\xBF\xBD");
  // NUL never passes through.
  CHECK(to_utf8(std::string("a\0b\xE9", 4), "iso-8859-1") == "a\xEF\xBF\xBD" "b\xC3\xA9");
}

TEST_CASE("sanitize_utf8") {
  CHECK(sanitize_utf8("plain") == "plain");
  CHECK(sanitize_utf8("\xF0\x9F\x8E\x81 gift") == "\xF0\x9F\x8E\x81 gift");
  CHECK(sanitize_utf8(std::string("a\0b", 3)) == "a\xEF\xBF\xBD" "b");
  CHECK(sanitize_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  CHECK(sanitize_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(sanitize_utf8("\xF4\x90\x80\x80").find("\xEF\xBF\xBD") == 0);      // > U+10FFFF
  CHECK(sanitize_utf8("x\xE2\x82") == "x\xEF\xBF\xBD\xEF\xBF\xBD");        // truncated
}

TEST_CASE("is_valid_utf8 is exactly 'sanitize_utf8 leaves it as it is'") {
  // The JSON printer escapes a valid value without sanitizing it first: the two must agree
  // on every input, the ASCII runs read 16 bytes at a time included.
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii, longer than sixteen bytes"));
  CHECK(is_valid_utf8("\xF0\x9F\x8E\x81 gift and then a long ascii tail of more bytes"));
  CHECK_FALSE(is_valid_utf8(std::string("sixteen bytes ok\0", 17)));
  CHECK_FALSE(is_valid_utf8("0123456789abcdef0123\xC0\xAF"));
  CHECK_FALSE(is_valid_utf8("x\xE2\x82"));
  std::uint64_t seed = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    return seed;
  };
  // Mostly ASCII with a few bytes from the interesting ranges, at every offset of 0-80 bytes.
  static constexpr unsigned char kOdd[] = {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED,
                                           0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x90};
  std::size_t valid = 0, invalid = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string s(next() % 80, 'a');
    for (auto& c : s) {
      const std::uint64_t r = next();
      c = (r & 7) == 0 ? static_cast<char>(kOdd[(r >> 3) % sizeof kOdd]) : static_cast<char>(0x20 + (r >> 8) % 95);
    }
    const bool same = sanitize_utf8(s) == s;
    CHECK(is_valid_utf8(s) == same);
    (same ? valid : invalid) += 1;
  }
  CHECK(valid > 1000);  // both answers well represented
  CHECK(invalid > 1000);
}

TEST_CASE("rfc2047: real subjects from the SpamAssassin spam corpus") {
  // Expected strings computed with Python's email.header for the same input.
  CHECK(decode_rfc2047("=?iso-2022-jp?B?GyRCJDckOCRfJEgkYiRiJE4lMyVpJVwlbCE8JTclZyVzGyhK?=") ==
        "\xE3\x81\x97\xE3\x81\x98\xE3\x81\xBF\xE3\x81\xA8\xE3\x82\x82\xE3\x82\x82\xE3\x81\xAE"
        "\xE3\x82\xB3\xE3\x83\xA9\xE3\x83\x9C\xE3\x83\xAC\xE3\x83\xBC\xE3\x82\xB7\xE3\x83\xA7"
        "\xE3\x83\xB3");
  CHECK(decode_rfc2047("=?GBK?B?U3VuZnJvbSBsaWdodGluZyDE+rXEwvrS4srHztLDx9e3x/O1xMS/seo=?=") ==
        "Sunfrom lighting \xE6\x82\xA8\xE7\x9A\x84\xE6\xBB\xA1\xE6\x84\x8F\xE6\x98\xAF\xE6\x88"
        "\x91\xE4\xBB\xAC\xE8\xBF\xBD\xE6\xB1\x82\xE7\x9A\x84\xE7\x9B\xAE\xE6\xA0\x87");
  CHECK(decode_rfc2047("=?big5?Q?=A7A=B7=C7=B3=C6=A6n=A4F=B6=DC=3F?=") ==
        "\xE4\xBD\xA0\xE6\xBA\x96\xE5\x82\x99\xE5\xA5\xBD\xE4\xBA\x86\xE5\x97\x8E?");
  CHECK(decode_rfc2047("=?ISO-8859-1?Q?Lose=20fat=2C=20gain=20muscle=20with=20HGH?=") ==
        "Lose fat, gain muscle with HGH");
  CHECK(decode_rfc2047("=?iso-8859-1?Q?Fw:_CD_Nua_do_dhamhsa=ED_Ch=E9il=ED?=") ==
        "Fw: CD Nua do dhamhsa\xC3\xAD Ch\xC3\xA9il\xC3\xAD");
  CHECK(decode_rfc2047("=?iso-8859-1?Q?Matrox_Parhelia=99_now_available?=") ==
        "Matrox Parhelia\xE2\x84\xA2 now available");
  CHECK(decode_rfc2047("=?iso-8859-1?B?SXQnc6BUaW1loHRvoEludmVzdKB5b3VyoFdheQ==?=") ==
        "It's\xC2\xA0Time\xC2\xA0to\xC2\xA0Invest\xC2\xA0your\xC2\xA0Way");
}

TEST_CASE("rfc2047: every encoded Subject in the spam corpus decodes to valid UTF-8" * test::needs_shared()) {
  const std::filesystem::path dir = test::shared_path("ham-spam/spamassassin/spam");
  std::size_t encoded = 0, decoded_non_ascii = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string text = test::slurp(entry.path());
    const auto at = text.find("\nSubject: =?");
    if (at == std::string::npos) continue;
    const auto eol = text.find('\n', at + 1);
    const std::string subject = text.substr(at + 10, eol - at - 10);
    ++encoded;
    const std::string decoded = decode_rfc2047(subject);
    CHECK(valid_utf8(decoded));
    const bool non_ascii = std::any_of(decoded.begin(), decoded.end(), [](char c) { return (c & 0x80) != 0; });
    if (non_ascii && decoded.find("=?") == std::string::npos)
      ++decoded_non_ascii;
  }
  MESSAGE(encoded << " encoded subjects, " << decoded_non_ascii << " decoded to non-ASCII text");
  CHECK(encoded >= 10);
  CHECK(decoded_non_ascii >= encoded * 8 / 10);
}

TEST_CASE("rfc2047: joining, RFC 2231 language, malformed words") {
  // Whitespace (even folding) between adjacent encoded-words is dropped.
  CHECK(decode_rfc2047("=?utf-8?B?w6k=?= \r\n =?utf-8?Q?=C3=A9?=") == "\xC3\xA9\xC3\xA9");
  // A character split across two words is joined before conversion.
  CHECK(decode_rfc2047("=?utf-8?B?4oI=?= =?utf-8?B?rA==?=") == "\xE2\x82\xAC");
  // Whitespace between a word and plain text is kept.
  CHECK(decode_rfc2047("=?ISO-8859-1?Q?a?= b =?ISO-8859-1?Q?c?=") == "a b c");
  CHECK(decode_rfc2047("Re: =?utf-8?Q?Caf=C3=A9_time?= (2)") == "Re: Caf\xC3\xA9 time (2)");
  // RFC 2231 language suffix on the charset.
  CHECK(decode_rfc2047("=?utf-8*en?Q?Hello_World?=") == "Hello World");
  // Malformed words stay as they were.
  CHECK(decode_rfc2047("=?utf-8?X?abc?=") == "=?utf-8?X?abc?=");
  CHECK(decode_rfc2047("=?utf-8?Q?unterminated") == "=?utf-8?Q?unterminated");
  CHECK(decode_rfc2047("=??Q?x?=") == "=??Q?x?=");
  CHECK(decode_rfc2047("2 =? 3") == "2 =? 3");
  // Different charsets side by side.
  CHECK(decode_rfc2047("=?iso-8859-1?Q?=E9?= =?koi8-r?B?8A==?=") == "\xC3\xA9\xD0\x9F");
  // Raw 8-bit outside words made valid.
  CHECK(valid_utf8(decode_rfc2047("caf\xE9 =?utf-8?Q?x?=")));
}

TEST_CASE("quoted-printable: text runs of every length, blanks before '=' and at line ends, the output cap") {
  // Runs of text between '=' and line ends are appended at once (issue 17); each case below
  // is what the byte-at-a-time decoder gave.
  for (std::size_t pad = 0; pad <= 20; ++pad) {
    CAPTURE(pad);
    const std::string a(pad, 'a');
    std::string out;
    CHECK(decode_quoted_printable(a + " b \t=3D c\t \r\n" + a + " =\r\n" + a + "  ", out));
    CHECK(out == a + " b \t= c\r\n" + a + " " + a);
  }
  std::string out;
  decode_quoted_printable("abcdef ghij", out, 4);
  CHECK(out == "abcd");
  out.clear();
  decode_quoted_printable("ab  \r\ncd", out, 3);
  CHECK(out == "ab\r");
  out = "xy";
  decode_quoted_printable("abcdef", out, 5);
  CHECK(out == "xyabc");
  out.clear();
  decode_quoted_printable("  \t\r\n\t", out);
  CHECK(out == "\r\n");
}

TEST_CASE("base64: quantum-at-a-time decoding agrees with the byte-at-a-time decoder on edge cases") {
  const std::string clean = "SGVsbG8sIHdvcmxkIQ==";
  const std::string enc = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB";
  std::vector<std::string> cases = {
      "", "=", "==", "A", "AB", "ABC", "ABCD", "ABCDE", "ABCDEF", "A===", "AB==", "ABC=", "AB=C", "A=BC",
      "QUJD=REVG", "QUJ=DREVG", "YQ==Yg==", "YQ=\r\n=Yg==", "QUJ|", "QUJD|", "|QUJD", "QU\0JD", std::string("QU\0JD", 6),
      "SGVs\r\nbG8s\r\n IHdv\tcmxk\nIQ==\r\n", "SGVs\rbG8s\rIHdv\rcmxk\rIQ==\r", "SGVs\nbG8s\nIHdvcmxkIQ==\n",
      "S\r\nGVsbG8\r\n", "SGVsbG8sIHdvcmxkIQ=\r\n", "SGVs!!bG8s*IHdvcmxkIQ==", "SGVsbG8", "\r\n\r\n", "====",
      "-_-_", "\xC3\xA9QUJD\xFFQUJD\x80", clean + clean, clean.substr(0, 19) + "=" + clean};
  // Every length around the 4-byte quantum and 16/64-byte blocks, clean and broken by a
  // line break, a padding or a junk byte at every position.
  for (const std::size_t len : {3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 75, 76, 77}) {
    const std::string t = enc.substr(0, std::min(len, enc.size()));
    cases.push_back(t);
    for (std::size_t at = 0; at <= t.size(); ++at)
      for (const char* ins : {"\r\n", "\n", "\r", "=", "*", " ", "\xFF"}) cases.push_back(t.substr(0, at) + ins + t.substr(at));
  }
  // Every byte value at every position of a quantum.
  for (int b = 0; b < 256; ++b)
    for (std::size_t at = 0; at < 8; ++at) {
      std::string t = enc.substr(0, 12);
      t[at] = static_cast<char>(b);
      cases.push_back(t);
    }
  // 76-character lines ending CRLF, LF or CR.
  std::string wrapped_crlf, wrapped_lf, wrapped_cr;
  for (int k = 0; k < 5; ++k) {
    wrapped_crlf += enc.substr(0, 76) + "\r\n";
    wrapped_lf += enc.substr(0, 76) + "\n";
    wrapped_cr += enc.substr(0, 76) + "\r";
  }
  cases.insert(cases.end(), {wrapped_crlf, wrapped_lf, wrapped_cr, wrapped_crlf + "QQ==", wrapped_lf + "QUI"});
  for (const auto& c : cases) {
    CAPTURE(c);
    same_base64(c);
  }
}

TEST_CASE("base64: quantum-at-a-time decoding agrees with the byte-at-a-time decoder on real mail" *
          test::needs_shared()) {
  std::size_t clean_bodies = 0;
  for (const auto& [folder, max_files] : {std::pair{"dev_relays", 80}, std::pair{"dev_m365_legit", 600},
                                          std::pair{"ham-spam", 800}, std::pair{"malformed", 1100}}) {
    const std::vector<std::string> mails = shared_file_bytes(folder, static_cast<std::size_t>(max_files));
    REQUIRE(!mails.empty());
    for (const auto& m : mails) {
      for (const std::string_view b : blocks(m)) {
        // A block's base64 lines (a part body), then the whole block as junk-laden input.
        const std::size_t end = std::min(b.find("\n--"), b.size());
        CAPTURE(b.substr(0, 200));
        same_base64(b.substr(0, end), false);
        std::string out;
        if (decode_base64(b.substr(0, end), out) && out.size() >= 300) ++clean_bodies;
      }
    }
  }
  CHECK(clean_bodies > 300);  // real base64 bodies were among the blocks (436 at 2026-12-03)
}
