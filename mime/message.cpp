// message.cpp: hdrscan's own header-block parser and parse_message.
//
// Why our own parser: mimetic ends the header block at the first garbage line, 8-bit byte or
// NUL in a name, loses the raw bytes (needed for evidence and DKIM/ARC "simple"
// canonicalisation) and is quadratic on long lines (stack-notes.md). This parser is linear,
// memchr-driven, keeps every field's exact bytes, and turns oddities into Defects:
//   - line endings CRLF, LF and bare CR are all accepted (bare CR noted);
//   - a leading mbox "From " separator line is skipped (noted);
//   - a line without a colon inside the block is kept out of the fields and noted; if the
//     line after it does not look like a header either, the body is taken to start there;
//   - NUL and 8-bit bytes in names or values are kept in `raw`/`value` and noted; `decoded`
//     is always valid UTF-8.
// Limits: Limits::max_header_count fields (the rest are dropped: error), max_header_line
// bytes per field (truncated: error), max_header_block bytes for the whole block (error).
#include "mime/message.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mime/decode.hpp"
#include "mime/mime_tree.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime {
namespace {

using text::iequals;

using detail::Line;

// One pass for the first CR or LF (issue 17: it was a memchr for LF, then a second memchr for
// CR over the same line; two library calls per header line), 16 bytes at a time with SSE2,
// a byte loop for the tail and without SSE2. The same pass notes whether the line holds a
// byte >= 0x80, a NUL or a '?' (`marked`): a header value without any needs no RFC 2047
// decoding, UTF-8 repair or NUL check (issue 17: finish_field scanned every value again for
// those).
Line scan_line(std::string_view s, std::size_t pos, bool& marked) {
  Line l;
  l.begin = pos;
  const char* base = s.data();
  const std::size_t n = s.size();
  std::size_t i = pos;
  unsigned marks = 0;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  const __m128i question = _mm_set1_epi8('?'), zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, cr), _mm_cmpeq_epi8(x, lf)));
    // the high bit of each byte: set for bytes >= 0x80, and by the compares for NUL and '?'
    const unsigned odd = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(x, _mm_or_si128(_mm_cmpeq_epi8(x, zero), _mm_cmpeq_epi8(x, question)))));
    if (mask != 0) {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(static_cast<unsigned>(mask)));
      marks |= odd & ((1u << at) - 1);  // only the bytes before the line break
      i += at;
      break;
    }
    marks |= odd;
  }
#endif
  for (; i < n && base[i] != '\r' && base[i] != '\n'; ++i) {
    const unsigned char c = static_cast<unsigned char>(base[i]);
    if (c >= 0x80 || c == 0 || c == '?') marks = 1;
  }
  marked = marks != 0;
  l.end = i;
  if (i >= n) {
    l.next = n;
  } else if (base[i] == '\n') {
    l.next = i + 1;
  } else if (i + 1 == n) {  // a CR that ends the input: a line end, not a bare CR
    l.next = n;
  } else if (base[i + 1] == '\n') {  // CRLF
    l.next = i + 2;
  } else {  // a bare CR terminates the line early
    l.next = i + 1;
    l.bare_cr = true;
  }
  return l;
}

}  // namespace

namespace detail {

Line next_line(std::string_view s, std::size_t pos) {
  bool marked = false;
  return scan_line(s, pos, marked);
}

}  // namespace detail

namespace {

using detail::next_line;

// A header name: printable ASCII except ':' (RFC 5322 ftext); obsolete trailing blanks
// before the colon are tolerated. Returns the name length or npos, and flags bad bytes.
std::size_t header_name_length(std::string_view line, bool& odd_bytes) {
  odd_bytes = false;
  // A MIME delimiter ("--boundary:x") is never a field, even when it has a colon: this is
  // how a message without the blank line after its headers still finds its body.
  if (line.size() >= 2 && line[0] == '-' && line[1] == '-') return std::string_view::npos;
  std::size_t limit = std::min<std::size_t>(line.size(), 1000);
  for (std::size_t i = 0; i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == ':') {
      std::size_t len = i;
      while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) --len;
      return len == 0 ? std::string_view::npos : len;
    }
    if (c == ' ' || c == '\t') {
      // Only blanks may follow until the colon.
      std::size_t j = i;
      while (j < limit && (line[j] == ' ' || line[j] == '\t')) ++j;
      if (j < limit && line[j] == ':') {
        i = j - 1;
        continue;
      }
      return std::string_view::npos;
    }
    if (c < 33 || c > 126) odd_bytes = true;
  }
  return std::string_view::npos;
}

