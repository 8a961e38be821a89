// source_mbox.cpp: splits an mbox (mboxo, mboxrd, mboxcl, mboxcl2; LF or CRLF) into messages,
// and reads single-message inputs, over a ByteWindow (file, pipe, zip member or memory).
//
// Framing, in this order for each message:
// 1. A leading "From " separator line is dropped (also a UTF-8 BOM at the very start).
// 2. Content-Length (mboxcl/mboxcl2): when the message's own header block has one, it is
//    trusted only if the byte right after the stated body length ends the input or starts a
//    "From " line (after at most one empty line). The body is then taken verbatim (mboxcl2
//    does not quote). A Content-Length that does not check out is ignored and recorded in
//    RawMessage::note ("content_length_ignored: ..."); splitting falls back to step 3.
// 3. "From " lines. A plain "From " line inside a body is common (mboxo never quoted it), so
//    a line starting "From " separates messages only when it looks like a separator:
//      - its rest carries an asctime-like date (a month name and hh:mm), and either the line
//        before it is empty or the next line is a header field ("Name:");
//      - or the line before it is empty, its sender field is empty, "-" or address-like
//        (Gmail "From 123@xxx", odd date formats after an address) and the next line is a
//        header field;
//      - or its rest is just "-" or nothing (Thunderbird "From - ", written without an empty
//        line before it) and the next line is a header field.
//    So "From time to time" or "From Russia with love\nYear: 1963" stay in the body, and a
//    real separator is found even when the writer left no empty line before it. This is
//    stricter than the classic "any From line after an empty line" on purpose: a false split
//    invents a header-less message and cuts a real one. Known miss: a body line such as
//    "From Mar 3 10:00 on ..." right after an empty line is taken as a separator.
// Unquoting (step 3 only): a line matching ">+From " loses one ">" (the mboxrd rule). It is
//    the exact inverse for mboxrd; for mboxo it differs only on body lines that already began
//    ">From " before quoting, which mboxo cannot represent anyway.
// The empty line that ends each message in an mbox is part of the framing and is dropped.
// Limits: a message over max_message_bytes is yielded truncated (truncated, "too_large") and
//    its rest is skipped while the window is released behind, so memory stays bounded by
//    max_message_bytes + a chunk whatever the input. Separator lines are examined up to
//    kLineProbe bytes, a next line up to kHeaderProbe bytes.
// Diagnostics: read errors end the input; the message cut by one carries the window's code
//    (io_error, corrupt, truncated...); an archive cap cuts a message with "too_large" /
//    "archive_limit"; an empty input is "empty_input". Never throws. A single-message input
//    is checked for mail-likeness (not_mail_reason); messages framed by an mbox are not.
// Speed: "\nFrom " and "\n>" are found 16 bytes at a time (SSE2, scalar elsewhere), header
//    lines with memchr; bytes are appended in runs, never one by one.
#include <algorithm>
#include <cstring>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mime/sources/readers.hpp"

namespace hdrscan::mime::detail {
namespace {

constexpr std::uint64_t kNone = ~std::uint64_t{0};
constexpr std::size_t kLineProbe = 1024;     // longest separator line examined
constexpr std::size_t kHeaderProbe = 256;    // bytes of the next line examined
constexpr std::size_t kSearchChunk = 1u << 20;

// Offset of the first '\n' in [p, p+n) that is followed by `next` (within the range), or n.
// Line starts are what the splitter looks at; comparing two shifted 16-byte loads finds them
// several times faster than memmem (glibc's two-way search dominated the profile).
std::size_t find_newline_before(const char* p, std::size_t n, char next) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i nx = _mm_set1_epi8(next);
  for (; i + 17 <= n; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    int mask = _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, nl), _mm_cmpeq_epi8(b, nx)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i + 1 < n; ++i)
    if (p[i] == '\n' && p[i + 1] == next) return i;
  return n;
}

// Offset of the first "\nFrom " in [p, p+n), or n.
std::size_t find_from_line(const char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    std::size_t hit = find_newline_before(p + i, n - i, 'F');
    if (hit == n - i) return n;
    std::size_t at = i + hit;
    if (n - at >= 6 && std::memcmp(p + at + 2, "rom ", 4) == 0) return at;
    if (n - at < 6) return n;
    i = at + 1;
  }
  return n;
}

