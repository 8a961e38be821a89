// html.cpp: facts from an HTML body (links, images, visible vs hidden text) for the detectors.
//
// Purpose: the campaign hides randomized filler in HTML that a reader never sees and shows
// two hyperlinked images; the detectors need both sides, so text is split into what renders
// (visible_text) and what is hidden (hidden_text).
// How: one linear pass of a tolerant tokenizer (no external library, no recursion): tags with
// quoted/unquoted attributes, comments, <!...> and <?...> skipped, <style>/<script>/<title>
// content kept out of the text, entities decoded. A pre-pass over <style> blocks collects
// top-level simple class selectors (".cls{...}") whose rules hide (at-rule blocks such as
// @media are skipped: they hide only on some screens).
// Hidden means, on the element or an ancestor: the `hidden` attribute, display:none,
// visibility:hidden|collapse, font-size 0 or <= 1px/1pt, opacity <= 0.05, a zero (max-)height
// or (max-)width with overflow:hidden, text-indent or absolute left/top <= -999px, text colour equal to the background colour set on the
// element or the nearest ancestor that sets one (style background(-color), bgcolor,
// <font color>; #rgb, #rrggbb, rgb() and basic colour names compared normalised), or a class
// from the pre-pass. A background that is never set is not assumed white, and a background
// image makes it unknown again (no guessing). Colour hiding is judged per element from the
// effective colour pair, so a nested element with its own background shows its text again
// (measured on hard_ham: a white-on-navy <font> wrapping a white table hid a whole letter).
// Limits: element stack capped at kMaxStack (deeper start tags are not pushed; void elements
// are never pushed), kMaxLinks links, kMaxImages images, kMaxText bytes of visible and of
// hidden text, attribute values capped, kMaxSkeleton bytes of skeleton (start tags of visible
// elements, hidden ones left out as the filler is); any cap hit sets `truncated`. Never throws.
// Whitespace is collapsed; inline tags (a, span, b, font...) do not separate words, so
// "G<span>ET</span>" reads "GET" while block tags insert a space.
#include "mime/html.hpp"
#include "mime/decode.hpp"
#include "mime/text.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hdrscan::mime {
namespace {

constexpr std::size_t kMaxStack = 256;
constexpr std::size_t kMaxLinks = 2000;
constexpr std::size_t kMaxImages = 2000;
constexpr std::size_t kMaxText = 512u << 10;
constexpr std::size_t kMaxSkeleton = 16u << 10;
constexpr std::size_t kMaxLinkText = 1024;
constexpr std::size_t kMaxAttrValue = 8192;
constexpr std::size_t kMaxAttrs = 64;
constexpr std::size_t kMaxHiddenClasses = 1024;

// HTML's whitespace (the header kind plus form feed).
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

std::string_view trim(std::string_view s) { return text::trim_if(s, is_space); }


// Case-insensitive search for a lower-case needle that starts with '<' (memchr-driven).
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) {
  while (from + needle.size() <= hay.size()) {
    const void* hit = std::memchr(hay.data() + from, needle[0], hay.size() - from);
    if (!hit) return std::string_view::npos;
    const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - hay.data());
    if (i + needle.size() > hay.size()) return std::string_view::npos;
    std::size_t k = 1;
    while (k < needle.size() && text::to_lower(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return i;
    from = i + 1;
  }
  return std::string_view::npos;
}

// Decodes HTML character references into `out` (replaced; its capacity is reused from call to
// call); `nbsp_as_space` for text (it collapses like a space).
void decode_entities(std::string_view s, bool nbsp_as_space, std::string& out) {
  static const std::pair<std::string_view, std::uint32_t> kNamed[] = {
      {"amp", '&'},        {"lt", '<'},          {"gt", '>'},          {"quot", '"'},
      {"apos", '\''},      {"nbsp", 0xA0},       {"copy", 0xA9},       {"reg", 0xAE},
      {"trade", 0x2122},   {"hellip", 0x2026},   {"mdash", 0x2014},    {"ndash", 0x2013},
      {"lsquo", 0x2018},   {"rsquo", 0x2019},    {"ldquo", 0x201C},    {"rdquo", 0x201D},
      {"bull", 0x2022},    {"middot", 0xB7},     {"euro", 0x20AC},     {"pound", 0xA3},
      {"yen", 0xA5},       {"cent", 0xA2},       {"sect", 0xA7},       {"deg", 0xB0},
      {"plusmn", 0xB1},    {"times", 0xD7},      {"divide", 0xF7},     {"laquo", 0xAB},
      {"raquo", 0xBB},     {"iexcl", 0xA1},      {"iquest", 0xBF},     {"shy", 0xAD},
      {"zwnj", 0x200C},    {"zwj", 0x200D},      {"thinsp", 0x2009},   {"ensp", 0x2002},
      {"emsp", 0x2003},    {"eacute", 0xE9},     {"egrave", 0xE8},     {"agrave", 0xE0},
      {"aacute", 0xE1},    {"ccedil", 0xE7},     {"uuml", 0xFC},       {"ouml", 0xF6},
      {"auml", 0xE4},      {"szlig", 0xDF},      {"ntilde", 0xF1},     {"rarr", 0x2192},
  };
  if (s.find('&') == std::string_view::npos) {
    out.assign(s);
    return;
  }
  out.clear();
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    std::size_t j = i + 1;
    if (j < s.size() && s[j] == '#') {
      ++j;
      const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
      if (hex) ++j;
      const std::size_t digits_begin = j;
      std::uint32_t cp = 0;
      while (j < s.size() && j - digits_begin < 8) {
        const char c = text::to_lower(s[j]);
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (d < 0) break;
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
        ++j;
      }
      if (j == digits_begin) {
        out.push_back('&');
        continue;
      }
      if (j < s.size() && s[j] == ';') ++j;
      if (cp == 0xA0 && nbsp_as_space) out.push_back(' ');
      else append_utf8(out, cp);
      i = j - 1;
      continue;
    }
    std::size_t k = j;
    while (k < s.size() && k - j < 10 && (text::is_alpha(s[k]) || text::is_digit(s[k]))) ++k;
    const std::string_view name = s.substr(j, k - j);
    bool matched = false;
    for (const auto& [entity, cp] : kNamed) {
      if (name == entity) {
        if (cp == 0xA0 && nbsp_as_space) out.push_back(' ');
        else append_utf8(out, cp);
        i = (k < s.size() && s[k] == ';') ? k : k - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
}

// ---- CSS: declarations, colours -------------------------------------------------------------

using Declarations = std::vector<std::pair<std::string, std::string>>;  // lower-case, trimmed

Declarations parse_declarations(std::string_view css) {
  Declarations out;
  std::size_t i = 0;
  while (i < css.size() && out.size() < 128) {
    std::size_t end = css.find(';', i);
    if (end == std::string_view::npos) end = css.size();
    const std::string_view decl = css.substr(i, end - i);
    i = end + 1;
    const auto colon = decl.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = text::lower(trim(decl.substr(0, colon)));
    std::string value = text::lower(trim(decl.substr(colon + 1)));
    if (const auto bang = value.find("!important"); bang != std::string::npos) value = std::string(trim(std::string_view(value).substr(0, bang)));
    if (!name.empty()) out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// A CSS number as an int in [lo, hi]; NaN goes to lo. (A bare cast of an out-of-range double,
// e.g. from "rgb(1e300,0,0)" or "height: inf", is undefined behaviour: found by fuzz_html.)
int to_int_clamped(double v, int lo, int hi) {
  if (!(v >= lo)) return lo;
  if (v >= hi) return hi;
  return static_cast<int>(v);
}

// Normalises a colour to "#rrggbb"; "" when it is none we can compare.
std::string normalise_color(std::string_view value) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"white", "#ffffff"},  {"black", "#000000"},  {"red", "#ff0000"},    {"green", "#008000"},
      {"blue", "#0000ff"},   {"yellow", "#ffff00"}, {"gray", "#808080"},   {"grey", "#808080"},
      {"silver", "#c0c0c0"}, {"maroon", "#800000"}, {"purple", "#800080"}, {"fuchsia", "#ff00ff"},
      {"lime", "#00ff00"},   {"olive", "#808000"},  {"navy", "#000080"},   {"teal", "#008080"},
      {"aqua", "#00ffff"},   {"orange", "#ffa500"}, {"magenta", "#ff00ff"}, {"cyan", "#00ffff"},
      {"whitesmoke", "#f5f5f5"}, {"snow", "#fffafa"}, {"ivory", "#fffff0"}, {"lightgray", "#d3d3d3"},
      {"lightgrey", "#d3d3d3"}, {"gainsboro", "#dcdcdc"},
  };
  std::string v = text::lower(trim(value));
  if (v.empty()) return {};
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  if (v[0] != '#' && (v.size() == 3 || v.size() == 6) && std::all_of(v.begin(), v.end(), is_hex)) v = std::string("#") + v;  // (not insert: GCC 12 -Wrestrict false positive)
  if (v[0] == '#') {
    const std::string hex = v.substr(1);
    if (!std::all_of(hex.begin(), hex.end(), is_hex)) return {};
    if (hex.size() == 3) return std::string{'#', hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]};
    if (hex.size() == 6) return v;
    if (hex.size() == 8) return v.substr(0, 7);  // #rrggbbaa: alpha ignored
    return {};
  }
  if (v.rfind("rgb", 0) == 0) {
    const auto open = v.find('(');
    if (open == std::string::npos) return {};
    int rgb[3] = {0, 0, 0};
    const char* p = v.c_str() + open + 1;
    for (int k = 0; k < 3; ++k) {
      while (*p == ' ' || *p == ',') ++p;
      char* end = nullptr;
      const double n = std::strtod(p, &end);
      if (end == p) return {};
      p = end;
      double scaled = n;
      if (*p == '%') {
        scaled = n * 255.0 / 100.0;
        ++p;
      }
      rgb[k] = to_int_clamped(scaled + 0.5, 0, 255);
    }
    static const char* kHex = "0123456789abcdef";
    std::string out = "#";
    for (int c : rgb) out.push_back(kHex[c >> 4]), out.push_back(kHex[c & 15]);
    return out;
  }
  for (const auto& [name, hex] : kNames)
    if (v == name) return std::string(hex);
  return {};
}

// The colour in a `background` shorthand: its first colour token.
std::string background_color(std::string_view value) {
  if (value.find("gradient(") != std::string_view::npos) return {};
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && is_space(value[i])) ++i;
    std::size_t end = i;
    if (value.compare(i, 3, "rgb") == 0) {
      end = value.find(')', i);
      end = end == std::string_view::npos ? value.size() : end + 1;
    } else {
      while (end < value.size() && !is_space(value[end])) ++end;
    }
    if (std::string c = normalise_color(value.substr(i, end - i)); !c.empty()) return c;
    i = end;
  }
  return {};
}

