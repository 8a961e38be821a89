// field_date.cpp: lenient RFC 5322 date-time to Unix seconds (UTC), no locale, no libc time
// zone database: Date:, the tail of Received:, and whatever else carries a mail date.
// Accepts: optional weekday, day month year or asctime order (month day time year), 2- and
// 3-digit years (RFC 5322 obs-year), the Y2K-bug year "0102" (= 2002), one-digit minutes or
// seconds, AM/PM, "d-Mon-yyyy", "dd/mm/yyyy" (qmail-scanner; mm/dd when the day is > 12),
// "yyyy/mm/dd", numeric zones (+hhmm, +hh:mm) and the obs zones UT/UTC/GMT/Z/EST/EDT/CST/CDT/
// MST/MDT/PST/PDT; other alphabetic zones count as -0000 (RFC 5322 4.3); a missing zone is
// read as UTC. Comments "(UTC)" are skipped.
// Limits: looks at the first kMaxDateText characters only; years 1900..9999.
// Diagnostics: nullopt when day, month, year or hour:minute is missing or out of range.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "mime/text.hpp"
#include "mime/fields/fields.hpp"

namespace hdrscan::mime {
namespace {

using text::is_alpha;
using text::is_digit;

constexpr std::size_t kMaxDateText = 256;
constexpr std::size_t kMaxTokens = 24;

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// The first three letters of `tok`, lower-cased, packed into one number (issue 17: names
// compared as one integer each instead of one iequals call per candidate name).
// ASCII-only lower-casing as in text::to_lower (which is not constexpr).
constexpr unsigned lower_byte(char c) {
  const auto u = static_cast<unsigned>(static_cast<unsigned char>(c));
  return u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u;
}
constexpr unsigned key3(char a, char b, char c) {
  return (lower_byte(a) << 16) | (lower_byte(b) << 8) | lower_byte(c);
}
constexpr unsigned key3(std::string_view s) { return key3(s[0], s[1], s[2]); }

// 1..12 when the token starts with a month abbreviation ("Dec", "December"), else 0.
int month_number(std::string_view tok) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (tok.size() < 3 || tok.size() > 9) return 0;
  for (char c : tok)
    if (!is_alpha(c)) return 0;
  // The first three letters lower-cased, compared as one number with each month's (issue 17:
  // twelve iequals calls per token were visible in the Received date of every hop).
  static constexpr auto kKeys = [] {  // kMonths packed the same way
    std::array<unsigned, 12> keys{};
    for (std::size_t i = 0; i < 12; ++i) keys[i] = key3(kMonths[i]);
    return keys;
  }();
  const unsigned k = key3(tok);
  for (int i = 0; i < 12; ++i)
    if (k == kKeys[static_cast<std::size_t>(i)]) return i + 1;
  return 0;
}

bool is_weekday(std::string_view tok) {
  if (tok.size() < 3 || tok.size() > 9) return false;
  for (char c : tok)
    if (!is_alpha(c)) return false;
  switch (key3(tok)) {
    case key3("mon"): case key3("tue"): case key3("wed"): case key3("thu"):
    case key3("fri"): case key3("sat"): case key3("sun"):
      return true;
    default:
      return false;
  }
}

// Named zones: offset in minutes east of UTC. UT, UTC, GMT, Z, EST, EDT, CST, CDT, MST, MDT,
// PST, PDT in any case; nothing else (a longer token that starts like one is not one).
std::optional<int> named_zone(std::string_view tok) {
  if (tok.size() == 1) {
    if (tok[0] == 'Z' || tok[0] == 'z') return 0;
    return std::nullopt;
  }
  if (tok.size() == 2) {
    if (text::to_lower(tok[0]) == 'u' && text::to_lower(tok[1]) == 't') return 0;
    return std::nullopt;
  }
  if (tok.size() != 3) return std::nullopt;
  switch (key3(tok)) {
    case key3("utc"): case key3("gmt"): return 0;
    case key3("est"): return -300;
    case key3("edt"): return -240;
    case key3("cst"): return -360;
    case key3("cdt"): return -300;
    case key3("mst"): return -420;
    case key3("mdt"): return -360;
    case key3("pst"): return -480;
    case key3("pdt"): return -420;
    default: return std::nullopt;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

// Every caller passes 1-4 ASCII digits (checked by all_digits and a size bound), so the plain
// loop gives what std::from_chars gave, without its call (issue 17).
int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// "+hhmm", "-hhmm", "+hh:mm", "+hh" -> minutes east of UTC.
std::optional<int> numeric_zone(std::string_view tok) {
  if (tok.size() < 3 || (tok[0] != '+' && tok[0] != '-')) return std::nullopt;
  const int sign = tok[0] == '-' ? -1 : 1;
  auto digits = tok.substr(1);
  int hours = 0, minutes = 0;
  if (digits.size() == 4 && all_digits(digits)) {
    hours = to_int(digits.substr(0, 2));
    minutes = to_int(digits.substr(2, 2));
  } else if (digits.size() == 5 && digits[2] == ':' && all_digits(digits.substr(0, 2)) &&
             all_digits(digits.substr(3, 2))) {
    hours = to_int(digits.substr(0, 2));
    minutes = to_int(digits.substr(3, 2));
  } else if (digits.size() == 2 && all_digits(digits)) {
    hours = to_int(digits);
  } else {
    return std::nullopt;
  }
  if (hours > 23 || minutes > 59) return std::nullopt;
  return sign * (hours * 60 + minutes);
}

// "hh:mm[:ss][.fraction]" -> seconds of day components.
bool parse_time(std::string_view tok, int& h, int& m, int& s) {
  auto dot = tok.find('.');
  if (dot != std::string_view::npos) tok = tok.substr(0, dot);
  auto c1 = tok.find(':');
  if (c1 == std::string_view::npos) return false;
  auto hh = tok.substr(0, c1);
  auto rest = tok.substr(c1 + 1);
  auto c2 = rest.find(':');
  auto mm = rest.substr(0, c2);
  std::string_view ss = c2 == std::string_view::npos ? std::string_view{} : rest.substr(c2 + 1);
  // One-digit minutes or seconds ("16:54:6") come from broken mailers; read them anyway.
  if (hh.empty() || hh.size() > 2 || mm.empty() || mm.size() > 2 || !all_digits(hh) ||
      !all_digits(mm))
    return false;
  if (c2 != std::string_view::npos && (ss.empty() || ss.size() > 2 || !all_digits(ss)))
    return false;
  h = to_int(hh);
  m = to_int(mm);
  s = ss.empty() ? 0 : to_int(ss);
  return h <= 23 && m <= 59 && s <= 60;
}

// How the date tokenizer treats each byte: token bytes, separators (blanks and commas), and
// the comment parentheses.
enum class DateByte : std::uint8_t { ordinary, separator, open, close };
constexpr std::array<DateByte, 256> kDateBytes = [] {
  std::array<DateByte, 256> t{};
  for (unsigned char c : {' ', '\t', '\r', '\n', ','}) t[c] = DateByte::separator;
  t[static_cast<unsigned char>('(')] = DateByte::open;
  t[static_cast<unsigned char>(')')] = DateByte::close;
  return t;
}();

}  // namespace

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}


std::optional<std::int64_t> parse_rfc5322_date(std::string_view input) {
  if (input.size() > kMaxDateText) input = input.substr(0, kMaxDateText);

  // Split into tokens on whitespace and commas, dropping (nested) comments. One table look-up
  // per byte and a token's bytes passed over in one inner loop (issue 17: this loop was a
  // quarter of the date's instructions). Tokens as offsets, left uninitialised past ntokens
  // (input is at most kMaxDateText bytes, so 16 bits hold them).
  static_assert(kMaxDateText <= 0xFFFF);
  std::array<std::uint16_t, kMaxTokens> tok_begin, tok_len;
  std::size_t ntokens = 0;
  int depth = 0;
  const std::size_t n = input.size();
  for (std::size_t i = 0; i < n;) {
    const DateByte cls = kDateBytes[static_cast<unsigned char>(input[i])];
    if (cls == DateByte::ordinary && depth == 0) {
      const std::size_t start = i;
      while (++i < n && kDateBytes[static_cast<unsigned char>(input[i])] == DateByte::ordinary) {
      }
      if (ntokens < kMaxTokens) {
        tok_begin[ntokens] = static_cast<std::uint16_t>(start);
        tok_len[ntokens++] = static_cast<std::uint16_t>(i - start);
      }
      continue;
    }
    if (cls == DateByte::open) {
      ++depth;
    } else if (cls == DateByte::close) {
      if (depth > 0) --depth;
    }
    ++i;  // a separator, or any byte inside a comment
  }

  int day = -1, month = 0, year = -1, hour = -1, minute = 0, second = 0;
  std::optional<int> zone;   // numeric: wins over a name
  std::optional<int> named;  // a known zone name
  char meridiem = 0;         // 'a' or 'p' for "6:50:31 AM" (broken mailers)
  auto take_number = [&](std::string_view tok) {
    const int v = to_int(tok);
    if (tok.size() <= 2 && day < 0 && v >= 1 && v <= 31) {
      day = v;
    } else if (year < 0 && tok.size() <= 4) {
      // RFC 5322 4.3: 2-digit years 00-49 are 20xx, 50-99 are 19xx; 3-digit add 1900.
      if (tok.size() <= 2)
        year = v < 50 ? 2000 + v : 1900 + v;
      else if (tok.size() == 3)
        year = 1900 + v;
      else
        year = v < 1000 ? 1900 + v : v;  // "0102": a tm_year printed as %04d (Y2K bug)
    }
  };
  // "22/07/2002" (qmail-scanner writes dd/mm/yyyy), "2002/09/14"; mm/dd only when dd > 12.
  auto read_slashed = [&](std::string_view tok) {
    if (std::count(tok.begin(), tok.end(), '/') != 2) return;
    std::array<std::string_view, 3> parts;
    std::size_t n = 0, pos = 0;
    while (n < 3) {
      const auto slash = tok.find('/', pos);
      parts[n++] = tok.substr(pos, slash == std::string_view::npos ? tok.npos : slash - pos);
      if (slash == std::string_view::npos) break;
      pos = slash + 1;
    }
    if (n != 3) return;
    for (auto p : parts)
      if (!all_digits(p) || p.size() > 4) return;
    if (day >= 0 || month || year >= 0) return;
    int a = to_int(parts[0]), b = to_int(parts[1]), c = to_int(parts[2]);
    if (parts[0].size() == 4) {
      year = a, month = b, day = c;
    } else {
      if (b > 12 && a <= 12) std::swap(a, b);
      day = a, month = b;
      take_number(parts[2]);
    }
    if (month < 1 || month > 12) month = 0;
  };
  for (std::size_t i = 0; i < ntokens; ++i) {
    auto tok = input.substr(tok_begin[i], tok_len[i]);
    if (all_digits(tok)) {
      if (tok.size() <= 4) take_number(tok);
      continue;
    }
    if (tok.find(':') != std::string_view::npos && is_digit(tok[0])) {
      // "00:01+0000": a zone glued to the time.
      if (auto sign = tok.find_first_of("+-"); sign != std::string_view::npos) {
        if (!zone) zone = numeric_zone(tok.substr(sign));
        tok = tok.substr(0, sign);
      }
      int h, m, s;
      if (hour < 0 && parse_time(tok, h, m, s)) {
        hour = h;
        minute = m;
        second = s;
      }
      continue;
    }
    if (is_digit(tok[0]) && tok.find('/') != std::string_view::npos) {
      read_slashed(tok);
      continue;
    }
    if (tok[0] == '+' || tok[0] == '-') {
      if (!zone) zone = numeric_zone(tok);
      continue;
    }
    if (is_digit(tok[0]) && tok.find('-') != std::string_view::npos) {
      // "3-Dec-2021": split on '-' and read the pieces as separate tokens.
      std::size_t pos = 0;
      while (pos <= tok.size()) {
        auto dash = tok.find('-', pos);
        auto piece = tok.substr(pos, dash == std::string_view::npos ? tok.npos : dash - pos);
        if (all_digits(piece) && piece.size() <= 4)
          take_number(piece);
        else if (int mon = month_number(piece); mon && !month)
          month = mon;
        if (dash == std::string_view::npos) break;
        pos = dash + 1;
      }
      continue;
    }
    if (int mon = month_number(tok); mon) {
      if (!month) month = mon;
      continue;
    }
    if (is_weekday(tok)) continue;
    if (text::iequals(tok, "AM") || text::iequals(tok, "PM")) {
      meridiem = text::to_lower(tok[0]);
      continue;
    }
    // Unknown names ("CET", "MET DST") count as -0000 (RFC 5322 4.3): nothing to record.
    if (!named) named = named_zone(tok);
  }
  if (day < 1 || month < 1 || year < 1900 || year > 9999 || hour < 0) return std::nullopt;
  if (day > days_in_month(year, month)) return std::nullopt;
  if (meridiem && hour >= 1 && hour <= 12) hour = (hour % 12) + (meridiem == 'p' ? 12 : 0);
  if (!zone) zone = named;
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second - zone.value_or(0) * 60;
}

}  // namespace hdrscan::mime
