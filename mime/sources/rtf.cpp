// rtf.cpp: compressed RTF and HTML de-encapsulation (rtf.hpp).
#include "mime/sources/rtf.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mime/utf8.hpp"

namespace hdrscan::mime::detail {
namespace {

// [MS-OXRTFCP] 3.1.1.1.1: the dictionary's initial contents.
constexpr char kInitial[] =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    "\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    "\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
static_assert(sizeof kInitial - 1 == 207, "the RTF dictionary preload is 207 bytes");

constexpr std::size_t kMaxDepth = 256;

std::uint32_t le32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}

// Destinations whose text is never part of the HTML.
bool skipped_destination(std::string_view w) {
  static constexpr std::string_view kSkip[] = {
      "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "header", "footer",
      "listtable", "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "themedata",
      "datastore", "latentstyles", "pgdsctbl", "filetbl", "revtbl", "headerl", "headerr",
      "footerl", "footerr", "footnote"};
  for (auto s : kSkip)
    if (w == s) return true;
  return false;
}

}  // namespace

bool rtf_decompress(std::string_view in, std::size_t max, std::string& out, std::string& error) {
  out.clear();
  if (in.size() < 16) {
    error = "compressed RTF shorter than its header";
    return false;
  }
  const std::uint32_t comp_size = le32(in, 0), raw_size = le32(in, 4), type = le32(in, 8);
  const std::size_t limit = std::min<std::size_t>(max, raw_size);
  const std::size_t announced = comp_size >= 12 ? comp_size - 12 : 0;
  std::string_view data = in.substr(16, std::min<std::size_t>(in.size() - 16, announced));
  if (type == 0x414C454Du) {  // "MELA": stored uncompressed
    out.assign(data.substr(0, limit));
    return true;
  }
  if (type != 0x75465A4Cu) {  // "LZFu"
    error = "compressed RTF of an unknown type";
    return false;
  }
  char dict[4096];
  std::memcpy(dict, kInitial, 207);
  std::memset(dict + 207, 0, sizeof dict - 207);
  std::size_t write = 207, pos = 0;
  out.reserve(limit);
  while (pos < data.size() && out.size() < limit) {
    const unsigned control = static_cast<unsigned char>(data[pos++]);
    for (int bit = 0; bit < 8 && out.size() < limit; ++bit) {
      if ((control & (1u << bit)) == 0) {
        if (pos >= data.size()) return true;
        const char c = data[pos++];
        out += c;
        dict[write] = c;
        write = (write + 1) & 4095;
        continue;
      }
      if (pos + 2 > data.size()) return true;
      const unsigned token = (static_cast<unsigned char>(data[pos]) << 8) |
                             static_cast<unsigned char>(data[pos + 1]);
      pos += 2;
      const std::size_t offset = token >> 4, length = (token & 15) + 2;
      if (offset == write) return true;  // the end marker
      for (std::size_t i = 0; i < length && out.size() < limit; ++i) {
        const char c = dict[(offset + i) & 4095];
        out += c;
        dict[write] = c;
        write = (write + 1) & 4095;
      }
    }
  }
  return true;
}