double leading_number(std::string_view v, std::string_view* unit) {
  std::string s(v.substr(0, 32));
  char* end = nullptr;
  const double n = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) {
    *unit = "?";
    return -1;
  }
  *unit = v.substr(static_cast<std::size_t>(end - s.c_str()));
  return n;
}

struct StyleFacts {
  bool hides = false;
  std::string color;       // normalised text colour set here
  std::string background;  // normalised background colour set here
  bool background_image = false;  // an image covers the colour: text colour cannot be judged
  int width = -1, height = -1;
};

StyleFacts style_facts(const Declarations& decls) {
  StyleFacts f;
  bool overflow_hidden = false, zero_box = false, positioned = false, off_screen = false;
  for (const auto& decl : decls) {
    // string_views: std::string == "literal" is an out-of-line compare() call (issue 17)
    const std::string_view name = decl.first, value = decl.second;
    std::string_view unit;
    if (name == "display" && value == "none") f.hides = true;
    else if (name == "visibility" && (value == "hidden" || value == "collapse")) f.hides = true;
    else if (name == "font-size") {
      const double n = leading_number(value, &unit);
      if (n == 0 || (n > 0 && n <= 1 && (unit == "px" || unit == "pt" || unit.empty()))) f.hides = true;
    } else if (name == "opacity") {
      const double n = leading_number(value, &unit);
      if (n >= 0 && n <= 0.05 && unit != "?") f.hides = true;
    } else if (name == "max-height" || name == "height" || name == "max-width") {
      const double n = leading_number(value, &unit);
      if (n == 0 && unit != "?") zero_box = true;
      if (name == "height" && n > 0 && (unit == "px" || unit.empty())) f.height = to_int_clamped(n, 0, 1 << 30);
    } else if (name == "width") {
      const double n = leading_number(value, &unit);
      if (n >= 0 && (unit == "px" || unit.empty())) f.width = to_int_clamped(n, 0, 1 << 30);
      if (n == 0 && unit != "?") zero_box = true;
    } else if (name == "text-indent") {
      const double n = leading_number(value, &unit);
      if (n <= -999 && unit == "px") f.hides = true;  // text pushed off the left edge
    } else if (name == "left" || name == "top") {
      const double n = leading_number(value, &unit);
      if (n <= -999 && unit == "px") off_screen = true;
    } else if (name == "position") {
      positioned = value == "absolute" || value == "fixed";
    } else if (name == "overflow" || name == "overflow-y" || name == "overflow-x") {
      if (value == "hidden") overflow_hidden = true;
    } else if (name == "color") {
      f.color = normalise_color(value);
    } else if (name == "background-color") {
      f.background = normalise_color(value);
    } else if (name == "background") {
      if (std::string c = background_color(value); !c.empty()) f.background = std::move(c);
      if (value.find("url(") != std::string::npos) f.background_image = true;
    } else if (name == "background-image") {
      if (value.find("url(") != std::string::npos) f.background_image = true;
    }
  }
  if (zero_box && overflow_hidden) f.hides = true;
  if (positioned && off_screen) f.hides = true;
  return f;
}