bool looks_like_header(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return false;
  Line l = next_line(s, pos);
  std::string_view line = s.substr(l.begin, l.end - l.begin);
  if (line.empty()) return true;  // the separator: also fine
  if (line[0] == ' ' || line[0] == '\t') return true;
  bool odd = false;
  return header_name_length(line, odd) != std::string_view::npos;
}

// Eight bytes at a time (issue 17: the byte loops here were 5% of the instructions on real
// mail): whether a word holds a zero byte, exactly.
constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
inline bool has_zero_byte(std::uint64_t x) { return ((x - kOnes) & ~x & kHigh) != 0; }
inline std::uint64_t load8(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

bool is_plain_ascii(std::string_view v) {
  std::size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    const std::uint64_t x = load8(v.data() + i);
    if ((x & kHigh) || has_zero_byte(x)) return false;
  }
  for (; i < v.size(); ++i)
    if (static_cast<unsigned char>(v[i]) >= 0x80 || v[i] == 0) return false;
  return true;
}

// One physical line of a folded field: [begin, end) as offsets in its raw bytes.
struct Span {
  std::size_t begin, end;
};

// `lines`: the physical lines of a folded field (empty when it was not folded); `marked`:
// some byte of it is >= 0x80, a NUL or a '?' (scan_line's note), else nothing is decoded.
void finish_field(HeaderField& f, std::string_view name_and_value_raw, std::size_t name_len,
                  const std::vector<Span>& lines, bool marked, HeaderBlock& block) {
  // The raw field may have been cut at max_header_line inside an over-long name.
  std::string_view rest = name_and_value_raw.substr(std::min(name_len, name_and_value_raw.size()));
  // skip blanks and the colon
  std::size_t colon = rest.find(':');
  rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  // Trim blanks and line breaks at both ends, then unfold: drop the line breaks inside, keep
  // the WSP (the same as unfolding first and trimming SP/HTAB after, in one copy).
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && blank(rest.back())) rest.remove_suffix(1);
  // The value's bytes as offsets in the raw field. Only the line breaks between the physical
  // lines are CR or LF bytes (next_line ends a line at the first), so the value is folded when
  // one of those gaps lies inside it, and unfolding copies the lines' parts inside it (issue
  // 17: no second scan of the value for its line breaks).
  const std::size_t vb = static_cast<std::size_t>(rest.data() - name_and_value_raw.data());
  const std::size_t ve = vb + rest.size();
  bool folded = false;
  for (std::size_t k = 0; !rest.empty() && k + 1 < lines.size() && !folded; ++k)
    folded = lines[k].end < ve && lines[k + 1].begin > vb;
  if (!folded) {
    f.value = rest;  // not folded: the message's own bytes
  } else {
    if (!block.text) block.text = std::make_shared<TextStore>();
    char* const out = block.text->begin_write(rest.size());
    std::size_t n = 0;
    for (const Span& line : lines) {
      const std::size_t lo = std::max(line.begin, vb), hi = std::min(line.end, ve);
      if (lo >= hi) continue;
      std::memcpy(out + n, name_and_value_raw.data() + lo, hi - lo);
      n += hi - lo;
    }
    f.value = block.text->commit(n);
  }
  if (!marked || (f.value.find("=?") == std::string_view::npos && is_plain_ascii(f.value))) {
    f.decoded = f.value;
  } else {
    if (!block.text) block.text = std::make_shared<TextStore>();
    f.decoded = block.text->copy(decode_rfc2047(f.value));
  }
}

}  // namespace

