// indicators.cpp: loader for the line-oriented indicator format (see indicators.hpp).
// Diagnostics: every problem throws IndicatorError naming "file:line: reason"; a file is
// loaded whole or not at all (entries go to a scratch pack first). Limits: lines over 8 KB
// and files over 64 MB are rejected; regexes are RE2 (linear time, no catastrophic
// backtracking on hostile headers).
#include "heuristics/indicators.hpp"
#include "heuristics/signature.hpp"
#include "mime/decode.hpp"
#include "mime/fields/fields.hpp"
#include "mime/text.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

namespace hdrscan::heuristics {
namespace {

using mime::text::trim;

// Splits off the first whitespace-delimited word.
std::string_view take_word(std::string_view& s) {
  s = trim(s);
  std::size_t e = s.find_first_of(" \t");
  std::string_view w = s.substr(0, e);
  s = e == std::string_view::npos ? std::string_view{} : trim(s.substr(e));
  return w;
}

// "YYYY-MM-DD" -> Unix seconds at 00:00 UTC.
std::optional<std::int64_t> parse_day(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  std::size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < lens[k]; ++i) {
      char c = d[starts[k] + i];
      if (c < '0' || c > '9') return std::nullopt;
      v[k] = v[k] * 10 + (c - '0');
    }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[0] < 1990 || v[0] > 2200) return std::nullopt;
  return mime::days_from_civil(v[0], v[1], v[2]) * 86400;
}

// "<from>..<to>", both inclusive days.
std::optional<DateWindow> parse_window(std::string_view w) {
  std::size_t dots = w.find("..");
  if (dots == std::string_view::npos) return std::nullopt;
  auto from = parse_day(w.substr(0, dots));
  auto to = parse_day(w.substr(dots + 2));
  if (!from || !to || *to < *from) return std::nullopt;
  return DateWindow{*from, *to + 86400, std::string(w)};
}

std::optional<TenantHeader> parse_tenant_header_kind(std::string_view k) {
  if (k == "arc-set") return TenantHeader::arc_set;
  if (k == "verdict") return TenantHeader::verdict;
  if (k == "ms-antispam") return TenantHeader::ms_antispam;
  return std::nullopt;
}

// YYYY-MM-DD with a plausible month and day (no calendar check: it is a label, not a time).
bool is_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace

bool valid_header_name(std::string_view n) {
  if (n.empty() || n.size() > 200) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != ':';
  });
}

std::string_view to_string(TenantHeader k) {
  switch (k) {
    case TenantHeader::arc_set: return "arc-set";
    case TenantHeader::verdict: return "verdict";
    case TenantHeader::ms_antispam: return "ms-antispam";
  }
  return "?";
}

IndicatorPack IndicatorPack::builtin() {
  IndicatorPack p;
  p.add_text(builtin_indicator_text(), "builtin");
  return p;
}

void IndicatorPack::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IndicatorError(path + ":0: cannot open indicator file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (64u << 20)) throw IndicatorError(path + ":0: indicator file larger than 64 MB");
  add_text(text, path);
}