// Collects classes that hide from top-level simple rules (".a{display:none}", ".a,.b{..}").
void collect_hidden_classes(std::string_view css, std::vector<std::string>& classes) {
  std::string clean;  // comments removed
  clean.reserve(css.size());
  for (std::size_t i = 0; i < css.size(); ++i) {
    if (css[i] == '/' && i + 1 < css.size() && css[i + 1] == '*') {
      const auto end = css.find("*/", i + 2);
      if (end == std::string_view::npos) break;
      i = end + 1;
      continue;
    }
    clean.push_back(css[i]);
  }
  std::size_t i = 0;
  while (i < clean.size()) {
    const auto open = clean.find('{', i);
    if (open == std::string::npos) break;
    const std::string_view selectors = trim(std::string_view(clean).substr(i, open - i));
    if (!selectors.empty() && selectors.find('@') != std::string_view::npos) {
      // An at-rule block (@media, @supports...): skip it with its nested rules.
      int level = 0;
      std::size_t k = open;
      for (; k < clean.size(); ++k) {
        if (clean[k] == '{') ++level;
        else if (clean[k] == '}' && --level == 0) break;
      }
      i = k + 1;
      continue;
    }
    const auto close = clean.find('}', open);
    const std::string_view body = std::string_view(clean).substr(open + 1, (close == std::string::npos ? clean.size() : close) - open - 1);
    i = close == std::string::npos ? clean.size() : close + 1;
    if (!style_facts(parse_declarations(body)).hides) continue;
    std::size_t s = 0;
    while (s < selectors.size()) {
      auto comma = selectors.find(',', s);
      if (comma == std::string_view::npos) comma = selectors.size();
      const std::string_view sel = trim(selectors.substr(s, comma - s));
      s = comma + 1;
      if (sel.size() < 2 || sel[0] != '.') continue;
      const std::string_view name = sel.substr(1);
      if (!std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }))
        continue;
      if (classes.size() < kMaxHiddenClasses) classes.push_back(text::lower(name));
    }
  }
}

