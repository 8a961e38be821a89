// The DKIM body hash computed in chunks (heuristics/body_hash.hpp, issue 17) against the
// algorithm it replaced: detect_integrity's canonical_body, which built the whole canonical body
// in a std::string, hashed with EVP_Digest over its first min(l=, size) bytes. The reference is
// a copy of that old code, kept here unchanged. Compared on real bodies from ../shared/corpus
// and on edge cases: empty body, only line ends, bare CR, bare LF, trailing blanks and empty
// lines, lines of 15/16/17/63/64/65 bytes, line ends and blank runs across the chunk boundary,
// l= of 0, inside and beyond the canonical body, NUL and bytes >= 0x80.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "heuristics/body_hash.hpp"
#include "tests/support/test_support.hpp"

using namespace hdrscan;
using heuristics::BodyHashJob;

namespace {

// ---- reference: the old canonical_body of heuristics/detect_integrity.cpp, unchanged ----
void append_relaxed(std::string& out, const char* s, const char* e) {
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) --e;
  if (e <= s) return;
  const std::size_t n = static_cast<std::size_t>(e - s);
  if (!std::memchr(s, ' ', n) && !std::memchr(s, '\t', n)) {
    out.append(s, n);
    return;
  }
  while (s < e) {
    const char* w = s;
    while (w < e && *w != ' ' && *w != '\t') ++w;
    out.append(s, static_cast<std::size_t>(w - s));
    if (w == e) break;
    while (w < e && (*w == ' ' || *w == '\t')) ++w;
    out.push_back(' ');
    s = w;
  }
}

std::string canonical_body(std::string_view body, bool relaxed) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  const char* p = body.data();
  const char* const end = p + body.size();
  bool bare_cr = false;
  for (const char* c = p; (c = static_cast<const char*>(std::memchr(c, '\r', static_cast<std::size_t>(end - c))));) {
    if (c + 1 >= end || c[1] != '\n') {
      bare_cr = true;
      break;
    }
    c += 2;
  }
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    const char* line_end;
    if (!bare_cr) {
      line_end = nl && nl > p && nl[-1] == '\r' ? nl - 1 : stop;
    } else {
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
      line_end = cr ? cr : stop;
    }
    if (relaxed) append_relaxed(out, p, line_end);
    else out.append(p, static_cast<std::size_t>(line_end - p));
    out += "\r\n";
    if (line_end == end) break;
    p = line_end + 1;
    if (*line_end == '\r' && p < end && *p == '\n') ++p;
  }
  while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (out.empty() && !relaxed) out = "\r\n";
  return out;
}
// ---- end of the reference ----

std::string digest(std::string_view data, bool sha1) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), d, &len, sha1 ? EVP_sha1() : EVP_sha256(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(d), len);
}

std::string got(const BodyHashJob& j) { return std::string(reinterpret_cast<const char*>(j.digest), j.digest_len); }

// Every hash of `body` the old way and the new, for limits around the interesting points, each
// alone and all in one pass (the way detect_integrity asks for several signatures at once).
// Returns the number of comparisons made.
// `few`: only no limit and half the canonical body (the real bodies: thousands of them).
int compare(std::string_view body, bool relaxed, bool few = false) {
  const std::string canon = canonical_body(body, relaxed);
  std::vector<std::size_t> limits = {SIZE_MAX, canon.size() / 2};
  if (!few) {
    for (std::size_t l : {std::size_t{0}, std::size_t{1}, std::size_t{2}, canon.size(), canon.size() + 1,
                          heuristics::kBodyHashChunk - 1, heuristics::kBodyHashChunk, heuristics::kBodyHashChunk + 1})
      limits.push_back(l);
    if (canon.size() > 0) limits.push_back(canon.size() - 1);
  }
  int n = 0;
  for (bool sha1 : {false, true}) {
    std::vector<BodyHashJob> all;
    for (std::size_t limit : limits) {
      BodyHashJob j;
      j.sha1 = sha1;
      j.limit = limit;
      all.push_back(j);
      heuristics::hash_body(body, relaxed, &j, 1);
      const std::string want = digest(std::string_view(canon).substr(0, std::min(limit, canon.size())), sha1);
      CHECK_MESSAGE(got(j) == want, "relaxed=" << relaxed << " sha1=" << sha1 << " limit=" << limit
                                               << " body size " << body.size() << " canonical size " << canon.size());
      ++n;
    }
    heuristics::hash_body(body, relaxed, all.data(), all.size());  // more than one pass's worth: in groups
    for (const auto& j : all) {
      CHECK(got(j) == digest(std::string_view(canon).substr(0, std::min(j.limit, canon.size())), sha1));
      ++n;
    }
  }
  return n;
}

int compare_both(std::string_view body, bool few = false) { return compare(body, false, few) + compare(body, true, few); }

// A body of `lines` lines, each `len` bytes of `fill`, ended by `eol`.
std::string lines_of(std::size_t lines, std::size_t len, char fill, std::string_view eol) {
  std::string s;
  for (std::size_t i = 0; i < lines; ++i) s += std::string(len, fill) + std::string(eol);
  return s;
}

}  // namespace

