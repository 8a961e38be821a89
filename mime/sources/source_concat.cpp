// source_concat.cpp: messages concatenated without mbox separators (`cat *.eml > x`), found
// inside what was read as one message (readers.hpp: concatenated_starts).
//
// A second message is taken to start at a line that begins a complete header block of the
// kind a message starts with, where no header block of the first message can be:
//   - where: in the body of a single-part message, or after the closing delimiter of a
//     multipart message's top-level boundary (its epilogue); never inside a MIME structure
//     (forwarded mail, message/rfc822 parts, DSN/ARF reports hold header blocks legitimately),
//     and never in a message whose top-level type is message/* or text/rfc822-headers;
//   - what: consecutive header-field lines (continuations allowed) ended by an empty line, at
//     least kMinFields fields, the first a transport field (Received, Return-Path,
//     Delivered-To, X-..., ARC-..., DKIM-Signature, Authentication-Results), among them From
//     and Date or Message-ID. A forwarded header quoted in a plain-text body ("From:", "Sent:",
//     "To:", "Subject:") starts with From: and is not taken.
// Each message found is searched the same way, so any number are found. When a rule does not
// hold (no closing delimiter, a header block that is not complete) nothing is found.
// Split or not: a whole message quoted in a body ("--- begin forwarded text", a bounce quoting
// the returned message) looks the same, so the input is split only when the evidence is
// unambiguous: the input itself starts with a transport field, every block found has a
// Received field, and the last text line before each is no lead-in (a line ending ':', a
// dashed or quoted marker, a header line, words like "forwarded", "original message",
// "returned message", "headers"). Otherwise the input stays one message and says how many it
// seems to hold (the defect concatenated_messages).
// Limits: a header block is examined for at most kMaxRunLines lines; the search is linear (a
// failed block is skipped whole, a run of header lines longer than kMaxRunLines too).
// Most inputs have no line after their header block that begins with a transport field's name;
// for them a quick test (transport_line_after_head) answers "one message" without the search.
#include <algorithm>
#include <array>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mime/sources/readers.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime::detail {
namespace {

constexpr std::size_t kMinFields = 4;
constexpr std::size_t kMaxRunLines = 2000;

using text::iequals;
using text::istarts_with;

// The line at `pos` without its end; `next` gets the start of the following line.
std::string_view line_at(std::string_view b, std::size_t pos, std::size_t& next) {
  std::size_t nl = b.find('\n', pos);
  next = nl == std::string_view::npos ? b.size() : nl + 1;
  std::string_view line = b.substr(pos, (nl == std::string_view::npos ? b.size() : nl) - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view field_name(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && i < 80) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c == ':' || c < 33 || c > 126) break;
    ++i;
  }
  if (i == 0 || i >= line.size() || line[i] != ':') return {};
  return line.substr(0, i);
}

bool transport_field(std::string_view name) {
  return iequals(name, "Received") || iequals(name, "Return-Path") || iequals(name, "Delivered-To") ||
         iequals(name, "DKIM-Signature") || iequals(name, "Authentication-Results") ||
         iequals(name, "Envelope-To") || istarts_with(name, "X-") || istarts_with(name, "ARC-");
}

struct Block {
  std::size_t end = 0;  // first byte of the body (after the empty line)
  std::size_t stop = 0; // where an incomplete block stopped (a line that is no header)
  std::string content_type;
  bool complete = false;
  std::size_t fields = 0;
  bool has_from = false, has_date_or_id = false, has_received = false;
};

// The header block starting at `pos`: its fields up to the empty line ending it.
Block header_block(std::string_view b, std::size_t pos) {
  Block blk;
  std::string* current = nullptr;
  for (std::size_t lines = 0; pos < b.size() && lines < kMaxRunLines; ++lines) {
    std::size_t next = 0;
    std::string_view line = line_at(b, pos, next);
    if (line.empty()) {
      blk.end = next;
      blk.complete = blk.fields > 0;
      return blk;
    }
    if ((line[0] == ' ' || line[0] == '\t') && blk.fields > 0) {
      if (current) current->append(line);
      pos = next;
      continue;
    }
    std::string_view name = field_name(line);
    if (name.empty()) {  // not a header line: no block here
      blk.stop = pos;
      return blk;
    }
    ++blk.fields;
    blk.has_from = blk.has_from || iequals(name, "From");
    blk.has_date_or_id = blk.has_date_or_id || iequals(name, "Date") || iequals(name, "Message-ID");
    blk.has_received = blk.has_received || iequals(name, "Received");
    current = nullptr;
    if (iequals(name, "Content-Type")) {
      blk.content_type.assign(line.substr(name.size() + 1));
      current = &blk.content_type;
    }
    pos = next;
  }
  // Cut at kMaxRunLines (or the input's end) inside a run of header lines: the search goes on
  // after the lines read here, not from the next line, or a run of n such lines would cost
  // n * kMaxRunLines line reads (it did: 3.5 CPU-s for 200,000 lines).
  blk.stop = pos;
  return blk;
}

