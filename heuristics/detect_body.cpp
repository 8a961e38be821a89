// detect_body.cpp: the campaign's programmatically generated body: one to three hyperlinked
// images as the visible content, randomized filler hidden from the reader, random per-message
// URL tokens, sweepstakes vocabulary. Each is common in ordinary marketing mail on its own, so
// the body family is capped well below the campaign threshold.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

// Byte classes, one table lookup instead of the <cctype> calls the profile showed (issue 17).
// The program never sets a locale, so <cctype> answered for the "C" locale: ASCII only.
enum : unsigned char { kDigit = 1, kLower = 2, kUpper = 4, kWord = 8 };
constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (c >= '0' && c <= '9') t[c] = kDigit;
    if (c >= 'a' && c <= 'z') t[c] = kLower;
    if (c >= 'A' && c <= 'Z') t[c] = kUpper;
    // Word characters of the lure search: letters/digits and every byte of a UTF-8 sequence
    // (so "glückwunsch" is one word), apostrophes inside words ("you've").
    if (t[c] || c >= 0x80 || c == '\'') t[c] |= kWord;
  }
  return t;
}
constexpr std::array<unsigned char, 256> kClass = make_classes();
inline unsigned char byte_class(char c) { return kClass[static_cast<unsigned char>(c)]; }
inline bool alnum(char c) { return byte_class(c) & (kDigit | kLower | kUpper); }

std::size_t non_space_chars(std::string_view s) {
  std::size_t n = 0, i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time (issue 17): the blanks counted by a compare mask, the rest by the tail.
  const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n'),
                cr = _mm_set1_epi8('\r');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i blank = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
    n += 16 - static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(blank))));
  }
#endif
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') ++n;
  }
  return n;
}

// A URL path token counts as per-message random from this length on. Measured on real mail
// (2026-12, ../shared/corpus): the longest such token in the real relay spam of dev_relays is
// 48-63 characters in 71 of its 72 HTML messages; legitimate newsletters' tracking ids in
// hard_ham are 28-35 (90 of 147) and reach 40+ in 1. 40 separates the two; it does not
// follow the generator (which writes 30-70).
constexpr std::size_t kMinPathToken = 40;

// A token that looks machine-generated: long, mixes digits and letters (or upper and lower).
bool random_token(std::string_view t, std::size_t min_len) {
  if (t.size() < min_len) return false;
  int digits = 0, lowers = 0, uppers = 0, others = 0;
  for (char c : t) {
    unsigned char k = byte_class(c);
    if (k & kDigit) ++digits;
    else if (k & kLower) ++lowers;
    else if (k & kUpper) ++uppers;
    else ++others;
  }
  if (others > 0) return false;
  int classes = (digits > 0) + (lowers > 0) + (uppers > 0);
  if (classes < 2) return false;
  // digits sprinkled among letters (not a trailing version number)
  return digits >= 2 && (lowers + uppers) >= 2;
}

struct UrlParts {
  std::string host;
  std::string path;
  bool userinfo = false;
};