// Tag-name sets as a switch on the length (issue 17: a linear search of string_views per
// tag, twice per element, was a visible cost); the same sets as before.
bool is_void(std::string_view tag) {
  switch (tag.size()) {
    case 2: return tag == "br" || tag == "hr";
    case 3: return tag == "col" || tag == "img" || tag == "wbr";
    case 4: return tag == "area" || tag == "base" || tag == "link" || tag == "meta";
    case 5: return tag == "embed" || tag == "input" || tag == "param" || tag == "track" || tag == "frame";
    case 6: return tag == "source";
    case 8: return tag == "basefont";
    default: return false;
  }
}

bool is_inline(std::string_view tag) {
  switch (tag.size()) {
    case 1: return tag[0] == 'a' || tag[0] == 'b' || tag[0] == 'i' || tag[0] == 'u' || tag[0] == 's';
    case 2: return tag == "em";
    case 3: return tag == "big" || tag == "sub" || tag == "sup" || tag == "o:p" || tag == "ins" || tag == "del";
    case 4: return tag == "span" || tag == "font" || tag == "abbr" || tag == "code" || tag == "mark";
    case 5: return tag == "small" || tag == "label";
    case 6: return tag == "strong" || tag == "strike";
    default: return false;
  }
}

// normalise_color's result ("#rrggbb", lower-case hex, or "") as 0xrrggbb, -1 for "".
std::int32_t color_value(const std::string& c) {
  if (c.size() != 7) return -1;
  std::int32_t v = 0;
  for (std::size_t i = 1; i < 7; ++i) v = v * 16 + (text::is_digit(c[i]) ? c[i] - '0' : c[i] - 'a' + 10);
  return v;
}

struct Element {
  std::string tag;
  bool hidden = false;      // hidden by a rule that inherits (display, visibility, size...)
  // Colours as 0xrrggbb, -1 when none (normalise_color's "#rrggbb" or "" packed: the same
  // comparisons without a string copy per element or a memcmp per text run, issue 17).
  std::int32_t color = -1;       // text colour set on it or inherited
  std::int32_t background = -1;  // nearest background set on it or an ancestor
  int link = -1;            // enclosing <a>
  // Text colour equals background: decided per element from the effective pair, so a
  // nested element with its own background makes its text visible again.
  bool text_hidden() const { return hidden || (color >= 0 && color == background); }
};