void IndicatorPack::add_text(std::string_view text, const std::string& label) {
  IndicatorPack scratch;
  Stamp stamp{label, {}, {}};
  std::string source;
  std::optional<DateWindow> window;  // @window in force
  bool format_seen = false;
  int lineno = 0;
  auto fail = [&](const std::string& why) {
    throw IndicatorError(label + ":" + std::to_string(lineno) + ": " + why);
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineno;
    if (line.size() > 8192) fail("line longer than 8192 bytes");
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::string_view rest = line;
    std::string_view kind = take_word(rest);
    if (!format_seen) {
      if (kind != "@format" || trim(rest) != "hdrscan-indicators 1")
        fail("first line must be '@format hdrscan-indicators 1'");
      format_seen = true;
      continue;
    }
    if (kind == "@format") fail("@format given twice");
    if (kind == "@version") {
      if (rest.empty()) fail("@version needs a value");
      if (!stamp.version.empty()) fail("@version given twice");
      stamp.version = std::string(rest);
      continue;
    }
    if (kind == "@date") {
      if (!is_iso_date(rest)) fail("@date must be YYYY-MM-DD, not '" + std::string(rest) + "'");
      if (!stamp.date.empty()) fail("@date given twice");
      stamp.date = std::string(rest);
      continue;
    }
    if (kind == "@source") {
      if (rest.empty()) fail("@source needs a text");
      source = std::string(rest);
      window.reset();
      continue;
    }
    if (kind == "@window") {
      if (source.empty()) fail("@window before any @source line");
      window = parse_window(trim(rest));
      if (!window) fail("@window takes <YYYY-MM-DD>..<YYYY-MM-DD>");
      continue;
    }
    if (source.empty()) fail("entry before any @source line: every entry needs its provenance");
    Provenance from{label, lineno, source};
    if (kind == "connector-ip" || kind == "microsoft-range") {
      std::string_view v = take_word(rest);
      std::string_view w = take_word(rest);
      bool connector = kind == "connector-ip";
      if (v.empty() || !rest.empty() || (!w.empty() && !connector))
        fail(connector ? "connector-ip takes one IP or CIDR and an optional <from>..<to> window"
                       : "microsoft-range takes exactly one IP or CIDR");
      auto c = mime::parse_cidr(v);
      if (!c) fail("bad IP or CIDR '" + std::string(v) + "'");
      std::optional<DateWindow> win = connector ? window : std::nullopt;
      if (!w.empty() && !(win = parse_window(w))) fail("bad window '" + std::string(w) + "' (YYYY-MM-DD..YYYY-MM-DD)");
      (connector ? scratch.connector_ips : scratch.microsoft_ranges).push_back({*c, std::string(v), from, win});
    } else if (kind == "tenant-header") {
      auto k = parse_tenant_header_kind(take_word(rest));
      std::string_view name = take_word(rest);
      std::string_view consumer = take_word(rest);
      if (!k || !valid_header_name(name) || !rest.empty() ||
          (!consumer.empty() && (consumer.rfind("consumer=", 0) != 0 || !valid_header_name(consumer.substr(9)))))
        fail("tenant-header takes <arc-set|verdict|ms-antispam> <name> [consumer=<name>]");
      scratch.tenant_headers.push_back({*k, std::string(name),
                                        consumer.empty() ? std::string() : std::string(consumer.substr(9)), from});
    } else if (kind == "expect") {
      auto k = parse_tenant_header_kind(take_word(rest));
      std::string_view since = take_word(rest);
      std::string_view day = take_word(rest);
      auto t = parse_day(day);
      if (!k || since != "since" || !t || !rest.empty())
        fail("expect takes <arc-set|verdict|ms-antispam> since <YYYY-MM-DD>");
      scratch.expectations.push_back({*k, *t, std::string(day), from});
    } else if (kind == "link-rewriter") {
      std::string_view host = take_word(rest);
      std::string_view mode = take_word(rest);
      bool ok = !host.empty() && host.size() <= 253 && rest.empty() &&
                (mode == "proofpoint-v2" || mode == "proofpoint-v3" || mode == "opaque" ||
                 (mode.rfind("query=", 0) == 0 && mode.size() > 6));
      if (!ok) fail("link-rewriter takes <host-suffix> <query=<param>|proofpoint-v2|proofpoint-v3|opaque>");
      std::string m(mode), param;
      if (m.rfind("query=", 0) == 0) param = m.substr(6), m = "query";
      scratch.link_rewriters.push_back({mime::text::lower(host), m, param, from});
    } else if (kind == "egress-without-arc") {
      std::string_view host = take_word(rest);
      if (host.empty() || host.size() > 253 || !rest.empty()) fail("egress-without-arc takes one host name suffix");
      scratch.egress_without_arc.push_back({mime::text::lower(host), from});
    } else if (kind == "stripped-header" || kind == "stripped-prefix") {
      std::string_view v = take_word(rest);
      if (!valid_header_name(v) || !rest.empty()) fail("bad header name '" + std::string(v) + "'");
      (kind == "stripped-header" ? scratch.stripped_headers : scratch.stripped_prefixes)
          .push_back({mime::text::lower(v), from});
    } else if (kind == "lure-term") {
      if (rest.empty() || rest.size() > 200) fail("lure-term needs a word or phrase (max 200 bytes)");
      scratch.lure_terms.push_back({mime::text::lower(rest), from});
    } else if (kind == "bulk-header") {
      std::string_view family = take_word(rest);
      std::string_view spec = take_word(rest);
      if (family.empty() || spec.empty() || !rest.empty())
        fail("bulk-header takes <family> <header>[=<substring>]");
      std::size_t eq = spec.find('=');
      std::string_view hdr = spec.substr(0, eq);
      if (!valid_header_name(hdr)) fail("bad header name '" + std::string(hdr) + "'");
      scratch.bulk_headers.push_back({std::string(family), mime::text::lower(hdr),
                                      eq == std::string_view::npos ? "" : mime::text::lower(spec.substr(eq + 1)),
                                      from});
    } else if (kind == "header-rule") {
      std::string_view signal = take_word(rest);
      std::string_view weight = take_word(rest);
      std::string_view hdr = take_word(rest);
      if (signal.empty() || weight.empty() || hdr.empty() || rest.empty())
        fail("header-rule takes <signal> <weight> <header> <regex>");
      int w = 0;
      try {
        std::size_t used = 0;
        w = std::stoi(std::string(weight), &used);
        if (used != weight.size()) throw std::invalid_argument("x");
      } catch (...) {
        fail("bad weight '" + std::string(weight) + "'");
      }
      if (w < -100 || w > 100) fail("weight out of range -100..100");
      if (!valid_header_name(hdr)) fail("bad header name '" + std::string(hdr) + "'");
      RE2::Options o;
      o.set_log_errors(false);
      o.set_case_sensitive(false);
      auto re = std::make_shared<const RE2>(std::string(rest), o);
      if (!re->ok()) fail("bad regex: " + re->error());
      scratch.header_rules.push_back({std::string(signal), w, mime::text::lower(hdr), std::string(rest), re, from});
    } else if (kind == "dkim-key" || kind == "arc-seal-key") {
      const std::string k(kind);
      std::string_view name = take_word(rest);
      if (name.find("._domainkey.") == std::string_view::npos || rest.empty())
        fail(k + " takes <selector>._domainkey.<domain> <TXT record with p=...>");
      // p= from the TXT record: tags separated by ';', whitespace inside values ignored.
      std::string p64;
      std::size_t pp = std::string_view::npos, search = 0;
      while ((search = rest.find("p=", search)) != std::string_view::npos) {
        if (search == 0 || rest[search - 1] == ';' || rest[search - 1] == ' ' || rest[search - 1] == '\t') {
          pp = search;
          break;
        }
        search += 2;
      }
      if (pp == std::string_view::npos) fail(k + " record has no p= tag");
      for (std::size_t i = pp + 2; i < rest.size() && rest[i] != ';'; ++i)
        if (rest[i] != ' ' && rest[i] != '\t' && rest[i] != '"') p64.push_back(rest[i]);
      const std::optional<std::string> decoded = mime::decode_base64_exact(p64);
      if (!decoded || decoded->empty()) fail(k + " p= is not base64");
      const std::string& der = *decoded;
      auto key = PublicKey::decode(der);
      if (!key) fail(k + " p= is not a public key (SubjectPublicKeyInfo)");
      scratch.dkim_keys.push_back({mime::text::lower(name), std::move(key), from, kind == "arc-seal-key"});
    } else {
      fail("unknown entry kind '" + std::string(kind) + "'");
    }
  }
  if (!format_seen) {
    lineno = 1;
    fail("empty indicator file (no '@format hdrscan-indicators 1' line)");
  }
  auto append = [](auto& to, auto& from) { to.insert(to.end(), from.begin(), from.end()); };
  if (!stamp.version.empty() || !stamp.date.empty()) stamps.push_back(std::move(stamp));
  append(connector_ips, scratch.connector_ips);
  append(microsoft_ranges, scratch.microsoft_ranges);
  append(stripped_headers, scratch.stripped_headers);
  append(stripped_prefixes, scratch.stripped_prefixes);
  append(lure_terms, scratch.lure_terms);
  append(bulk_headers, scratch.bulk_headers);
  append(header_rules, scratch.header_rules);
  append(dkim_keys, scratch.dkim_keys);
  append(tenant_headers, scratch.tenant_headers);
  append(expectations, scratch.expectations);
  append(egress_without_arc, scratch.egress_without_arc);
  append(link_rewriters, scratch.link_rewriters);
  for (const auto& t : scratch.lure_terms) {
    std::string first = t.term.substr(0, t.term.find(' '));
    if (std::find(lure_words_.begin(), lure_words_.end(), first) != lure_words_.end()) continue;
    lure_first_word_max_ = std::max(lure_first_word_max_, first.size());
    lure_words_.push_back(std::move(first));
  }
  std::size_t n = 16;
  while (n < 4 * lure_words_.size()) n *= 2;
  lure_slots_.assign(n, {0, 0});
  lure_first_len_.fill(0);
  for (std::size_t i = 0; i < lure_words_.size(); ++i) {
    const std::string& w = lure_words_[i];
    if (!w.empty())
      lure_first_len_[static_cast<unsigned char>(w[0])] |= std::uint64_t{1} << std::min<std::size_t>(w.size(), 63);
    std::uint64_t h = kLureHashSeed;
    for (char c : lure_words_[i]) h = lure_hash_step(h, c);
    std::size_t k = h & (n - 1);
    while (lure_slots_[k].second) k = (k + 1) & (n - 1);
    lure_slots_[k] = {h, static_cast<int>(i) + 1};
  }
}

