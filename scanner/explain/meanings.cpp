// meanings.cpp: the header-meaning table (see meanings.hpp): parser and lookups.
#include "scanner/explain/meanings.hpp"

#include <stdexcept>

#include "mime/text.hpp"

namespace hdrscan::scanner {
namespace {

namespace text = mime::text;

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const std::size_t tab = line.find('\t', start);
    const std::size_t n = tab == std::string_view::npos ? tab : tab - start;
    out.push_back(text::trim(line.substr(start, n)));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!text::is_digit(c)) return false;
  return !s.empty();
}

template <class T, class Same>
bool seen(const std::vector<T>& v, Same same) {
  for (const auto& e : v)
    if (same(e)) return true;
  return false;
}

}  // namespace

HeaderMeanings HeaderMeanings::parse(std::string_view all, std::vector<std::string>& errors) {
  HeaderMeanings m;
  bool format = false;
  std::string_view source;
  std::size_t line_no = 0;
  while (!all.empty()) {
    const std::size_t nl = all.find('\n');
    std::string_view line = all.substr(0, nl);
    all.remove_prefix(nl == std::string_view::npos ? all.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (text::trim(line).empty() || line.front() == '#') continue;
    auto bad = [&](const std::string& why) {
      errors.push_back("line " + std::to_string(line_no) + ": " + why);
    };
    if (line.starts_with("@format")) {
      format = text::trim(line.substr(7)) == "hdrscan-header-meanings 1";
      if (!format) bad("unknown @format (expected: hdrscan-header-meanings 1)");
      continue;
    }
    if (line.starts_with("@source")) {
      source = text::trim(line.substr(7));
      if (source.empty()) bad("@source without a text");
      continue;
    }
    if (!format) { bad("entry before @format hdrscan-header-meanings 1"); continue; }
    if (source.empty()) { bad("entry outside any @source"); continue; }
    const auto f = split_tabs(line);
    const std::string_view kind = f[0];
    std::size_t want = 0;
    if (kind == "antispam-header" || kind == "exchange-prefix") want = 2;
    else if (kind == "antispam-key" || kind == "exchange-header" || kind == "compauth-reason" ||
             kind == "compauth-class") want = 3;
    else if (kind == "antispam-value" || kind == "exchange-value") want = 4;
    if (want == 0) { bad("unknown kind '" + std::string(kind) + "'"); continue; }
    if (f.size() != want) {
      bad(std::string(kind) + " takes " + std::to_string(want - 1) + " TAB-separated fields, not " +
          std::to_string(f.size() - 1));
      continue;
    }
    bool empty = false;
    for (auto x : f) empty = empty || x.empty();
    if (empty) { bad("empty field"); continue; }
    auto dup = [&] { bad("repeats an earlier " + std::string(kind) + " entry"); };
    const std::string a(f[1]);
    if (kind == "antispam-header" || kind == "exchange-prefix") {
      auto& v = kind == "antispam-header" ? m.antispam_headers : m.exchange_prefixes;
      if (seen(v, [&](const std::string& e) { return text::iequals(e, a); })) { dup(); continue; }
      v.push_back(a);
    } else if (want == 3) {
      auto& v = kind == "antispam-key"      ? m.antispam_keys
                : kind == "exchange-header" ? m.exchange_headers
                : kind == "compauth-reason" ? m.compauth_reasons
                                            : m.compauth_classes;
      if (kind == "compauth-reason" && !(a.size() == 3 && all_digits(a))) {
        bad("compauth-reason CODE is three digits");
        continue;
      }
      if (kind == "compauth-class" && !(a.size() == 1 && all_digits(a))) {
        bad("compauth-class DIGIT is one digit");
        continue;
      }
      if (seen(v, [&](const Named& e) { return text::iequals(e.name, a); })) { dup(); continue; }
      v.push_back({a, std::string(f[2])});
    } else {
      auto& v = kind == "antispam-value" ? m.antispam_values : m.exchange_values;
      if (seen(v, [&](const Valued& e) {
            return text::iequals(e.name, a) && text::iequals(e.value, f[2]);
          })) {
        dup();
        continue;
      }
      v.push_back({a, std::string(f[2]), std::string(f[3])});
    }
  }
  if (!format && errors.empty()) errors.push_back("no @format hdrscan-header-meanings 1 line");
  return m;
}

const HeaderMeanings& HeaderMeanings::builtin() {
  static const HeaderMeanings m = [] {
    std::vector<std::string> errors;
    HeaderMeanings parsed = parse(header_meanings_text(), errors);
    if (!errors.empty())
      throw std::runtime_error("corpus/knowledge/header-meanings.tsv (built in): " + errors[0]);
    return parsed;
  }();
  return m;
}

std::string_view HeaderMeanings::key_meaning(std::string_view key) const {
  for (const auto& e : antispam_keys)
    if (text::iequals(e.name, key)) return e.text;
  return {};
}

std::string_view HeaderMeanings::value_meaning(std::string_view key, std::string_view value) const {
  for (const auto& e : antispam_values)
    if (text::iequals(e.name, key) && text::iequals(e.value, value)) return e.text;
  return {};
}

std::string_view HeaderMeanings::header_meaning(std::string_view name) const {
  for (const auto& e : exchange_headers)
    if (text::iequals(e.name, name)) return e.text;
  return {};
}

bool HeaderMeanings::exchange_family(std::string_view name) const {
  for (const auto& p : exchange_prefixes)
    if (text::istarts_with(name, p)) return true;
  return false;
}

std::string_view HeaderMeanings::exchange_value(std::string_view header,
                                                std::string_view value) const {
  for (const auto& e : exchange_values)
    if (text::iends_with(header, e.name) && text::iequals(value, e.value)) return e.text;
  return {};
}

std::string_view HeaderMeanings::compauth(std::string_view reason) const {
  if (reason.size() < 3) return {};
  for (const auto& e : compauth_reasons)
    if (reason.substr(0, 3) == e.name) return e.text;
  for (const auto& e : compauth_classes)
    if (reason[0] == e.name[0]) return e.text;
  return {};
}

}  // namespace hdrscan::scanner