// Text is scanned 16 bytes at a time where SSE2 exists (x86-64 baseline); byte loops are the
// fallback and handle the last < 16 bytes.
#if defined(__SSE2__)
// Bit k set: byte k of the 16 at `p` is HTML whitespace (space, tab, LF, CR, FF), split into
// the ' ' bytes (`spaces`) and the others (`others`).
inline void space_masks(const char* p, unsigned& spaces, unsigned& others) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  spaces = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' '))));
  const __m128i o = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))),
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\f'))));
  others = static_cast<unsigned>(_mm_movemask_epi8(o));
}
#endif

// The first byte at or after `i` that is not whitespace (t.size() when none).
std::size_t skip_spaces(std::string_view t, std::size_t i) {
  const char* s = t.data();
  const std::size_t n = t.size();
#if defined(__SSE2__)
  while (i + 16 <= n) {
    unsigned spaces = 0, others = 0;
    space_masks(s + i, spaces, others);
    const unsigned rest = ~(spaces | others) & 0xFFFFu;
    if (rest) return i + static_cast<std::size_t>(std::countr_zero(rest));
    i += 16;
  }
#endif
  while (i < n && is_space(s[i])) ++i;
  return i;
}

// From t[i] (not whitespace): the end of the longest stretch of words separated by single
// ' ' bytes, i.e. the first whitespace byte that is not ' ', or is followed by whitespace or
// by the end of `t` (t.size() when none). Collapsing whitespace leaves such a stretch as it
// is, so TextSink appends it at once.
std::size_t plain_run_end(std::string_view t, std::size_t i) {
  const char* s = t.data();
  const std::size_t n = t.size();
#if defined(__SSE2__)
  while (i + 16 <= n) {
    unsigned spaces = 0, others = 0;
    space_masks(s + i, spaces, others);
    // bit k: byte k + 1 is whitespace (the byte after the block, or the end of the text, too)
    const unsigned after = i + 16 < n ? (is_space(s[i + 16]) ? 1u : 0u) : 1u;
    const unsigned next_space = ((spaces | others) >> 1) | (after << 15);
    const unsigned stop = others | (spaces & next_space);
    if (stop) return i + static_cast<std::size_t>(std::countr_zero(stop));
    i += 16;
  }
#endif
  for (; i < n; ++i) {
    if (!is_space(s[i])) continue;
    if (s[i] != ' ' || i + 1 == n || is_space(s[i + 1])) return i;
  }
  return n;
}

struct TextSink {
  std::string* out;
  std::size_t cap;
  bool pending_space = false;
  bool* truncated;
  void space() { pending_space = true; }
  // Appends `text` with whitespace collapsed: runs become one ' ', none at the start of `out`.
  // Words already one ' ' apart are appended as one stretch (issue 17: the word-by-word loop
  // was extract_html's largest cost); the word-by-word loop (add_words) still does the
  // stretch that would pass the cap, so truncation is exactly as before.
  void add(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      const std::size_t word = skip_spaces(text, i);
      if (word > i) pending_space = true;
      if (word == text.size()) return;
      const std::size_t end = plain_run_end(text, word);
      const bool sep = pending_space && !out->empty();
      if (out->size() + (sep ? 1 : 0) + (end - word) > cap) {
        add_words(text.substr(word));
        return;
      }
      if (sep) out->push_back(' ');
      pending_space = false;
      out->append(text.data() + word, end - word);
      i = end;
    }
  }
  // The same, one word at a time, stopping at the cap on a character boundary.
  void add_words(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
      if (is_space(text[i])) {
        pending_space = true;
        ++i;
        continue;
      }
      std::size_t j = i;  // a run of non-space bytes, appended at once
      while (j < text.size() && !is_space(text[j])) ++j;
      if (pending_space && !out->empty()) out->push_back(' ');
      pending_space = false;
      if (out->size() + (j - i) > cap) {
        std::size_t room = cap > out->size() ? cap - out->size() : 0;
        // Stop on a character boundary.
        while (room > 0 && (static_cast<unsigned char>(text[i + room]) & 0xC0) == 0x80) --room;
        out->append(text.data() + i, room);
        *truncated = true;
        return;
      }
      out->append(text.data() + i, j - i);
      i = j;
    }
  }
};

// The attributes open() reads. Only these are kept: parse_attributes() recognises their
// names as it reads them and decodes only their values (issue 17: every attribute's name and
// value were copied and lower-cased, then searched by name).
enum AttrSlot : int { kHidden, kStyle, kClass, kBgcolor, kBackground, kColor, kHref, kSrc, kAlt, kWidth, kHeight, kAttrSlots };

