// mime_header_ref_test.cpp: the header side of issue 17 (decode_rfc2047 without a string per
// encoded-word; header fields unfolded from the lines the parser found and not rescanned for
// what needs decoding; sanitize_utf8's ASCII runs) against verbatim copies of the previous
// algorithms or byte-by-byte references, on every header field (value and raw bytes with their
// folds) of the shared corpus's dev_m365_legit, dev_relays, ham-spam and malformed sets, and
// on generated edge cases: encoded-words split across folds, invalid base64 and Q, unknown
// charsets, adjacent words in one and in different charsets, the 1024-byte word window,
// lengths around 8, 16 and 64 bytes, NUL, '?', bytes >= 0x80, CR-only and LF-only line ends.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/header_reference.hpp"
#include "tests/support/test_support.hpp"
namespace test = hdrscan::test;
#include "mime/decode.hpp"
#include "mime/message.hpp"

using namespace hdrscan::mime;
namespace fs = std::filesystem;

namespace {

// ---- the previous decode_rfc2047, verbatim (only renamed); to_utf8, sanitize_utf8 and
// decode_base64 are the library's own (tested on their own in mime_decode_test) ----
namespace ref {

constexpr std::size_t kMaxEncodedWord = 1024;
constexpr std::size_t kMaxCharsetName = 64;

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string normalise_charset(std::string_view cs) {
  std::string out;
  for (char c : cs) {
    if (out.size() >= kMaxCharsetName) break;
    if (c == '"' || c == '\'' || c == ' ' || c == '\t') continue;
    out.push_back(to_lower(c));
  }
  return out;
}

struct EncodedWord {
  std::size_t end = 0;
  std::string charset;
  std::string bytes;
};

bool parse_encoded_word(std::string_view value, std::size_t pos, EncodedWord& word) {
  const std::size_t limit = std::min(value.size(), pos + kMaxEncodedWord);
  std::size_t q1 = pos + 2;
  std::size_t p = q1;
  while (p < limit && value[p] != '?' && value[p] != ' ' && value[p] != '\t' && value[p] != '\r' && value[p] != '\n') ++p;
  if (p >= limit || value[p] != '?' || p == q1) return false;
  std::string_view cs = value.substr(q1, p - q1);
  if (const auto star = cs.find('*'); star != std::string_view::npos) cs = cs.substr(0, star);
  if (p + 2 >= limit || value[p + 2] != '?') return false;
  const char enc = to_lower(value[p + 1]);
  if (enc != 'b' && enc != 'q') return false;
  const std::size_t text_begin = p + 3;
  std::size_t t = text_begin;
  while (t + 1 < limit && !(value[t] == '?' && value[t + 1] == '=')) {
    if (value[t] == '\r' || value[t] == '\n') return false;
    ++t;
  }
  if (t + 1 >= limit) return false;
  const std::string_view text = value.substr(text_begin, t - text_begin);
  word.charset.assign(cs);
  word.bytes.clear();
  if (enc == 'b') {
    decode_base64(text, word.bytes);
  } else {
    for (std::size_t k = 0; k < text.size(); ++k) {
      const char c = text[k];
      if (c == '_') {
        word.bytes.push_back(' ');
      } else if (c == '=' && k + 2 < text.size()) {
        const int hi = hex_value(static_cast<unsigned char>(text[k + 1]));
        const int lo = hex_value(static_cast<unsigned char>(text[k + 2]));
        if (hi >= 0 && lo >= 0) {
          word.bytes.push_back(static_cast<char>(hi * 16 + lo));
          k += 2;
        } else {
          word.bytes.push_back('=');
        }
      } else {
        word.bytes.push_back(c);
      }
    }
  }
  word.end = t + 2;
  return true;
}

std::string decode_rfc2047(std::string_view value) {
  if (value.find("=?") == std::string_view::npos) return sanitize_utf8(value);
  std::string out;
  out.reserve(value.size());
  std::string pending_bytes;
  std::string pending_charset;
  auto flush = [&]() {
    if (!pending_bytes.empty()) out += to_utf8(pending_bytes, pending_charset);
    pending_bytes.clear();
  };
  std::size_t i = 0;
  std::size_t plain_begin = 0;
  bool last_was_word = false;
  EncodedWord word;
  while (i < value.size()) {
    const std::size_t at = value.find("=?", i);
    if (at == std::string_view::npos) break;
    if (!parse_encoded_word(value, at, word)) {
      i = at + 2;
      continue;
    }
    const std::string_view between = value.substr(plain_begin, at - plain_begin);
    const bool only_space = between.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(last_was_word && only_space)) {
      flush();
      out += sanitize_utf8(between);
    } else if (normalise_charset(word.charset) != normalise_charset(pending_charset)) {
      flush();
    }
    if (pending_bytes.empty()) pending_charset = word.charset;
    pending_bytes += word.bytes;
    last_was_word = true;
    i = plain_begin = word.end;
  }
  flush();
  out += sanitize_utf8(value.substr(plain_begin));
  return out;
}

}  // namespace ref