bool is_month_at(std::string_view s, std::size_t i) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (i + 3 > s.size()) return false;
  if (i > 0 && s[i - 1] != ' ' && s[i - 1] != ',') return false;
  if (i + 3 < s.size() && s[i + 3] != ' ' && s[i + 3] != ',') return false;
  for (const char* m : kMonths)
    if (s.compare(i, 3, m) == 0) return true;
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "Mon Jan  1 00:00:00 2001", "Sat, 21 Sep 2002 10:00:00 +0200": a month word, then hh:mm.
bool has_asctime_date(std::string_view rest) {
  for (std::size_t i = 0; i + 3 <= rest.size(); ++i) {
    if (!is_month_at(rest, i)) continue;
    for (std::size_t j = i + 3; j + 3 <= rest.size(); ++j) {
      if (rest[j] == ':' && is_digit(rest[j - 1]) && is_digit(rest[j + 1]) && is_digit(rest[j + 2]))
        return true;
    }
    return false;
  }
  return false;
}

// The sender field of a separator: empty, "-" (Thunderbird) or an address-like token with an
// '@' (any envelope sender, Gmail's "123@xxx"); what follows it does not matter here.
bool has_sender_token(std::string_view rest) {
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  std::string_view token = rest.substr(0, rest.find_first_of(" \t"));
  return token.empty() || token == "-" || token.find('@') != std::string_view::npos;
}

// Empty or "-" only (Thunderbird's "From - ", tests' "From ").
bool is_anonymous_sender(std::string_view rest) {
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return rest.empty() || rest == "-";
}

// Records on `out` why the byte window ended early: an archive member cut at its size cap
// (truncated) or a read error. False when the input simply ended.
bool record_window_end(const ByteWindow& w, RawMessage& out) {
  if (!w.limit_code().empty()) {
    out.truncated = true;
    out.error_code = w.limit_code();
    out.error = "archive member cut at the size cap";
    return true;
  }
  if (!w.error().empty()) {
    out.error_code = w.error_code().empty() ? "io_error" : w.error_code();
    out.error = w.error();
    return true;
  }
  return false;
}

class MboxReader final : public MessageSource {
 public:
  MboxReader(std::unique_ptr<ByteWindow> window, SourceLocation where, const ReaderOptions& opt)
      : w_(std::move(window)), where_(std::move(where)), opt_(opt) {
    if (opt_.max_message_bytes == 0) opt_.max_message_bytes = 1;
  }

  bool next(RawMessage& out) override {
    if (skipping_ && !skip_rest_of_message()) return false;
    if (!started_) {
      started_ = true;
      w_->fill(8);
      if (w_->end() >= 3 && std::memcmp(w_->at(0), "\xEF\xBB\xBF", 3) == 0) {
        pos_ = 3;
        pending_note_ = "bom_dropped: UTF-8 byte order mark before the first message";
      }
    }
    w_->fill(pos_ + 8);
    if (pos_ >= w_->end()) return yield_window_error(out);
    w_->release(pos_ > 8 ? pos_ - 8 : 0);

    std::uint64_t msg_start = pos_;
    if (has_from_at(pos_)) {
      std::uint64_t le = line_end(pos_, std::max<std::uint64_t>(opt_.max_message_bytes, 65536));
      if (le != kNone) msg_start = le;
    }
    const std::uint64_t cap_end = msg_start + opt_.max_message_bytes;

    // Step 2: Content-Length framing.
    std::string note = std::move(pending_note_);
    pending_note_.clear();
    std::uint64_t body_start = kNone;
    std::uint64_t content_length = kNone;
    scan_header_block(msg_start, cap_end, body_start, content_length);
    if (body_start != kNone && content_length != kNone) {
      std::uint64_t next_record = kNone;
      if (content_length > opt_.max_message_bytes) {
        append_note(note, "content_length_ignored: Content-Length " +
                              std::to_string(content_length) +
                              " is over max_message_bytes, not verified; split at From lines");
      } else if (content_length_checks_out(body_start, content_length, next_record)) {
        emit(out, msg_start, body_start + content_length, /*from_split=*/false, note);
        pos_ = next_record;
        return true;
      } else {
        append_note(note, "content_length_ignored: Content-Length " +
                              std::to_string(content_length) +
                              " does not end at a From line or the end; split at From lines");
      }
    }

    // Step 3: the next separator line.
    std::uint64_t found = find_separator(msg_start, msg_start, cap_end + kSearchChunk, false);
    if (found == kNone) {  // over the cap: yield what fits, skip the rest next time
      emit(out, msg_start, search_resume_, true, note);
      skipping_ = true;
      return true;
    }
    emit(out, msg_start, found, true, note);
    pos_ = found;
    return true;
  }