// The first attribute of each name counts (as a search of the tag's attribute list in order
// found it); `at[slot]` is its decoded value, nullptr when the tag has none.
struct KnownAttrs {
  const std::string* at[kAttrSlots] = {};
};

// The current tag's known attributes: one set of strings reused from tag to tag, so they keep
// their capacity.
struct Attributes {
  std::string values[kAttrSlots];
  KnownAttrs known;
};

// `len` bytes at `p` (len <= 8) as one little-endian number with ASCII letters lower-cased
// (| 0x20 per byte: exact for comparing with a name made of lower-case letters only, since a
// byte b has b | 0x20 == L for a letter L only when b is L or its upper case).
inline std::uint64_t lower_word(const char* p, std::size_t len) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < len; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]) | 0x20) << (8 * i);
  return v;
}
constexpr std::uint64_t word_of(std::string_view name) {  // a lower-case name, <= 8 bytes
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < name.size(); ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[i])) << (8 * i);
  return v;
}

// The slot of an attribute name (any case), -1 for the names open() does not read. The
// parser used to lower-case a name (its first 64 bytes) and compare it with these; every one
// is letters only and shorter than 64 bytes, so the answers are the same.
int attr_slot(const char* p, std::size_t len) {
  switch (len) {
    case 3: {
      const std::uint64_t w = lower_word(p, 3);
      return w == word_of("src") ? kSrc : w == word_of("alt") ? kAlt : -1;
    }
    case 4: return lower_word(p, 4) == word_of("href") ? kHref : -1;
    case 5: {
      const std::uint64_t w = lower_word(p, 5);
      if (w == word_of("style")) return kStyle;
      if (w == word_of("class")) return kClass;
      if (w == word_of("color")) return kColor;
      if (w == word_of("width")) return kWidth;
      return -1;
    }
    case 6: {
      const std::uint64_t w = lower_word(p, 6);
      return w == word_of("hidden") ? kHidden : w == word_of("height") ? kHeight : -1;
    }
    case 7: return lower_word(p, 7) == word_of("bgcolor") ? kBgcolor : -1;
    case 10:
      return lower_word(p, 8) == word_of("backgrou") && lower_word(p + 8, 2) == word_of("nd") ? kBackground : -1;
    default: return -1;
  }
}

int dimension(const std::string* v) {
  if (!v) return -1;
  const std::string_view t = trim(*v);
  if (t.empty() || t.find('%') != std::string_view::npos) return -1;
  std::string_view unit;
  const double n = leading_number(t, &unit);
  if (n < 0 || unit == "?" || n > 1e6) return -1;
  return static_cast<int>(n);
}

class Extractor {
 public:
  explicit Extractor(std::string_view html) : html_(html) {
    facts_.present = true;
    visible_ = {&facts_.visible_text, kMaxText, false, &facts_.truncated};
    hidden_ = {&facts_.hidden_text, kMaxText, false, &facts_.truncated};
  }

  HtmlFacts run() {
    prescan_styles();
    std::size_t i = 0;
    const std::size_t n = html_.size();
    while (i < n) {
      const std::size_t lt = html_.find('<', i);
      const std::size_t text_end = lt == std::string_view::npos ? n : lt;
      if (text_end > i) text(html_.substr(i, text_end - i));
      if (lt == std::string_view::npos) break;
      i = markup(lt);
    }
    return std::move(facts_);
  }

 private:
  void prescan_styles() {
    std::size_t i = 0;
    while ((i = ifind(html_, "<style", i)) != std::string_view::npos) {
      const auto gt = html_.find('>', i);
      if (gt == std::string_view::npos) break;
      auto end = ifind(html_, "</style", gt);
      if (end == std::string_view::npos) end = html_.size();
      collect_hidden_classes(html_.substr(gt + 1, end - gt - 1), hidden_classes_);
      i = end;
    }
  }

  bool hidden() const { return !stack_.empty() && stack_.back().hidden; }
  bool text_hidden() const { return !stack_.empty() && stack_.back().text_hidden(); }
  int current_link() const { return stack_.empty() ? -1 : stack_.back().link; }

  void text(std::string_view raw) {
    std::string_view decoded = raw;
    if (raw.find('&') != std::string_view::npos) {
      decode_entities(raw, true, text_scratch_);
      decoded = text_scratch_;
    }
    if (text_hidden()) {
      hidden_.add(decoded);
      return;
    }
    visible_.add(decoded);
    const int link = current_link();
    if (link >= 0) {
      std::string& t = facts_.links[static_cast<std::size_t>(link)].text;
      bool ignored = false;
      TextSink sink{&t, kMaxLinkText, link_pending_space_ && !t.empty(), &ignored};
      sink.add(decoded);
      link_pending_space_ = sink.pending_space;
    }
  }