bool is_mail(const fs::path& p) {
  const std::string name = p.filename().string();
  return !(name.rfind("LICENSE", 0) == 0 || name.rfind("README", 0) == 0 || p.extension() == ".md" ||
           p.extension() == ".py");
}

// The mail files of the four sets the corpus cases read (not their LICENSE, README, *.md, *.py).
std::vector<fs::path> corpus_mail() {
  std::vector<fs::path> out;
  for (const char* dir : {"dev_m365_legit", "dev_relays", "ham-spam", "malformed"})
    for (auto& p : test::shared_files(dir))
      if (is_mail(p)) out.push_back(std::move(p));
  return out;
}

// Calls fn(path, field) for every header field of every corpus_mail() file; returns the number
// of files.
template <typename Fn>
std::size_t for_each_corpus_field(Fn&& fn) {
  const auto paths = corpus_mail();
  for (const auto& p : paths) {
    const std::string bytes = test::slurp(p);
    HeaderBlock hb;
    std::vector<Defect> defects;
    parse_header_block(bytes, Limits{}, hb, defects);
    for (const auto& f : hb.fields) fn(p, f);
  }
  return paths.size();
}

// A small deterministic generator (the cases must be the same on every run).
struct Rng {
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

}  // namespace

TEST_CASE("decode_rfc2047: every header of the shared corpus as before (value and raw)" * test::needs_shared()) {
  std::size_t fields = 0, encoded = 0, differ = 0;
  const std::size_t files = for_each_corpus_field([&](const fs::path& p, const HeaderField& f) {
    ++fields;
    if (f.value.find("=?") != std::string_view::npos) ++encoded;
    for (std::string_view v : {f.value, f.raw}) {
      const std::string want = ref::decode_rfc2047(v);
      const std::string got = decode_rfc2047(v);
      if (got != want) {
        ++differ;
        if (differ <= 5) MESSAGE(p.string(), ": ", std::string(f.name), " differs");
      }
    }
  });
  MESSAGE(files, " messages, ", fields, " fields, ", encoded, " with encoded-words");
  CHECK(files > 6700);
  CHECK(encoded > 900);
  CHECK(differ == 0);
}

TEST_CASE("decode_rfc2047: generated values as before") {
  // Pieces that make and break encoded-words; joined at random, many times.
  const std::vector<std::string> pieces = {
      "=?", "?=", "?", "=", "_", " ", "\t", "\r\n ", "\n\t", "\r ", "\r", "\n", std::string(1, '\0'),
      "\xc3", "\xa9", "\xc3\xa9", "\xe2\x82\xac", "\xff", "abc", "Re: ", "=C3", "=A9", "=4", "=G1", "=3D",
      "=?utf-8?q?", "=?UTF-8?Q?", "=?utf-8?b?", "=?us-ascii?Q?", "=?iso-8859-1?q?", "=?ISO-8859-1?B?",
      "=?windows-1252?q?", "=?\"utf-8\"?q?", "=?utf-8*en?q?", "=?x-unknown-cs?q?", "=?no-such-charset?b?",
      "=?iso-2022-jp?b?", "=?shift_jis?q?", "=?gbk?b?", "=?utf-8?x?", "=??q?", "=?utf-8?q",
      "w6k=", "4Q==", "!!!", "GyRCJDckOCRfJEgkYiRiJE4bKEI=", "SGVsbG8", "=?utf-8?q?caf=C3=A9?=",
      "=?utf-8?b?w6k=?=", "=?iso-8859-1?q?=E9t=E9?=", "=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=",
      "=?UTF-8?B?4oI=?= =?utf-8?B?rA==?=", "=?us-ascii?Q?abc_def?=", "=?x-unknown?q?=E9?="};
  Rng rng;
  std::size_t checked = 0, differ = 0;
  for (int round = 0; round < 40000; ++round) {
    std::string v;
    const std::size_t n = 1 + rng.below(12);
    for (std::size_t k = 0; k < n; ++k) v += pieces[rng.below(pieces.size())];
    if (ref::decode_rfc2047(v) != decode_rfc2047(v)) {
      ++differ;
      if (differ <= 5) MESSAGE("differs on: ", v);
    }
    ++checked;
  }
  CHECK(checked == 40000);
  CHECK(differ == 0);
}