int IndicatorPack::lure_first_word(std::uint64_t hash, std::string_view word) const {
  if (lure_slots_.empty()) return -1;
  const std::size_t mask = lure_slots_.size() - 1;
  for (std::size_t k = hash & mask; lure_slots_[k].second; k = (k + 1) & mask) {
    if (lure_slots_[k].first != hash) continue;
    const std::string& w = lure_words_[static_cast<std::size_t>(lure_slots_[k].second - 1)];
    if (w.size() == word.size() && mime::text::iequals(w, word)) return lure_slots_[k].second - 1;
  }
  return -1;
}

const LinkRewriter* IndicatorPack::link_rewriter(std::string_view host) const {
  std::string h = mime::text::lower(host);
  for (const auto& e : link_rewriters)
    if (h == e.host || (h.size() > e.host.size() && h.ends_with(e.host) && h[h.size() - e.host.size() - 1] == '.'))
      return &e;
  return nullptr;
}

std::vector<std::string_view> IndicatorPack::tenant_header_names(TenantHeader kind, bool consumer) const {
  std::vector<std::string_view> out;
  for (const auto& t : tenant_headers) {
    if (t.kind != kind) continue;
    std::string_view name = consumer && !t.consumer_name.empty() ? t.consumer_name : t.name;
    // A name given twice (the built-in pack and an analyst's file) is looked for once.
    if (std::none_of(out.begin(), out.end(), [&](std::string_view o) { return mime::text::iequals(o, name); }))
      out.push_back(name);
  }
  return out;
}