  void separate() {  // a block boundary: words on both sides must not run together
    visible_.space();
    hidden_.space();
    link_pending_space_ = true;
  }

  // Handles the markup at html_[lt] == '<'; returns where scanning resumes.
  std::size_t markup(std::size_t lt) {
    const std::size_t n = html_.size();
    if (html_.compare(lt, 4, "<!--") == 0) {
      auto end = html_.find("-->", lt + 4);
      const std::size_t stop = end == std::string_view::npos ? n : end + 3;
      facts_.comment_bytes += stop - lt;
      return stop;
    }
    if (lt + 1 >= n) {
      text("<");
      return n;
    }
    const char next = html_[lt + 1];
    if (next == '!' || next == '?') {
      const auto gt = html_.find('>', lt);
      return gt == std::string_view::npos ? n : gt + 1;
    }
    const bool end_tag = next == '/';
    const std::size_t name_begin = lt + (end_tag ? 2 : 1);
    if (name_begin >= n || !text::is_alpha(html_[name_begin])) {
      text("<");
      return lt + 1;
    }
    std::size_t p = name_begin;
    while (p < n && (text::is_alpha(html_[p]) || text::is_digit(html_[p]) || html_[p] == ':' ||
                     html_[p] == '-' || html_[p] == '_'))
      ++p;
    std::string tag = text::lower(html_.substr(name_begin, std::min<std::size_t>(p - name_begin, 64)));
    Attributes& attrs = attrs_;
    attrs.known = KnownAttrs{};
    bool self_closing = false;
    bool complete = false;
    p = parse_attributes(p, attrs, self_closing, complete);
    if (!complete) return n;  // a tag cut by the end of input is dropped, as browsers do
    if (end_tag) {
      close(tag);
      return p;
    }
    ++facts_.tag_count;
    // (string_view comparisons: std::string == "literal" is an out-of-line compare() call)
    if (const std::string_view t = tag; t == "style" || t == "script" || t == "title") {
      auto end = ifind(html_, "</" + tag, p);
      if (end == std::string_view::npos) return n;
      const auto gt = html_.find('>', end);
      return gt == std::string_view::npos ? n : gt + 1;
    }
    open(tag, attrs, self_closing);
    return p;
  }

  std::size_t parse_attributes(std::size_t p, Attributes& attrs, bool& self_closing, bool& complete) {
    const std::size_t n = html_.size();
    std::size_t count = 0;  // attributes read so far
    while (p < n) {
      while (p < n && is_space(html_[p])) ++p;
      if (p >= n) break;
      if (html_[p] == '>') {
        complete = true;
        return p + 1;
      }
      if (html_[p] == '/') {
        self_closing = p + 1 < n && html_[p + 1] == '>';
        ++p;
        continue;
      }
      const std::size_t name_begin = p;
      while (p < n && !is_space(html_[p]) && html_[p] != '=' && html_[p] != '>' && html_[p] != '/') ++p;
      if (p == name_begin) {  // a stray '=' or similar
        ++p;
        continue;
      }
      // Beyond kMaxAttrs attributes are read (to skip them), not kept; so is every attribute
      // open() does not read, and a repeated one (the first counts).
      int slot = count < kMaxAttrs ? attr_slot(html_.data() + name_begin, p - name_begin) : -1;
      if (slot >= 0 && attrs.known.at[slot]) slot = -1;
      ++count;
      std::string* value = slot >= 0 ? &attrs.values[slot] : nullptr;
      if (value) value->clear();
      while (p < n && is_space(html_[p])) ++p;
      if (p < n && html_[p] == '=') {
        ++p;
        while (p < n && is_space(html_[p])) ++p;
        std::size_t vb = p, ve = p;
        if (p < n && (html_[p] == '"' || html_[p] == '\'')) {
          const char q = html_[p];
          vb = p + 1;
          const auto close = html_.find(q, vb);
          ve = close == std::string_view::npos ? n : close;
          p = close == std::string_view::npos ? n : close + 1;
        } else {
          while (p < n && !is_space(html_[p]) && html_[p] != '>') ++p;
          ve = p;
        }
        if (ve - vb > kMaxAttrValue) {
          ve = vb + kMaxAttrValue;
          facts_.truncated = true;
        }
        if (value) decode_entities(html_.substr(vb, ve - vb), false, *value);
      }
      if (value) attrs.known.at[slot] = value;
    }
    return n;
  }