 private:
  static void append_note(std::string& note, const std::string& more) {
    if (!note.empty()) note += "; ";
    note += more;
  }

  bool has_from_at(std::uint64_t off) {
    w_->fill(off + 5);
    return w_->end() >= off + 5 && std::memcmp(w_->at(off), "From ", 5) == 0;
  }

  // Offset just past the '\n' ending the line at `off` (or the end of the input); kNone when
  // no line end lies within `limit` bytes.
  std::uint64_t line_end(std::uint64_t off, std::uint64_t limit) {
    std::uint64_t stop = off + limit;
    std::uint64_t scanned = off;
    for (;;) {
      std::uint64_t avail = std::min(w_->end(), stop);
      if (avail > scanned) {
        const char* p = w_->at(scanned);
        const void* nl = std::memchr(p, '\n', avail - scanned);
        if (nl) return scanned + static_cast<std::uint64_t>(static_cast<const char*>(nl) - p) + 1;
        scanned = avail;
      }
      if (scanned >= stop) return kNone;
      if (w_->at_eof()) return w_->end();
      w_->fill(std::min(stop, scanned + kSearchChunk));
    }
  }

  // Reads the header block: the offset just past its empty line (body_start) and the value of
  // a Content-Length field. Stops without a body_start at a "From " line or at cap_end.
  void scan_header_block(std::uint64_t msg_start, std::uint64_t cap_end,
                         std::uint64_t& body_start, std::uint64_t& content_length) {
    std::uint64_t line = msg_start;
    while (line < cap_end) {
      std::uint64_t le = line_end(line, cap_end - line);
      if (le == kNone || le == line) return;  // too long, or end of input
      const char* p = w_->at(line);
      std::size_t len = static_cast<std::size_t>(le - line);
      if (p[0] == '\n' || (len == 2 && p[0] == '\r' && p[1] == '\n')) {
        body_start = le;
        return;
      }
      if (line != msg_start && len >= 5 && std::memcmp(p, "From ", 5) == 0) return;
      if (len > 15 && (p[0] == 'C' || p[0] == 'c') &&
          strncasecmp(p, "Content-Length:", 15) == 0) {
        std::uint64_t value = 0;
        std::size_t i = 15, digits = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t')) ++i;
        while (i < len && is_digit(p[i]) && digits < 18) {
          value = value * 10 + static_cast<std::uint64_t>(p[i] - '0');
          ++i;
          ++digits;
        }
        if (digits > 0 && content_length == kNone) content_length = value;
      }
      line = le;
    }
  }

  bool content_length_checks_out(std::uint64_t body_start, std::uint64_t length,
                                 std::uint64_t& next_record) {
    std::uint64_t target = body_start + length;
    w_->fill(target + 8);
    if (target > w_->end()) return false;
    if (target == w_->end() && w_->at_eof()) {
      next_record = target;
      return true;
    }
    std::uint64_t p = target;
    if (*w_->at(p) == '\n') {
      p += 1;
    } else if (p + 1 < w_->end() && *w_->at(p) == '\r' && *w_->at(p + 1) == '\n') {
      p += 2;
    }
    if (p == w_->end() && w_->at_eof()) {
      next_record = p;
      return true;
    }
    if (has_from_at(p)) {
      next_record = p;
      return true;
    }
    return false;
  }