const Expectation* IndicatorPack::expectation(TenantHeader kind) const {
  const Expectation* best = nullptr;
  for (const auto& e : expectations)
    if (e.kind == kind && (!best || e.since > best->since)) best = &e;  // the latest claim wins
  return best;
}

const NameIndicator* IndicatorPack::egress_without_arc_host(std::string_view host) const {
  std::string h = mime::text::lower(host);
  for (const auto& e : egress_without_arc)
    if (h == e.name || (h.size() > e.name.size() && h.ends_with(e.name) && h[h.size() - e.name.size() - 1] == '.'))
      return &e;
  return nullptr;
}

const IpIndicator* IndicatorPack::match_connector_ip(const mime::IpAddress& ip) const {
  for (const auto& c : connector_ips)
    if (c.range.contains(ip)) return &c;
  return nullptr;
}

bool IndicatorPack::is_microsoft(const mime::IpAddress& ip) const {
  for (const auto& c : microsoft_ranges)
    if (c.range.contains(ip)) return true;
  return false;
}

bool IndicatorPack::is_stripped_header(std::string_view name) const {
  std::string n = mime::text::lower(name);
  for (const auto& h : stripped_headers)
    if (h.name == n) return true;
  for (const auto& p : stripped_prefixes)
    if (n.rfind(p.name, 0) == 0) return true;
  return false;
}

const DkimKey* IndicatorPack::find_dkim_key(std::string_view selector, std::string_view domain) const {
  std::string want = mime::text::lower(selector) + "._domainkey." + mime::text::lower(domain);
  for (const auto& k : dkim_keys)
    if (!k.seal_only && k.name == want) return &k;
  return nullptr;
}

const DkimKey* IndicatorPack::find_seal_key(std::string_view selector, std::string_view domain) const {
  std::string want = mime::text::lower(selector) + "._domainkey." + mime::text::lower(domain);
  for (const auto& k : dkim_keys)
    if (k.name == want) return &k;
  return nullptr;
}

bool IndicatorPack::has_signature_keys() const {
  for (const auto& k : dkim_keys)
    if (!k.seal_only) return true;
  return false;
}

std::size_t IndicatorPack::size() const {
  return dkim_keys.size() + connector_ips.size() + microsoft_ranges.size() + stripped_headers.size() +
         stripped_prefixes.size() + lure_terms.size() + bulk_headers.size() + header_rules.size() +
         tenant_headers.size() + expectations.size() + egress_without_arc.size() + link_rewriters.size();
}

}  // namespace hdrscan::heuristics