  void close(const std::string& tag) {
    for (std::size_t k = stack_.size(); k-- > 0;) {
      if (stack_[k].tag != tag) continue;
      stack_.resize(k);
      if (!is_inline(tag)) separate();
      return;
    }
    if (!is_inline(tag)) separate();  // stray end tag: still a boundary ("</p>")
  }

  void open(const std::string& tag, const Attributes& attrs, bool self_closing) {
    if (!is_inline(tag)) separate();
    const std::string_view name = tag;  // compared inline (std::string == "x" is a call)
    if (name == "a") {  // an <a> inside an open <a>: browsers close the first one
      for (std::size_t k = stack_.size(); k-- > 0;)
        if (std::string_view(stack_[k].tag) == "a") {
          stack_.resize(k);
          break;
        }
    }
    Element e;
    e.tag = tag;
    e.hidden = hidden();
    const bool text_was_hidden = text_hidden();
    if (!stack_.empty()) {
      e.color = stack_.back().color;
      e.background = stack_.back().background;
    }
    e.link = current_link();

    const KnownAttrs& known = attrs.known;
    bool hides_itself = known.at[kHidden] != nullptr;
    StyleFacts style;
    if (const auto* s = known.at[kStyle]) style = style_facts(parse_declarations(*s));
    hides_itself = hides_itself || style.hides;
    if (const auto* cls = known.at[kClass]; cls && !hidden_classes_.empty()) {
      std::size_t s = 0;
      const std::string lc = text::lower(*cls);
      while (s < lc.size()) {
        while (s < lc.size() && is_space(lc[s])) ++s;
        std::size_t t = s;
        while (t < lc.size() && !is_space(lc[t])) ++t;
        if (t > s && std::find(hidden_classes_.begin(), hidden_classes_.end(), lc.substr(s, t - s)) != hidden_classes_.end())
          hides_itself = true;
        s = t;
      }
    }
    std::string background = style.background;
    if (background.empty())
      if (const auto* bg = known.at[kBgcolor]) background = normalise_color(*bg);
    if (!background.empty()) e.background = color_value(background);
    if (style.background_image || known.at[kBackground] != nullptr) e.background = -1;  // unknown
    std::string color = style.color;
    if (color.empty() && name == "font")
      if (const auto* c = known.at[kColor]) color = normalise_color(*c);
    if (!color.empty()) e.color = color_value(color);
    e.hidden = e.hidden || hides_itself;
    if (e.text_hidden() && !text_was_hidden) ++facts_.hidden_elements;
    if (!e.text_hidden()) {
      if (facts_.skeleton.size() + tag.size() + 1 <= kMaxSkeleton) {
        if (!facts_.skeleton.empty()) facts_.skeleton += ' ';
        facts_.skeleton += tag;
        facts_.skeleton_depth.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(stack_.size(), 255)));
      } else {
        facts_.truncated = true;
      }
    }

    if (name == "a") {
      if (const auto* href = known.at[kHref]) {
        if (facts_.links.size() < kMaxLinks) {
          HtmlLink link;
          link.href = std::string(trim(*href));
          link.hidden = e.text_hidden();
          e.link = static_cast<int>(facts_.links.size());
          facts_.links.push_back(std::move(link));
          link_pending_space_ = false;
        } else {
          facts_.truncated = true;
          e.link = -1;
        }
      } else {
        e.link = -1;
      }
    }
    if (name == "img") {
      if (facts_.images.size() < kMaxImages) {
        HtmlImage img;
        if (const auto* src = known.at[kSrc]) img.src = std::string(trim(*src));
        if (const auto* alt = known.at[kAlt]) img.alt = *alt;
        img.link = e.link;
        img.hidden = e.hidden;
        img.width = style.width >= 0 ? style.width : dimension(known.at[kWidth]);
        img.height = style.height >= 0 ? style.height : dimension(known.at[kHeight]);
        if (img.link >= 0) ++facts_.links[static_cast<std::size_t>(img.link)].images;
        facts_.images.push_back(std::move(img));
      } else {
        facts_.truncated = true;
      }
    }
    if (self_closing || is_void(tag)) return;
    if (stack_.size() >= kMaxStack) {
      facts_.truncated = true;
      return;
    }
    stack_.push_back(std::move(e));
  }

  std::string_view html_;
  HtmlFacts facts_;
  TextSink visible_{}, hidden_{};
  bool link_pending_space_ = false;
  std::vector<Element> stack_;
  std::vector<std::string> hidden_classes_;
  Attributes attrs_;                                  // the current tag's, reused
  std::string text_scratch_;                          // a text run with entities decoded
};

}  // namespace

HtmlFacts extract_html(std::string_view html) { return Extractor(html).run(); }

}  // namespace hdrscan::mime