TEST_CASE("decode_rfc2047: text lengths around 8, 16 and 64 bytes, the word window, folds") {
  std::vector<std::string> cases;
  for (std::size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 1010, 1011, 1012, 1013, 1014, 1030}) {
    std::string plain;
    for (std::size_t k = 0; k < len; ++k) plain.push_back(static_cast<char>('a' + k % 26));
    for (std::size_t at = 0; at <= std::min<std::size_t>(len, 20); ++at) {
      std::string q = plain, u = plain, e = plain, h = plain, z = plain;
      if (at < len) {
        q[at] = '_';
        u[at] = '=';
        e[at] = '?';
        h[at] = '\xe9';
        z[at] = '\0';
      }
      for (const std::string& t : {plain, q, u, e, h, z}) {
        cases.push_back("=?utf-8?q?" + t + "?=");
        cases.push_back("x =?iso-8859-1?Q?" + t + "=E9?= y");
        cases.push_back("=?utf-8?q?" + t + "?= =?UTF-8?q?" + t + "?=");
        cases.push_back("=?utf-8?b?" + t + "?=");
        // split by a fold at `at`: CRLF, LF, CR
        for (const char* eol : {"\r\n ", "\n ", "\r "})
          cases.push_back("=?utf-8?q?" + t.substr(0, at) + eol + t.substr(at) + "?= =?utf-8?q?z?=");
        cases.push_back("=?utf-8?q?" + t);  // never closed
      }
    }
  }
  std::size_t differ = 0;
  for (const auto& v : cases) {
    if (ref::decode_rfc2047(v) != decode_rfc2047(v)) {
      ++differ;
      if (differ <= 5) MESSAGE("differs on: ", v);
    }
  }
  CHECK(cases.size() > 5000);
  CHECK(differ == 0);
  // And the values themselves decode as the RFC says (not only "as before").
  CHECK(decode_rfc2047("=?utf-8?q?caf=C3=A9?= =?utf-8?b?IOKCrA==?=") == "caf\xc3\xa9 \xe2\x82\xac");
  CHECK(decode_rfc2047("=?utf-8?q?=E2=82?= =?UTF-8?Q?=AC?=") == "\xe2\x82\xac");  // one character, two words
  CHECK(decode_rfc2047("a =?iso-8859-1?q?=E9?=\r\n =?utf-8?q?_b?=") == "a \xc3\xa9 b");
  CHECK(decode_rfc2047("=?utf-8?q?a\r\nb?=") == "=?utf-8?q?a\r\nb?=");  // a line break inside: not a word
}

namespace {

// Every field of `bytes` as the previous finish_field made it, and the NUL defect where the
// previous parser noted it (once, at the first field whose raw bytes hold a NUL). Returns the
// number of fields that differ.
std::size_t compare_fields(const std::string& bytes) {
  HeaderBlock hb;
  std::vector<Defect> defects;
  parse_header_block(bytes, Limits{}, hb, defects);
  std::size_t differ = 0;
  std::string want_nul;
  for (const auto& f : hb.fields) {
    const auto w = test::reference_field(f.raw, f.name.size());
    if (f.value != w.value || f.decoded != w.decoded) ++differ;
    if (want_nul.empty() && f.raw.find('\0') != std::string_view::npos)
      want_nul = "NUL byte in a header field at offset " + std::to_string(f.offset);
  }
  std::string got_nul;
  for (const auto& d : defects)
    if (d.code == "nul_in_header") got_nul = d.detail;
  if (got_nul != want_nul) ++differ;
  return differ;
}

}  // namespace