UrlParts split_url(std::string_view url) {
  UrlParts u;
  std::size_t p = url.find("://");
  if (p == std::string_view::npos) return u;
  std::string_view rest = url.substr(p + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    u.userinfo = true;
    authority = authority.substr(at + 1);
  }
  std::size_t colon = authority.find(':');
  u.host = mime::text::lower(authority.substr(0, colon));
  u.path = end == std::string_view::npos ? std::string() : std::string(rest.substr(end));
  return u;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// The URL a gateway's rewritten link carries; "" when none can be recovered. Formats:
// Safe Links and most gateways put it in a query parameter (percent-encoded); Proofpoint URL
// Defense v2 in u= with '-' for '%' and '_' for '/'; v3 between "__" markers
// (https://urldefense.com/v3/__<url>__;...).
std::string unwrap_link(std::string_view href, const LinkRewriter& rw) {
  href = href.substr(0, 8192);
  if (rw.mode == "opaque") return {};
  if (rw.mode == "proofpoint-v3") {
    std::size_t a = href.find("/__");
    if (a == std::string_view::npos) return {};
    std::size_t b = href.find("__", a + 3);
    return std::string(href.substr(a + 3, b == std::string_view::npos ? std::string_view::npos : b - a - 3));
  }
  std::string param = rw.mode == "proofpoint-v2" ? "u" : rw.param;
  std::size_t q = href.find('?');
  while (q != std::string_view::npos) {
    std::size_t k = q + 1;
    if (href.substr(k, param.size() + 1) == param + "=") {
      std::size_t e = href.find('&', k);
      std::string v(href.substr(k + param.size() + 1, e == std::string_view::npos ? std::string_view::npos
                                                                                   : e - k - param.size() - 1));
      if (rw.mode == "proofpoint-v2")
        for (char& c : v) c = c == '-' ? '%' : c == '_' ? '/' : c;
      return percent_decode(v);
    }
    q = href.find('&', k);
  }
  return {};
}

bool word_byte(char c) { return byte_class(c) & kWord; }

// Word bytes of 64 bytes of a text from `b` as bits (issue 17: the byte-at-a-time loop of
// find_lure_words, two data-dependent branches per word, was the largest native cost on real
// mail): bit k is word_byte(p[b + k]); bytes at or past n are 0 bits.
std::uint64_t word_bits(const char* p, std::size_t n, std::size_t b) {
  const std::size_t len = std::min<std::size_t>(64, n - b);
  const char* q = p + b;
  alignas(16) char tail[64];
  if (len < 64) {  // the last block: copied, zero bytes (not word bytes) after the text
    std::memset(tail, 0, sizeof tail);
    std::memcpy(tail, q, len);
    q = tail;
  }
#if defined(__SSE2__)
  // [0-9A-Za-z'] or >= 0x80 (kWord of the class table); bytes >= 0x80 are negative as
  // signed, so the range tests below are false for them and the sign bit marks them.
  const __m128i d_lo = _mm_set1_epi8('0' - 1), d_hi = _mm_set1_epi8('9' + 1);
  const __m128i a_lo = _mm_set1_epi8('a' - 1), a_hi = _mm_set1_epi8('z' + 1);
  const __m128i case_bit = _mm_set1_epi8(0x20), apos = _mm_set1_epi8('\'');
  std::uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * k));
    const __m128i lower = _mm_or_si128(v, case_bit);
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, d_lo), _mm_cmpgt_epi8(d_hi, v));
    const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, a_lo), _mm_cmpgt_epi8(a_hi, lower));
    const __m128i word = _mm_or_si128(_mm_or_si128(digit, alpha), _mm_cmpeq_epi8(v, apos));
    const auto mask = static_cast<std::uint32_t>(_mm_movemask_epi8(word)) |
                      static_cast<std::uint32_t>(_mm_movemask_epi8(v));
    bits |= static_cast<std::uint64_t>(mask & 0xFFFFu) << (16 * k);
  }
  return bits;
#else
  std::uint64_t bits = 0;
  for (std::size_t k = 0; k < 64; ++k)
    if (byte_class(q[k]) & kWord) bits |= std::uint64_t{1} << k;
  return bits;
#endif
}

}  // namespace

// Adds to `found` (once each) the index in pack.lure_first_words() of every lure term's first
// word that occurs as a word of `s` (a run of word bytes, compared lower-cased): a term is
// tried only when its first word occurs. `at` gets every occurrence: the word's index and
// `s` from the word on, where a phrase starting with that word is then compared.
void find_lure_words(std::string_view s, const IndicatorPack& pack, std::vector<int>& found,
                     std::vector<std::pair<int, std::string_view>>& at) {
  const std::size_t max = pack.lure_first_word_max();
  const char* p = s.data();
  const std::size_t n = s.size();
  // One word [b, e): passed over on its first byte and length (most words), else hashed and
  // looked up.
  auto word = [&](std::size_t b, std::size_t e) {
    if (e - b > max || !pack.maybe_lure_first_word(mime::text::to_lower(p[b]), e - b)) return;
    std::uint64_t h = IndicatorPack::kLureHashSeed;
    for (std::size_t k = b; k < e; ++k) h = IndicatorPack::lure_hash_step(h, p[k]);
    const int w = pack.lure_first_word(h, std::string_view(p + b, e - b));
    if (w < 0) return;
    at.emplace_back(w, s.substr(b));
    if (std::find(found.begin(), found.end(), w) == found.end()) found.push_back(w);
  };
  // Words found from two masks per 64-byte block (issue 17, step B2): the word starts (a word
  // byte after a non-word byte) and the word ends (a non-word byte after a word byte), the
  // previous block's last bit carried in. Starts and ends alternate, so the k-th start pairs
  // with the next end; a word running past its block keeps its start in `open`.
  constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t open = kNone;
  std::uint64_t carry = 0;  // 1 when the byte before the block is a word byte
  for (std::size_t base = 0; base < n; base += 64) {
    const std::uint64_t bits = word_bits(p, n, base);
    const std::uint64_t prev = (bits << 1) | carry;
    std::uint64_t starts = bits & ~prev, ends = ~bits & prev;
    carry = bits >> 63;
    for (;;) {
      if (open == kNone) {
        if (!starts) break;
        open = base + static_cast<std::size_t>(__builtin_ctzll(starts));
        starts &= starts - 1;
      }
      if (!ends) break;  // the word goes on in the next block
      const std::size_t e = base + static_cast<std::size_t>(__builtin_ctzll(ends));
      ends &= ends - 1;
      word(open, e);
      open = kNone;
    }
  }
  if (open != kNone) word(open, n);  // a word up to the text's end, a multiple of 64 bytes long
}