char* TextStore::begin_write(std::size_t max) {
  if (max > left_) {
    const std::size_t size = std::max(max, kBlock);
    // new[] leaves the bytes uninitialised; make_unique<char[]> zeroed the whole block (issue
    // 17: a memset of 8 KiB for every block, ~1 per message on Microsoft 365 mail).
    more_.push_back(std::unique_ptr<char[]>(new char[size]));
    cur_ = more_.back().get();
    left_ = size;
  }
  return cur_;
}

std::string_view TextStore::commit(std::size_t used) {
  const std::string_view kept(cur_, used);
  cur_ += used;
  left_ -= used;
  return kept;
}

std::string_view TextStore::copy(std::string_view s) {
  char* out = begin_write(s.size());
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return commit(s.size());
}

const HeaderField* HeaderBlock::first(std::string_view name) const {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

std::vector<const HeaderField*> HeaderBlock::all(std::string_view name) const {
  std::vector<const HeaderField*> out;
  for (const auto& f : fields)
    if (iequals(f.name, name)) out.push_back(&f);
  return out;
}

std::size_t parse_header_block(std::string_view s, const Limits& limits, HeaderBlock& out,
                               std::vector<Defect>& defects, bool* saw_separator) {
  std::size_t pos = 0;
  bool bare_cr_noted = false, odd_name_noted = false, nul_noted = false, junk_noted = false;
  bool count_noted = false, long_noted = false;
  if (saw_separator) *saw_separator = false;
  if (s.substr(0, 5) == "From ") {
    Line l = next_line(s, 0);
    pos = l.next;
    defects.push_back({"mbox_from_line", "leading mbox \"From \" line skipped", false});
  }
  const std::size_t block_limit = limits.max_header_block;
  // The physical lines of the current field when it is folded (per thread, reused: no
  // allocation per field).
  thread_local std::vector<Span> lines;
  while (pos < s.size()) {
    if (pos > block_limit) {
      defects.push_back({"header_block_too_large",
                         "header block exceeds " + std::to_string(block_limit) +
                             " bytes; the rest is not parsed and the body is skipped",
                         true});
      return s.size();
    }
    bool marked = false;
    Line l = scan_line(s, pos, marked);
    if (l.bare_cr && !bare_cr_noted) {
      defects.push_back({"bare_cr", "bare CR used as a line ending in the header block", false});
      bare_cr_noted = true;
    }
    std::string_view line = s.substr(l.begin, l.end - l.begin);
    if (line.empty()) {
      if (saw_separator) *saw_separator = true;
      return l.next;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      // A continuation with no field before it (mimetic would return 0 headers here).
      defects.push_back({"orphan_continuation",
                         "folded line at offset " + std::to_string(l.begin) + " has no field",
                         false});
      pos = l.next;
      continue;
    }
    bool odd = false;
    std::size_t name_len = header_name_length(line, odd);
    if (name_len == std::string_view::npos) {
      bool delimiter = line.size() >= 2 && line[0] == '-' && line[1] == '-';
      if (delimiter || !looks_like_header(s, l.next)) {
        defects.push_back({"missing_header_separator",
                           "no blank line between header and body; body taken to start at "
                           "offset " + std::to_string(l.begin),
                           false});
        return l.begin;
      }
      if (!junk_noted) {
        defects.push_back({"junk_header_line",
                           "line without a colon in the header block at offset " +
                               std::to_string(l.begin),
                           false});
        junk_noted = true;
      }
      pos = l.next;
      continue;
    }
    // Gather continuation lines, noting each physical line for finish_field's unfolding.
    std::size_t field_end = l.end, next = l.next;
    lines.clear();
    while (next < s.size() && (s[next] == ' ' || s[next] == '\t')) {
      bool c_marked = false;
      Line c = scan_line(s, next, c_marked);
      // A whitespace-only line ends nothing (RFC 5322 obs) but a truly empty one would; a
      // line of only blanks is still a fold here.
      if (lines.empty()) lines.push_back({0, l.end - l.begin});
      lines.push_back({c.begin - l.begin, c.end - l.begin});
      marked = marked || c_marked;
      field_end = c.end;
      next = c.next;
      if (field_end - l.begin > limits.max_header_line) break;
      if (next > block_limit) break;
    }
    if (out.fields.size() >= limits.max_header_count) {
      if (!count_noted) {
        defects.push_back({"too_many_headers",
                           "more than " + std::to_string(limits.max_header_count) +
                               " header fields; the rest are ignored",
                           true});
        count_noted = true;
      }
      pos = next;
      continue;
    }
    std::string_view raw = s.substr(l.begin, field_end - l.begin);
    if (raw.size() > limits.max_header_line) {
      if (!long_noted) {
        defects.push_back({"header_line_too_long",
                           "header field " + std::string(line.substr(0, std::min<std::size_t>(name_len, 60))) +
                               " longer than " + std::to_string(limits.max_header_line) +
                               " bytes: truncated",
                           true});
        long_noted = true;
      }
      raw = raw.substr(0, limits.max_header_line);
      // skip any remaining continuation lines of this over-long field
      while (next < s.size() && (s[next] == ' ' || s[next] == '\t')) next = next_line(s, next).next;
    }
    if (odd && !odd_name_noted) {
      defects.push_back({"bad_header_name_bytes",
                         "header name with control or 8-bit bytes at offset " + std::to_string(l.begin),
                         false});
      odd_name_noted = true;
    }
    if (!nul_noted && marked && std::memchr(raw.data(), '\0', raw.size())) {
      defects.push_back({"nul_in_header", "NUL byte in a header field at offset " + std::to_string(l.begin), false});
      nul_noted = true;
    }
    HeaderField f;
    f.name = line.substr(0, name_len);
    f.raw = raw;
    f.offset = l.begin;
    finish_field(f, raw, name_len, lines, marked, out);
    if (out.fields.empty()) out.fields.reserve(32);  // most real blocks: one allocation
    out.fields.push_back(f);
    pos = next;
  }
  return s.size();  // headers only, no body
}

const BodyPart* ParsedMessage::first_html() const {
  for (const auto& p : parts)
    if (p.is_html() && !p.is_attachment()) return &p;
  return nullptr;
}

const BodyPart* ParsedMessage::first_text() const {
  for (const auto& p : parts)
    if (p.is_text() && !p.is_attachment()) return &p;
  return nullptr;
}

bool ParsedMessage::has_errors() const {
  return std::any_of(defects.begin(), defects.end(), [](const Defect& d) { return d.is_error; });
}

ParsedMessage parse_message(std::string_view bytes, const Limits& limits, std::size_t depth) {
  ParsedMessage m;
  m.raw = bytes;
  bool too_large = bytes.size() > limits.max_message_bytes;
  if (too_large) {
    m.defects.push_back({"message_too_large",
                         "message of " + std::to_string(bytes.size()) + " bytes exceeds " +
                             std::to_string(limits.max_message_bytes) +
                             "; headers analysed, body skipped",
                         true});
  }
  m.body_offset = parse_header_block(bytes, limits, m.headers, m.defects, &m.has_body_separator);
  if (m.headers.fields.empty())
    m.defects.push_back({"no_headers", "no header fields found", true});
  if (depth == 0 && !m.headers.fields.empty() && !too_large &&
      m.body().find_first_not_of(" \t\r\n") == std::string_view::npos) {
    // Get-QuarantineMessageHeader output, a pasted header block: analysed on its headers;
    // checks that need a body cannot be evaluated (explain says so). No MIME tree: a
    // multipart Content-Type without its body is not a broken boundary.
    m.defects.push_back({"headers_only",
                         m.has_body_separator ? "a header block with an empty body"
                                              : "a header block without a body",
                         false});
    return m;
  }
  if (too_large || m.body_offset > bytes.size()) return m;
  try {
    build_mime_tree(m, limits, depth);
  } catch (const std::exception& e) {
    m.defects.push_back({"mime_parse_failed", std::string("MIME parsing failed: ") + e.what(), true});
  } catch (...) {
    m.defects.push_back({"mime_parse_failed", "MIME parsing failed", true});
  }
  return m;
}

}  // namespace hdrscan::mime
