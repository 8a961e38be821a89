// text.hpp: the small ASCII text helpers every stage shares (header names and syntax are
// ASCII): case folding, case-insensitive comparison, trimming, bounding parser input. One
// place, so mime/, heuristics/ and scanner/ do not each grow their own copy.
// Limits: ASCII-only case folding (header syntax is ASCII; 8-bit bytes pass through as-is).
// Diagnostics: none; pure functions.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace hdrscan::mime::text {

// Every structured parser looks at no more than this much of a header value. Real values
// are a few KiB at most (a long ARC-Message-Signature is ~1 KiB); beyond this it is abuse.
inline constexpr std::size_t kMaxFieldInput = 64 * 1024;

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// C's isspace() in the "C" locale, without the locale: adds \v and \f to is_space (what
// configuration and audit values are trimmed of).
inline bool is_c_space(char c) { return is_space(c) || c == '\v' || c == '\f'; }

// `s` without the leading and trailing characters `is_blank` accepts: the one trimming loop.
// A reader whose syntax defines its own blanks passes them (HTML adds \f; a CSV field keeps
// its line feeds).
template <class IsBlank>
std::string_view trim_if(std::string_view s, IsBlank is_blank) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Header whitespace (is_space) trimmed.
inline std::string_view trim(std::string_view s) { return trim_if(s, is_space); }

inline std::string_view bounded(std::string_view s) {
  return s.size() > kMaxFieldInput ? s.substr(0, kMaxFieldInput) : s;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// Where `needle` first stands in `hay`, ASCII case ignored (npos: nowhere; an empty needle
// stands at 0).
inline std::size_t ifind(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

inline bool icontains(std::string_view hay, std::string_view needle) {
  return ifind(hay, needle) != std::string_view::npos;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = to_lower(c);
  return out;
}

}  // namespace hdrscan::mime::text