TEST_CASE("body hash: edge cases give the old canonical_body's digests") {
  const std::vector<std::string> cases = {
      "", "\r\n", "\n", "\r", "\r\n\r\n\r\n", "\n\n\n", "\r\r\r", "\n\r\n\r", " ", "\t", " \r\n", " \t \n\n",
      "a", "a\r\n", "a\n", "a\r", "a\r\r\n", "a\n\r", "a\r\n\r\n", "a\n\n\n", "a \r\n", "a\t\n", "a  b\t\tc \t \r\n",
      " a", "\ta", "  a  ", "a \r\n \r\n\t\r\n", "a\r\n\r\nb", "a\n\r\nb\r\n\n", std::string("a\0b\r\n", 5),
      std::string("\0\0\n\0 \0\n", 8), "\x80\xff \xfe\t\x81\r\n\xc3\xa9 \n", "x\r\ny\rz\n", "a\r \r\n",
      std::string(100, ' ') + "\r\n", "a" + std::string(100, '\t') + "b\n", "trailing blank line\r\n \r\n",
  };
  int n = 0;
  for (const auto& c : cases) n += compare_both(c);
  // Lines of 15/16/17/63/64/65 bytes, with and without blanks, each line end.
  for (std::size_t len : {15, 16, 17, 63, 64, 65})
    for (std::string_view eol : {"\r\n", "\n", "\r"})
      for (char fill : {'x', ' ', '\t'}) {
        n += compare_both(lines_of(3, len, fill, eol));
        n += compare_both(lines_of(3, len, fill, eol) + "end");
        std::string mixed = lines_of(2, len, fill, eol);
        for (std::size_t i = 0; i < mixed.size(); i += 3)
          if (mixed[i] != '\r' && mixed[i] != '\n') mixed[i] = 'w';
        n += compare_both(mixed);
      }
  CHECK(n > 1000);
}

TEST_CASE("body hash: line ends, blank runs and empty lines across the chunk boundary") {
  const std::size_t C = heuristics::kBodyHashChunk;
  int n = 0;
  for (std::size_t at = C - 3; at <= C + 3; ++at) {
    // One long line whose end falls on, before and after the boundary.
    for (std::string_view eol : {"\r\n", "\n", "\r", ""}) {
      n += compare_both(std::string(at, 'a') + std::string(eol) + "b\r\n");
      n += compare_both(std::string(at, 'a') + std::string(eol));
      // A run of blanks across the boundary (relaxed: one SP), and trailing blanks there.
      std::string s(at, 'a');
      s.replace(at - 4, 4, " \t \t");
      n += compare_both(s + "  \t" + std::string(eol) + "z");
      // Empty lines held back over the boundary, then content or nothing.
      n += compare_both(std::string(at - 2, 'a') + "\r\n\r\n\r\n\r\n" + "tail\r\n");
      n += compare_both(std::string(at - 2, 'a') + "\n\n\n\n");
    }
    // Lines longer than the chunk, several of them.
    n += compare_both(lines_of(3, at, 'q', "\r\n"));
    n += compare_both(lines_of(3, at, ' ', "\n") + "x");
  }
  // Thousands of empty lines between content (held back as a count, then written).
  n += compare_both("a\r\n" + lines_of(20000, 0, 'x', "\r\n") + "b\r\n");
  n += compare_both(lines_of(20000, 0, 'x', "\n"));
  CHECK(n > 1000);
}

TEST_CASE("body hash: one bare CR among CRLF lines, at every offset") {
  // hash_body decides once per body whether it has a bare CR (a faster line split when not):
  // a CR whose LF was taken away at any offset, one ending the body, and a CRLF just before
  // the end must each be read as the old canonical_body read them.
  int n = 0;
  const std::string crlf = lines_of(12, 5, 'x', "\r\n");  // CRs at 5, 12, 19, ...: every offset mod 16
  for (std::size_t k = 0; k < crlf.size(); ++k) {
    if (crlf[k] != '\r') continue;
    std::string bare = crlf;
    bare.erase(k + 1, 1);  // this CR's LF taken away: the one bare CR of the body
    n += compare_both(bare);
    n += compare_both(crlf.substr(0, k + 1));        // a CR ending the body
    n += compare_both(crlf.substr(0, k + 2) + "t");  // a CRLF just before the end
  }
  for (std::size_t pad = 0; pad < 20; ++pad) {  // the only CRLF's CR on every offset
    n += compare_both(std::string(pad, 'p') + "\r\n" + std::string(40, 'q') + "\r\n");
    n += compare_both(std::string(pad, 'p') + "\rX" + std::string(40, 'q') + "\r\n");
  }
  CHECK(n > 1000);
}

TEST_CASE("body hash: random bodies of line ends, blanks, NUL and high bytes") {
  std::mt19937 rng(17);
  const char alphabet[] = {'a', 'b', ' ', ' ', '\t', '\r', '\n', '\n', '\0', '\x80', '\xff', 'z'};
  int n = 0;
  for (int round = 0; round < 300; ++round) {
    std::size_t size = round < 200 ? rng() % 200 : heuristics::kBodyHashChunk - 300 + rng() % 600;
    std::string s(size, 'a');
    for (auto& c : s) c = alphabet[rng() % sizeof alphabet];
    n += compare_both(s);
  }
  CHECK(n > 10000);
}

TEST_CASE("body hash: real bodies from ../shared/corpus" * test::needs_shared()) {
  int files = 0, n = 0;
  for (const char* dir : {"dev_m365_legit", "dev_relays", "outlook", "malformed"}) {
    for (const auto& path : test::shared_files(dir)) {
      const std::string raw = test::slurp(path);
      // The body after the header block (either line end), and the whole file as one body too.
      std::size_t cut = raw.find("\r\n\r\n");
      std::size_t lf = raw.find("\n\n");
      std::size_t at = std::min(cut == std::string::npos ? raw.size() : cut + 4, lf == std::string::npos ? raw.size() : lf + 2);
      n += compare_both(std::string_view(raw).substr(at), true);
      if (files % 10 == 0) n += compare_both(raw, true);
      ++files;
    }
  }
  CHECK(files > 1500);
  CHECK(n > files * 16);
}