  // True when the line before `c` (a line start) is empty; `floor` is the first byte known to
  // start a line (the message start).
  bool line_before_is_empty(std::uint64_t c, std::uint64_t floor) {
    if (floor != kNone && c - 1 == floor) return true;  // the line before is "\n" alone
    if (c < 2 || c - 2 < w_->begin()) return false;
    char b = *w_->at(c - 2);
    if (b == '\n') return true;
    if (b == '\r')
      return (floor != kNone && c - 2 == floor) ||
             (c >= 3 && c - 3 >= w_->begin() && *w_->at(c - 3) == '\n');
    return false;
  }

  bool next_line_is_header(std::uint64_t off) {
    w_->fill(off + kHeaderProbe);
    std::uint64_t avail = std::min(w_->end(), off + kHeaderProbe);
    std::uint64_t i = off;
    while (i < avail) {
      unsigned char ch = static_cast<unsigned char>(*w_->at(i));
      if (ch == ':') break;
      if (ch < 33 || ch > 126) break;
      ++i;
    }
    if (i == off) return false;
    while (i < avail && (*w_->at(i) == ' ' || *w_->at(i) == '\t')) ++i;
    return i < avail && *w_->at(i) == ':';
  }

  // `c` starts with "From ": does it separate messages (see the head comment)?
  bool is_separator(std::uint64_t c, bool after_empty_line) {
    std::uint64_t le = line_end(c, kLineProbe);
    if (le == kNone) return false;
    std::uint64_t content_end = le;
    if (content_end > c && *w_->at(content_end - 1) == '\n') --content_end;
    if (content_end > c && *w_->at(content_end - 1) == '\r') --content_end;
    std::string rest(w_->at(c + 5), static_cast<std::size_t>(content_end - (c + 5)));
    // "From  :<x@y>" is a header field with blanks before its colon (spam uses it), not a
    // separator.
    std::size_t first = rest.find_first_not_of(" \t");
    if (first != std::string::npos && rest[first] == ':') return false;
    bool dated = has_asctime_date(rest);
    if (dated && after_empty_line) return true;
    // Without an empty line before it, only a dated or an anonymous ("From -") line may
    // separate: "From x@y" alone in a header block is more likely a broken header field.
    bool sender_ok = after_empty_line ? has_sender_token(rest) : is_anonymous_sender(rest);
    if (!dated && !sender_ok) return false;
    if (le >= w_->end() && w_->at_eof()) return false;
    return next_line_is_header(le);
  }

  // Finds the next separator line after `from` (searching for "\nFrom "). Returns its offset,
  // w_->end() at the end of the input, or kNone when the search passes `limit` without one
  // (search_resume_ then says where to go on). `floor` is the message start (a line start;
  // kNone when unknown). With `release_behind`, searched bytes are released, so skipping an
  // over-long message takes bounded memory.
  std::uint64_t find_separator(std::uint64_t from, std::uint64_t floor, std::uint64_t limit,
                               bool release_behind) {
    std::uint64_t search = from;
    for (;;) {
      if (release_behind && search > 8) w_->release(search - 8);
      if (w_->end() < search + 6 && !w_->at_eof()) w_->fill(search + kSearchChunk);
      std::uint64_t avail = w_->end();
      if (avail > search) {
        std::size_t span = static_cast<std::size_t>(avail - search);
        std::size_t hit = find_from_line(w_->at(search), span);
        if (hit != span) {
          std::uint64_t c = search + hit + 1;
          if (is_separator(c, line_before_is_empty(c, floor))) return c;
          search = c;
          continue;
        }
      }
      if (w_->at_eof()) return w_->end();
      // Go on from the last 5 bytes: "\nFrom " may straddle the chunk border.
      search = std::max(search, avail > 5 ? avail - 5 : 0);
      if (search >= limit) {
        search_resume_ = search;
        return kNone;
      }
      w_->fill(avail + kSearchChunk);
    }
  }

  // Skips the rest of an over-long message; true when another message follows.
  bool skip_rest_of_message() {
    skipping_ = false;
    pos_ = find_separator(search_resume_, kNone, kNone, true);
    w_->fill(pos_ + 8);
    return pos_ < w_->end();
  }