std::string boundary_of(const std::string& content_type) {
  const std::string lower = text::lower(content_type);
  std::size_t at = lower.find("boundary=");
  if (at == std::string::npos) return {};
  at += 9;
  if (at < content_type.size() && content_type[at] == '"') {
    const std::size_t close = content_type.find('"', at + 1);
    if (close == std::string::npos) return {};
    return content_type.substr(at + 1, close - at - 1);
  }
  std::size_t end = at;
  while (end < content_type.size() && content_type[end] != ';' && content_type[end] != ' ' &&
         content_type[end] != '\t')
    ++end;
  return content_type.substr(at, end - at);
}

// Where, after the message starting at `start`, another message may begin (npos: nowhere).
std::size_t search_from(std::string_view b, std::size_t start) {
  const Block head = header_block(b, start);
  if (!head.complete) return std::string_view::npos;
  std::string type = head.content_type;
  const auto first = type.find_first_not_of(" \t");
  type = first == std::string::npos ? "" : type.substr(first);
  if (istarts_with(type, "message/") || istarts_with(type, "text/rfc822-headers"))
    return std::string_view::npos;
  if (!istarts_with(type, "multipart/")) return head.end;
  const std::string boundary = boundary_of(type);
  if (boundary.empty()) return std::string_view::npos;
  // The last closing delimiter of the top-level boundary, at a line start.
  const std::string close = "--" + boundary + "--";
  std::size_t found = std::string_view::npos;
  for (std::size_t at = b.find(close, head.end); at != std::string_view::npos;
       at = b.find(close, at + 1)) {
    if (at == head.end || b[at - 1] == '\n') {
      found = at;
      break;  // the first one at a line start closes the top level
    }
  }
  if (found == std::string_view::npos) return std::string_view::npos;
  std::size_t next = 0;
  line_at(b, found, next);
  return next;
}

// The last line in [from, pos) that is not empty ("" when none: the block follows the end of
// a multipart's closing delimiter, or blank lines only).
std::string_view previous_text_line(std::string_view b, std::size_t from, std::size_t pos) {
  b = b.substr(0, pos);
  std::size_t end = pos;
  while (end > from) {
    std::size_t begin = b.rfind('\n', end >= 2 ? end - 2 : 0);
    begin = (begin == std::string_view::npos || end < 2) ? 0 : begin + 1;
    std::string_view line = b.substr(begin, end - begin);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ' ||
                             line.back() == '\t'))
      line.remove_suffix(1);
    if (begin < from) break;
    if (!line.empty()) return line;
    if (begin == 0) break;
    end = begin;
  }
  return {};
}

// A line that introduces a quoted message rather than ending one: "... below:",
// "--- begin forwarded text", "---- START OF RETURNED MESSAGE ----", "> quoted", a header.
bool lead_in(std::string_view line) {
  if (line.empty()) return false;
  if (line.back() == ':' || line.front() == '-' || line.front() == '>' || line.front() == '=' ||
      line.front() == '*' || !field_name(line).empty())
    return true;
  const std::string lower = text::lower(line.substr(0, 200));
  for (const char* w : {"forward", "original message", "returned message", "headers", "attached"})
    if (lower.find(w) != std::string::npos) return true;
  return false;
}

constexpr std::size_t kNpos = std::string_view::npos;