TEST_CASE("header fields: every field of the shared corpus unfolded and decoded as before" * test::needs_shared()) {
  std::size_t files = 0, differ = 0;
  for (const auto& p : corpus_mail()) {
    const std::size_t d = compare_fields(test::slurp(p));
    if (d != 0 && differ < 5) MESSAGE(p.string(), ": ", d, " fields differ");
    differ += d;
    ++files;
  }
  CHECK(files > 6700);
  CHECK(differ == 0);
}

TEST_CASE("header fields: a '?', NUL, 8-bit byte or encoded-word at every offset around 16 and 64 bytes, folded") {
  std::size_t blocks = 0, differ = 0;
  for (const char* eol : {"\r\n", "\n", "\r"}) {
    for (std::size_t len : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65}) {
      std::string v;
      for (std::size_t k = 0; k < len; ++k) v.push_back(static_cast<char>('a' + k % 26));
      for (const std::string& mark : {std::string("?"), std::string(1, '\0'), std::string("\x80"), std::string("\xff"),
                                     std::string("\xc3\xa9"), std::string("=?utf-8?q?=C3=A9?="), std::string("=?")}) {
        for (std::size_t at = 0; at <= len; ++at) {
          std::string m = v;
          m.insert(at, mark);
          std::string bytes = "Subject: " + m + eol;                            // one line
          bytes += "X-Folded: " + v + eol + "\t" + m + eol + " " + v + eol;    // mark on a fold line
          bytes += "X-First: " + m + eol + " " + v + eol;                      // mark on the first line
          bytes += "X-Split: " + m.substr(0, at) + eol + " " + m.substr(at) + eol;
          bytes += "X-Plain: " + v + eol + " " + v + eol;
          bytes += std::string(eol) + "body";
          differ += compare_fields(bytes);
          ++blocks;
        }
      }
    }
  }
  CHECK(blocks > 1000);
  CHECK(differ == 0);
}

namespace {

// The previous sanitize_utf8's ASCII-run scan was byte by byte; this is its whole algorithm
// with an independent validator for the sequence lengths (RFC 3629 table 3-7).
std::size_t reference_sequence_length(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const std::size_t left = s.size() - i;
  const unsigned char c = p[0];
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && p[k] >= lo && p[k] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

std::string reference_sanitize(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t n = reference_sequence_length(in, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in.data() + i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("sanitize_utf8: a NUL, 8-bit byte or sequence at every offset around 16 and 64 bytes") {
  std::size_t checked = 0, differ = 0;
  const std::vector<std::string> marks = {std::string(1, '\0'), "\x80", "\xff", "\xc3", "\xc3\xa9", "\xe2\x82\xac",
                                          "\xe2\x82", "\xf0\x9f\x8e\x81", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"};
  for (std::size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
    std::string v;
    for (std::size_t k = 0; k < len; ++k) v.push_back(static_cast<char>('a' + k % 26));
    for (const auto& mark : marks) {
      for (std::size_t at = 0; at <= len; ++at) {
        std::string m = v;
        m.insert(at, mark);
        for (const std::string& s : {m, m + v + mark, mark + m}) {
          if (sanitize_utf8(s) != reference_sanitize(s)) ++differ;
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 3000);
  CHECK(differ == 0);
}

TEST_CASE("sanitize_utf8: every raw header field of the shared corpus as the byte-by-byte reference" * test::needs_shared()) {
  std::size_t fields = 0, eight_bit = 0, differ = 0;
  for_each_corpus_field([&](const fs::path&, const HeaderField& f) {
    const std::string want = reference_sanitize(f.raw);
    if (want != f.raw) ++eight_bit;
    if (sanitize_utf8(f.raw) != want) ++differ;
    ++fields;
  });
  CHECK(fields > 190000);
  CHECK(eight_bit > 100);
  CHECK(differ == 0);
}