std::optional<std::string> rtf_html(std::string_view rtf) {
  // \fromhtml1 must be in the header, before the first text (allow the first 4 KiB).
  if (rtf.substr(0, 4096).find("\\fromhtml1") == std::string_view::npos) return std::nullopt;
  struct State {
    bool suppressed = false;  // inside \htmlrtf ... \htmlrtf0
    bool skip = false;        // inside a destination that is not HTML
    bool htmltag = false;     // inside \*\htmltag
    int uc = 1;               // fallback characters after \uN
  };
  std::vector<State> stack(1);
  std::string out;
  out.reserve(rtf.size());
  int codepage = 1252;
  std::size_t overflow = 0;  // groups opened beyond kMaxDepth (flattened)
  int fallback = 0;         // characters still to skip after \uN
  bool group_start = false;  // the previous token was '{'
  bool star = false;         // \* seen at the start of this group
  std::uint32_t high = 0;    // a \uN high surrogate waiting for its low half
  auto flush_high = [&] {
    if (high) append_utf8(out, high);  // unpaired: U+FFFD
    high = 0;
  };
  auto emit_byte = [&](unsigned char b) {
    State& s = stack.back();
    if (s.skip || (s.suppressed && !s.htmltag)) return;
    flush_high();
    if (b < 0x80) {
      out += static_cast<char>(b);
    } else if (codepage == 65001) {
      out += static_cast<char>(b);  // UTF-8 bytes as they come
    } else {
      append_utf8(out, codepage == 1252 ? cp1252_char(b) : b);  // else Latin-1
    }
  };
  auto emit_text = [&](std::string_view t) {
    State& s = stack.back();
    if (s.skip || (s.suppressed && !s.htmltag)) return;
    flush_high();
    out += t;
  };
  std::size_t i = 0;
  while (i < rtf.size()) {
    const char c = rtf[i];
    if (c == '{') {
      if (stack.size() < kMaxDepth) {
        const State top = stack.back();
        stack.push_back(top);
      } else {
        ++overflow;
      }
      group_start = true;
      star = false;
      ++i;
      continue;
    }
    if (c == '}') {
      if (overflow > 0) --overflow;
      else if (stack.size() > 1) stack.pop_back();
      group_start = false;
      star = false;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (c != '\\') {
      if (fallback > 0) {
        --fallback;
      } else {
        emit_byte(static_cast<unsigned char>(c));
      }
      group_start = false;
      ++i;
      continue;
    }
    // A control symbol or word.
    if (i + 1 >= rtf.size()) break;
    const char n = rtf[i + 1];
    if (n == '\'') {
      unsigned v = 0;
      bool ok = i + 3 < rtf.size();
      for (std::size_t k = i + 2; ok && k < i + 4; ++k) {
        const char h = rtf[k];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
        else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
        else ok = false;
      }
      i += ok ? 4 : 2;
      if (!ok) continue;
      if (fallback > 0) {
        --fallback;
        continue;
      }
      emit_byte(static_cast<unsigned char>(v));
      group_start = false;
      continue;
    }
    if (n == '*') {
      star = group_start;
      i += 2;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(n))) {
      // \{ \} \\ and the special symbols.
      i += 2;
      if (n == '{' || n == '}' || n == '\\') emit_text(std::string_view(&n, 1));
      else if (n == '~') emit_text("\xC2\xA0");
      else if (n == '_') emit_text("-");
      group_start = false;
      continue;
    }
    std::size_t j = i + 1;
    while (j < rtf.size() && j - i < 40 && std::isalpha(static_cast<unsigned char>(rtf[j]))) ++j;
    const std::string_view word = rtf.substr(i + 1, j - i - 1);
    bool has_param = false;
    long param = 0;
    bool negative = false;
    if (j < rtf.size() && rtf[j] == '-') {
      negative = true;
      ++j;
    }
    while (j < rtf.size() && std::isdigit(static_cast<unsigned char>(rtf[j])) && param < 1000000) {
      param = param * 10 + (rtf[j] - '0');
      has_param = true;
      ++j;
    }
    if (negative) param = -param;
    if (j < rtf.size() && rtf[j] == ' ') ++j;  // the delimiter belongs to the word
    i = j;
    State& s = stack.back();
    const bool first_in_group = group_start;
    group_start = false;
    if (first_in_group && (star || skipped_destination(word))) {
      if (word == "htmltag") {
        s.htmltag = true;
        s.skip = false;
        s.suppressed = false;
      } else {
        s.skip = true;  // \*\mhtmltag, \*\panose and every other destination
      }
      star = false;
      continue;
    }
    star = false;
    if (word == "htmlrtf") {
      s.suppressed = !has_param || param != 0;
    } else if (word == "ansicpg" && has_param) {
      codepage = static_cast<int>(param);
    } else if (word == "uc" && has_param) {
      s.uc = static_cast<int>(param < 0 ? 0 : param > 10 ? 10 : param);
    } else if (word == "u" && has_param) {
      long cp = param < 0 ? param + 65536 : param;
      State& st = stack.back();
      if (!st.skip && !(st.suppressed && !st.htmltag)) {
        const auto c = static_cast<std::uint32_t>(cp);  // UTF-16: a pair is two \uN
        if (high && c >= 0xDC00 && c <= 0xDFFF) {
          append_utf8(out, join_surrogates(high, c));
          high = 0;
        } else {
          flush_high();
          if (c >= 0xD800 && c <= 0xDBFF) high = c;
          else append_utf8(out, c);
        }
      }
      fallback = st.uc;
    } else if (word == "par" || word == "line") {
      emit_text("\r\n");
    } else if (word == "tab") {
      emit_text("\t");
    } else if (word == "lquote" || word == "rquote") {
      emit_text("'");
    } else if (word == "ldblquote" || word == "rdblquote") {
      emit_text("\"");
    } else if (word == "emdash") {
      emit_text("\xE2\x80\x94");
    } else if (word == "endash") {
      emit_text("\xE2\x80\x93");
    } else if (word == "bullet") {
      emit_text("\xE2\x80\xA2");
    } else if (word == "emspace" || word == "enspace") {
      emit_text(" ");
    }
    if (out.size() > rtf.size() * 4 + 64) break;
  }
  flush_high();
  return out;
}

}  // namespace hdrscan::mime::detail