namespace {

// Whether the phrase `term` (lower-case, its first word the lure first word `w`) occurs as
// whole words, ASCII case ignored: only where find_lure_words saw its first word, since a
// match starts at a word start and its first word ends at the term's first space. The same
// matches as searching the lower-cased "subject\nbody" for the term between non-word bytes
// (the search this replaces, issue 17), without that copy: a match never spans the subject's
// end, whose '\n' is in no term.
bool phrase_at(const std::vector<std::pair<int, std::string_view>>& at, int w, std::string_view term) {
  for (const auto& [idx, rest] : at) {
    if (idx != w || rest.size() < term.size()) continue;
    std::size_t k = 0;
    while (k < term.size() && mime::text::to_lower(rest[k]) == term[k]) ++k;
    if (k == term.size() && (rest.size() == term.size() || !word_byte(rest[term.size()]))) return true;
  }
  return false;
}

}  // namespace

void detect_body(const DetectorInput& in, Findings& out) {
  const auto& msg = in.msg;
  const auto& h = msg.html;
  // 1. Linked images as the visible content.
  if (h.present) {
    std::size_t linked = 0;
    for (const auto& img : h.images) {
      if (img.hidden || img.link < 0) continue;
      if ((img.width >= 0 && img.width <= 2) || (img.height >= 0 && img.height <= 2)) continue;  // pixels
      ++linked;
    }
    std::size_t text = non_space_chars(h.visible_text);
    if (linked >= 1 && linked <= 3 && text < 600) {
      // Two or three is the campaign's shape; one is common in real lures too (campaign.md:
      // "weigh it, don't require it"), so it is its own, separately fitted signal.
      out.fire(linked >= 2 ? "body.linked_images" : "body.linked_image_single", "body:html",
               std::to_string(linked) + " linked image(s), " + std::to_string(text) + " visible characters");
      out.pass(linked >= 2 ? "body.linked_image_single" : "body.linked_images",
               std::to_string(linked) + " linked image(s)");
    } else {
      const std::string why = std::to_string(linked) + " linked image(s) and " + std::to_string(text) +
                              " visible characters: not an image-only lure";
      out.pass("body.linked_images", why);
      out.pass("body.linked_image_single", why);
    }
    // 2. Hidden randomized filler.
    std::size_t hidden = non_space_chars(h.hidden_text);
    // Words: runs of ASCII letters and digits; at most 5001 are looked at.
    std::size_t random_words = 0, words = 0;
    {
      std::string_view ht = h.hidden_text;
      std::size_t i = 0;
      while (i < ht.size() && words <= 5000) {
        while (i < ht.size() && !alnum(ht[i])) ++i;
        std::size_t b = i;
        while (i < ht.size() && alnum(ht[i])) ++i;
        if (i == b) break;
        ++words;
        if (random_token(ht.substr(b, i - b), 8)) ++random_words;
      }
    }
    if (hidden >= 400 || (hidden >= 80 && (random_words >= 3 || h.hidden_elements >= 2))) {
      out.fire("body.hidden_filler", "body:html",
               std::to_string(hidden) + " hidden characters in " + std::to_string(h.hidden_elements) +
                   " element(s), " + std::to_string(random_words) + " random-looking tokens: " +
                   excerpt_of(h.hidden_text, 80));
    } else {
      out.pass("body.hidden_filler", std::to_string(hidden) + " hidden characters (a preheader at most)");
    }
    // 3. Random per-message URL tokens.
    std::size_t random_hosts = 0, userinfo = 0, random_paths = 0;
    std::string example;
    std::size_t unwrapped = 0, skipped = 0;
    for (const auto& l : h.links) {
      UrlParts u = split_url(l.href);
      if (u.host.empty()) continue;
      // A gateway's rewritten link: judge the URL it carries, not the gateway's own tokens.
      if (const LinkRewriter* rw = in.pack.link_rewriter(u.host)) {
        std::string inner = unwrap_link(l.href, *rw);
        if (inner.empty()) {
          ++skipped;
          continue;
        }
        ++unwrapped;
        u = split_url(inner);
        if (u.host.empty()) continue;
      }
      bool hit = false;
      if (u.userinfo) {
        ++userinfo;
        hit = true;
      }
      std::string first_label = u.host.substr(0, u.host.find('.'));
      if (random_token(first_label, 8)) {
        ++random_hosts;
        hit = true;
      }
      std::size_t seg_start = 0;
      while (seg_start < u.path.size()) {
        std::size_t e = u.path.find_first_of("/?&=#.-_", seg_start);
        if (e == std::string::npos) e = u.path.size();
        if (random_token(std::string_view(u.path).substr(seg_start, e - seg_start), kMinPathToken)) {
          ++random_paths;
          hit = true;
          break;
        }
        seg_start = e + 1;
      }
      if (hit && example.empty()) example = l.href;
    }
    if (userinfo > 0 || random_hosts > 0 || random_paths >= 2) {
      out.fire("body.random_url_tokens", "body:html",
               std::to_string(random_hosts) + " random host(s), " + std::to_string(random_paths) +
                   " random path token(s), " + std::to_string(userinfo) + " user@host link(s); e.g. " + example);
    } else {
      out.pass("body.random_url_tokens", "links carry no random per-message tokens" +
                                             (unwrapped + skipped ? " (" + std::to_string(unwrapped) + " rewritten by a "
                                              "gateway judged by the URL inside, " + std::to_string(skipped) +
                                              " opaque ones skipped)" : std::string()));
    }
  } else {
    out.pass("body.linked_images", "no HTML part");
    out.pass("body.linked_image_single", "no HTML part");
    out.pass("body.hidden_filler", "no HTML part");
    out.pass("body.random_url_tokens", "no HTML part");
  }
  // 4. Lure vocabulary in subject and visible text.
  // The text searched: "<Subject>\n" and the first 20,000 bytes of the visible text (or of
  // the first text part); lower-cased in one copy only when a phrase must be searched.
  std::string_view subject, body;
  bool has_subject = false;
  if (auto* s = msg.headers.first("Subject")) subject = s->decoded, has_subject = true;
  if (h.present) body = std::string_view(h.visible_text).substr(0, 20000);
  else if (auto* p = msg.first_text()) body = std::string_view(p->text).substr(0, 20000);
  const std::size_t text_size = (has_subject ? subject.size() + 1 : 0) + body.size();
  std::vector<int> found;
  std::vector<std::pair<int, std::string_view>> at;
  find_lure_words(subject, in.pack, found, at);
  find_lure_words(body, in.pack, found, at);
  std::vector<std::string> hits;
  for (const auto& t : in.pack.lure_terms) {
    if (found.empty()) break;
    std::size_t sp = t.term.find(' ');
    std::string_view first = std::string_view(t.term).substr(0, sp);
    const auto& fw = in.pack.lure_first_words();
    const auto w = std::find_if(found.begin(), found.end(),
                                [&](int x) { return fw[static_cast<std::size_t>(x)] == first; });
    if (w == found.end()) continue;
    if (sp == std::string::npos || phrase_at(at, *w, t.term)) hits.push_back(t.term);
    if (hits.size() >= 12) break;
  }
  if (hits.size() >= 3 || (hits.size() >= 2 && text_size < 1500)) {
    std::string ex;
    for (const auto& t : hits) ex += (ex.empty() ? "" : ", ") + t;
    // Three or more terms anywhere, or two in a short text (a lure is short): separate signals,
    // each with its own fitted weight.
    const bool strong = hits.size() >= 3;
    out.fire(strong ? "body.lure_vocabulary" : "body.lure_vocabulary_short", "subject+body",
             std::to_string(hits.size()) + " lure terms: " + ex);
    out.pass(strong ? "body.lure_vocabulary_short" : "body.lure_vocabulary", std::to_string(hits.size()) + " lure terms");
  } else {
    out.pass("body.lure_vocabulary", std::to_string(hits.size()) + " lure term(s)");
    out.pass("body.lure_vocabulary_short", std::to_string(hits.size()) + " lure term(s)");
  }
}

}  // namespace hdrscan::heuristics