// The first k >= from with b[k] == '\n' whose next byte, OR-ed with `fold`, is one of `next`
// and for which at(k) returns true; kNpos if none. Only those candidates reach at(): SSE2
// compares sixteen bytes and the sixteen after them at a time (no call per line: a memchr per
// line was most of this test's cost); a byte loop for the tail and without SSE2.
template <std::size_t N, class At>
std::size_t find_newline_before(std::string_view b, std::size_t from, const std::array<char, N>& next,
                                char fold, At at) {
  const char* const s = b.data();
  const std::size_t n = b.size();
  std::size_t i = from;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n'), folded = _mm_set1_epi8(fold);
  __m128i wanted[N];
  for (std::size_t k = 0; k < N; ++k) wanted[k] = _mm_set1_epi8(next[k]);
  for (; i + 17 <= n; i += 16) {
    const __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i after = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 1)), folded);
    __m128i hit = _mm_setzero_si128();
    for (std::size_t k = 0; k < N; ++k) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(after, wanted[k]));
    unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(here, nl))) &
                 static_cast<unsigned>(_mm_movemask_epi8(hit));
    for (; m != 0; m &= m - 1) {
      const std::size_t k = i + static_cast<std::size_t>(__builtin_ctz(m));
      if (at(k)) return k;
    }
  }
#endif
  for (; i + 1 < n; ++i) {
    if (s[i] != '\n') continue;
    const char c = static_cast<char>(s[i + 1] | fold);
    if (std::find(next.begin(), next.end(), c) != next.end() && at(i)) return i;
  }
  return kNpos;
}

// Whether any line after the first empty line (the first "\n\n" or "\n\r\n") begins with a
// transport field's name: where every message found must start (search_from never looks
// before the first header block's end). Most inputs have none, and then nothing else need be
// read: the full search parses the first header block and every line after it (3.6% of perf
// samples of a scan of the Microsoft 365 files, 1.7% with this test first, when it was three
// find() loops). One pass over the input: only the lines that begin with one of the names'
// first letters (any case) are read as a field name.
bool transport_line_after_head(std::string_view b) {
  const std::size_t n = b.size();
  const std::size_t head = find_newline_before(b, 0, std::array<char, 2>{'\n', '\r'}, 0, [&](std::size_t k) {
    return b[k + 1] == '\n' || (k + 2 < n && b[k + 2] == '\n');  // "\n\n" or "\n\r\n"
  });
  if (head == kNpos) return false;  // no empty line: no complete header block
  // A '\n' after the empty line's first '\n' begins a line at k + 1. field_name reads at most
  // 81 bytes and stops at the line's end (a byte < 33): no need to find that end first.
  const std::array<char, 5> initials{'r', 'd', 'a', 'e', 'x'};  // transport_field's names'
  return find_newline_before(b, head + 1, initials, 0x20, [&](std::size_t k) {
           const std::string_view name = field_name(b.substr(k + 1, 81));
           return !name.empty() && transport_field(name);
         }) != kNpos;
}

}  // namespace

Concatenation concatenated_messages(std::string_view b) {
  if (!transport_line_after_head(b)) return Concatenation{{0}, false};
  return concatenated_search(b);
}

Concatenation concatenated_search(std::string_view b) {
  Concatenation c;
  c.starts = {0};
  std::size_t first_next = 0;
  const std::string_view first = field_name(line_at(b, 0, first_next));
  bool clear = !first.empty() && transport_field(first);
  std::size_t pos = search_from(b, 0);
  std::size_t from = pos;  // where the current message's body (or epilogue) starts
  while (pos != std::string_view::npos && pos < b.size()) {
    std::size_t next = 0;
    const std::string_view name = field_name(line_at(b, pos, next));
    if (!name.empty() && transport_field(name)) {
      const Block blk = header_block(b, pos);
      if (blk.complete && blk.fields >= kMinFields && blk.has_from && blk.has_date_or_id) {
        clear = clear && blk.has_received && !lead_in(previous_text_line(b, from, pos));
        c.starts.push_back(pos);
        pos = from = search_from(b, pos);
        continue;
      }
      // A block starting later in the same run has a subset of its fields (it cannot pass
      // where this one failed), so the search goes on after it: linear time.
      if (blk.complete) next = std::max(next, blk.end);
      else if (blk.stop > pos) next = std::max(next, blk.stop);
    }
    pos = next;
  }
  c.unambiguous = c.starts.size() > 1 && clear;
  return c;
}

}  // namespace hdrscan::mime::detail
