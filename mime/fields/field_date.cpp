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
#include <charconv>
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
using text::is_space;

constexpr std::size_t kMaxDateText = 256;
constexpr std::size_t kMaxTokens = 24;

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// 1..12 when the token starts with a month abbreviation ("Dec", "December"), else 0.
int month_number(std::string_view tok) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (tok.size() < 3 || tok.size() > 9) return 0;
  for (char c : tok)
    if (!is_alpha(c)) return 0;
  // The first three letters lower-cased, compared as one number with each month's (issue 17:
  // twelve iequals calls per token were visible in the Received date of every hop).
  auto key = [](char a, char b, char c) {
    return (static_cast<unsigned>(static_cast<unsigned char>(text::to_lower(a))) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(text::to_lower(b))) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(text::to_lower(c)));
  };
  static constexpr auto kKeys = [] {  // kMonths packed the same way (already lower case)
    std::array<unsigned, 12> keys{};
    for (std::size_t i = 0; i < 12; ++i)
      keys[i] = (static_cast<unsigned>(kMonths[i][0]) << 16) | (static_cast<unsigned>(kMonths[i][1]) << 8) |
                static_cast<unsigned>(kMonths[i][2]);
    return keys;
  }();
  const unsigned k = key(tok[0], tok[1], tok[2]);
  for (int i = 0; i < 12; ++i)
    if (k == kKeys[static_cast<std::size_t>(i)]) return i + 1;
  return 0;
}

bool is_weekday(std::string_view tok) {
  static constexpr std::array<std::string_view, 7> kDays{"mon", "tue", "wed", "thu",
                                                         "fri", "sat", "sun"};
  if (tok.size() < 3 || tok.size() > 9) return false;
  for (char c : tok)
    if (!is_alpha(c)) return false;
  for (auto d : kDays)
    if (text::iequals(tok.substr(0, 3), d)) return true;
  return false;
}

// Named zones: offset in minutes east of UTC.
std::optional<int> named_zone(std::string_view tok) {
  struct Zone {
    std::string_view name;
    int minutes;
  };
  static constexpr std::array<Zone, 12> kZones{{{"UT", 0},
                                                {"UTC", 0},
                                                {"GMT", 0},
                                                {"Z", 0},
                                                {"EST", -300},
                                                {"EDT", -240},
                                                {"CST", -360},
                                                {"CDT", -300},
                                                {"MST", -420},
                                                {"MDT", -360},
                                                {"PST", -480},
                                                {"PDT", -420}}};
  for (const auto& z : kZones)
    if (text::iequals(tok, z.name)) return z.minutes;
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
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

  // Split into tokens on whitespace and commas, dropping (nested) comments.
  std::array<std::string_view, kMaxTokens> tokens;
  std::size_t ntokens = 0;
  int depth = 0;
  std::size_t start = std::string_view::npos;
  auto flush = [&](std::size_t end) {
    if (start != std::string_view::npos && end > start && ntokens < kMaxTokens)
      tokens[ntokens++] = input.substr(start, end - start);
    start = std::string_view::npos;
  };
  for (std::size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c == '(') {
      flush(i);
      ++depth;
    } else if (c == ')') {
      flush(i);
      if (depth > 0) --depth;
    } else if (depth > 0) {
      continue;
    } else if (is_space(c) || c == ',') {
      flush(i);
    } else if (start == std::string_view::npos) {
      start = i;
    }
  }
  if (depth == 0) flush(input.size());

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
    auto tok = tokens[i];
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