  // Copies [start, end) into out: mboxrd quoting undone and the framing empty line dropped
  // (from_split), cut at max_message_bytes.
  void emit(RawMessage& out, std::uint64_t start, std::uint64_t end, bool from_split,
            std::string& note) {
    out.where = where_;
    out.where.index = index_++;
    out.where.offset = start;
    out.bytes.clear();
    out.error.clear();
    out.error_code.clear();
    out.not_mail.clear();
    out.truncated = false;
    out.note = std::move(note);

    const bool ends_input = end >= w_->end() && w_->at_eof();
    std::uint64_t copy_end = end;
    if (copy_end - start > opt_.max_message_bytes) {
      copy_end = start + opt_.max_message_bytes;
      out.truncated = true;
      out.error_code = "too_large";
      out.error = "message larger than " + std::to_string(opt_.max_message_bytes) +
                  " bytes; truncated";
    } else if (from_split && copy_end - start >= 2) {
      const char* e = w_->at(copy_end);
      if (e[-1] == '\n' && e[-2] == '\n') {
        copy_end -= 1;
      } else if (copy_end - start >= 4 && std::memcmp(e - 4, "\r\n\r\n", 4) == 0) {
        copy_end -= 2;
      }
    }
    if (copy_end == start && out.error_code.empty()) {
      out.error_code = "empty_input";
      out.error = "empty message (a separator line with nothing after it)";
    }
    if (ends_input && !out.truncated && record_window_end(*w_, out) && !w_->error().empty())
      error_reported_ = true;

    std::size_t size = static_cast<std::size_t>(copy_end - start);
    out.bytes.reserve(size);
    const char* base = w_->at(start);
    if (!from_split) {
      out.bytes.append(base, size);
      return;
    }
    std::size_t run = 0;  // start of bytes not yet appended
    auto unquote_line_at = [&](std::size_t line) {
      std::size_t i = line;
      while (i < size && base[i] == '>') ++i;
      if (i > line && size - i >= 5 && std::memcmp(base + i, "From ", 5) == 0) {
        out.bytes.append(base + run, line - run);
        run = line + 1;  // drop one '>'
      }
    };
    if (size > 0 && base[0] == '>') unquote_line_at(0);
    std::size_t p = 0;
    while (p < size) {
      std::size_t hit = find_newline_before(base + p, size - p, '>');
      if (hit == size - p) break;
      std::size_t line = p + hit + 1;
      unquote_line_at(line);
      p = line;
    }
    out.bytes.append(base + run, size - run);
  }

  bool yield_window_error(RawMessage& out) {
    if (w_->error().empty() || error_reported_) return false;
    error_reported_ = true;
    out = RawMessage{};
    out.where = where_;
    out.where.index = index_++;
    out.where.offset = pos_;
    out.error = w_->error();
    out.error_code = w_->error_code().empty() ? "io_error" : w_->error_code();
    return true;
  }

  std::unique_ptr<ByteWindow> w_;
  SourceLocation where_;
  ReaderOptions opt_;
  std::uint64_t pos_ = 0;        // where the next record (separator line) starts
  std::uint64_t index_ = 0;
  bool started_ = false;
  bool skipping_ = false;        // the rest of an over-long message is still to be skipped
  std::uint64_t search_resume_ = 0;  // where skipping an over-long message goes on
  bool error_reported_ = false;
  std::string pending_note_;
};

class SingleReader final : public MessageSource {
 public:
  SingleReader(std::unique_ptr<ByteWindow> window, SourceLocation where, const ReaderOptions& opt)
      : w_(std::move(window)), where_(std::move(where)), opt_(opt) {}

  bool next(RawMessage& out) override {
    if (next_part_ > 0 && next_part_ < parts_.size()) return yield_part(out);
    if (done_) return false;
    done_ = true;
    out.where = where_;
    out.bytes.clear();
    out.error.clear();
    out.error_code.clear();
    out.note.clear();
    out.not_mail.clear();
    out.truncated = false;

    std::uint64_t start = 0;
    w_->fill(kLineProbe * 64);
    if (w_->end() >= 3 && std::memcmp(w_->at(0), "\xEF\xBB\xBF", 3) == 0) {
      start = 3;
      out.note = "bom_dropped: UTF-8 byte order mark before the message";
    }
    if (w_->end() >= start + 5 && std::memcmp(w_->at(start), "From ", 5) == 0) {
      // The separator line ends at LF, CRLF or a bare CR (tolerated).
      std::uint64_t avail = w_->end();
      for (std::uint64_t i = start; i < avail; ++i) {
        char c = *w_->at(i);
        if (c == '\n') {
          start = i + 1;
          break;
        }
        if (c == '\r') {
          start = (i + 1 < avail && *w_->at(i + 1) == '\n') ? i + 2 : i + 1;
          break;
        }
      }
    }
    const std::uint64_t cap_end = start + opt_.max_message_bytes;
    w_->fill(cap_end + 1);
    std::uint64_t end = std::min(w_->end(), cap_end);
    if (w_->end() > cap_end) {
      out.truncated = true;
      out.error_code = "too_large";
      out.error = "message larger than " + std::to_string(opt_.max_message_bytes) +
                  " bytes; truncated";
    } else if (!record_window_end(*w_, out) && w_->end() == 0) {
      out.error_code = "empty_input";
      out.error = "empty input (zero bytes)";
    }
    if (end > start) out.bytes.assign(w_->at(start), static_cast<std::size_t>(end - start));
    if (out.error_code.empty() || !is_fatal_read_error(out.error_code))
      if (!out.bytes.empty()) out.not_mail = not_mail_reason(out.bytes);
    // Drain the rest of a pipe (its writer must not block on us), in bounded memory.
    while (w_->drain_needed()) {
      w_->release(w_->end());
      w_->fill(w_->end() + kSearchChunk);
    }
    if (out.error.empty() && out.not_mail.empty() && !out.bytes.empty()) {
      Concatenation cat = concatenated_messages(out.bytes);
      if (cat.starts.size() > 1 && !cat.unambiguous) {
        std::string offsets;
        for (std::size_t k = 1; k < cat.starts.size() && k < 6; ++k)
          offsets += (k > 1 ? ", " : "") + std::to_string(start + cat.starts[k]);
        if (!out.note.empty()) out.note += "; ";
        out.note += "concatenated_messages: likely " + std::to_string(cat.starts.size()) +
                    " messages in this input (a header block at byte " + offsets +
                    "), or whole messages quoted in its body: not split";
      }
      if (cat.unambiguous) parts_ = std::move(cat.starts);
      if (parts_.size() > 1) {  // messages concatenated without separators: one record each
        whole_ = std::move(out.bytes);
        base_ = start;
        split_note_ = "concatenated_messages: " + std::to_string(parts_.size()) +
                      " messages concatenated without mbox separators in this input, split";
        first_note_ = out.note;
        return yield_part(out);
      }
    }
    return true;
  }

 private:
  // Part next_part_ of a concatenation, as its own message (index = part, offset in the input).
  bool yield_part(RawMessage& out) {
    const std::size_t k = next_part_++;
    const std::size_t begin = parts_[k];
    const std::size_t end = k + 1 < parts_.size() ? parts_[k + 1] : whole_.size();
    out = RawMessage{};
    out.where = where_;
    out.where.index = k;
    out.where.offset = base_ + begin;
    out.bytes.assign(whole_, begin, end - begin);
    out.note = k == 0 && !first_note_.empty() ? first_note_ + "; " + split_note_ : split_note_;
    if (next_part_ == parts_.size()) {
      whole_.clear();
      whole_.shrink_to_fit();
    }
    return true;
  }

  std::unique_ptr<ByteWindow> w_;
  SourceLocation where_;
  ReaderOptions opt_;
  bool done_ = false;
  std::vector<std::size_t> parts_;  // message starts in whole_ (a concatenation)
  std::size_t next_part_ = 0;
  std::string whole_;
  std::uint64_t base_ = 0;          // offset of whole_[0] in the input
  std::string split_note_, first_note_;
};

}  // namespace

std::unique_ptr<MessageSource> mbox_reader(std::unique_ptr<ByteWindow> window,
                                           SourceLocation where, const ReaderOptions& opt) {
  return std::make_unique<MboxReader>(std::move(window), std::move(where), opt);
}

std::unique_ptr<MessageSource> single_reader(std::unique_ptr<ByteWindow> window,
                                             SourceLocation where, const ReaderOptions& opt) {
  return std::make_unique<SingleReader>(std::move(window), std::move(where), opt);
}

}  // namespace hdrscan::mime::detail
