// field_lists.cpp: the list-shaped headers and addresses:
//   tag=value lists (DKIM-Signature, ARC-Seal, ARC-Message-Signature; RFC 6376 3.2),
//   KEY:VALUE; lists (X-Forefront-Antispam-Report, X-Microsoft-Antispam),
//   X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp,
//   mailbox extraction from From:/Return-Path:-like values and from address lists (To:, Cc:).
// Limits: reads at most text::kMaxFieldInput bytes of a value; at most kMaxItems items per
// list. Tag values lose all whitespace (FWS is not part of a DKIM tag value), so folded b= and
// h= come out whole. KEY:VALUE items split on the FIRST colon only (CIP:2603:10b6::1).
// Diagnostics: ok=false with a reason naming the first offending item ("duplicate tag 'd'",
// "tag without '='", "bad tag name", "no Ip= field", ...); what did parse is still returned.
#include <charconv>
#include <string>
#include <string_view>

#include "mime/text.hpp"
#include "mime/fields/fields.hpp"

namespace hdrscan::mime {
namespace {

using text::is_space;

constexpr std::size_t kMaxItems = 256;
constexpr std::size_t kMaxReasonQuote = 32;

// Calls fn(piece) for each `sep`-separated piece of `value`.
template <typename Fn>
void for_each_piece(std::string_view value, char sep, Fn&& fn) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto next = value.find(sep, pos);
    fn(value.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
}

bool valid_tag_name(std::string_view name) {
  if (name.empty() || !text::is_alpha(name.front())) return false;
  for (char c : name)
    if (!(text::is_alpha(c) || text::is_digit(c) || c == '_')) return false;
  return true;
}

std::string quote(std::string_view s) { return std::string(s.substr(0, kMaxReasonQuote)); }

std::string_view unbracket(std::string_view s) {
  s = text::trim(s);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']')
    s = text::trim(s.substr(1, s.size() - 2));
  return s;
}

// A tag value as a non-negative int (get_int).
std::optional<int> tag_int(const std::string& v) {
  if (v.empty()) return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

// `raw` without its blanks (FWS is not part of a tag value), copied a run of non-blanks at a
// time (a 344-character b= folded over a few lines is a handful of appends into one
// allocation, not 344 pushes).
std::string without_blanks(std::string_view raw) {
  std::string v;
  v.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    while (i < raw.size() && is_space(raw[i])) ++i;
    const std::size_t run = i;
    while (i < raw.size() && !is_space(raw[i])) ++i;
    v.append(raw.data() + run, i - run);
  }
  return v;
}

}  // namespace

// ---- tag=value lists ----------------------------------------------------------------------

const std::string* TagList::find(std::string_view tag) const {
  for (const auto& [k, v] : tags)
    if (k == tag) return &v;  // tag names are case-sensitive (RFC 6376 3.2)
  return nullptr;
}

std::optional<std::string> TagList::get(std::string_view tag) const {
  if (const std::string* v = find(tag)) return *v;
  return std::nullopt;
}

std::optional<int> TagList::get_int(std::string_view tag) const {
  const std::string* v = find(tag);
  return v ? tag_int(*v) : std::nullopt;
}

std::vector<std::string> TagList::header_list() const {
  std::vector<std::string> names;
  const std::string* h = find("h");
  if (!h) return names;
  for_each_piece(*h, ':', [&](std::string_view name) {
    name = text::trim(name);
    if (!name.empty() && names.size() < kMaxItems) names.emplace_back(name);
  });
  return names;
}

TagList parse_tag_list(std::string_view value) {
  TagList out;
  for_each_piece(text::bounded(value), ';', [&](std::string_view spec) {
    spec = text::trim(spec);
    if (spec.empty()) return;  // "a=1;" and ";;" are allowed
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos) {
      if (out.reason.empty()) out.reason = "tag without '=': '" + quote(spec) + "'";
      return;
    }
    const auto name = text::trim(spec.substr(0, eq));
    if (!valid_tag_name(name)) {
      if (out.reason.empty()) out.reason = "bad tag name '" + quote(name) + "'";
      return;
    }
    if (out.find(name)) {  // compared in place: no copy of the earlier value
      if (out.reason.empty()) out.reason = "duplicate tag '" + quote(name) + "'";
      return;
    }
    if (out.tags.size() >= kMaxItems) {
      if (out.reason.empty()) out.reason = "too many tags";
      return;
    }
    out.tags.emplace_back(std::string(name), without_blanks(spec.substr(eq + 1)));
  });
  if (out.tags.empty() && out.reason.empty()) out.reason = "no tags";
  out.ok = out.reason.empty();
  return out;
}

// One tag without the rest of the list. The first well-formed piece (a valid name, '=') named
// `tag` is the one parse_tag_list keeps (a later one is a refused duplicate), unless 256
// distinct tags stood before it; with fewer than 256 well-formed pieces before it, fewer
// distinct tags did, and beyond that the full parse decides.
std::optional<std::string_view> find_tag_raw(std::string_view value, std::string_view tag) {
  value = text::bounded(value);
  std::size_t well_formed = 0;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto next = value.find(';', pos);
    auto spec = text::trim(value.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    pos = next == std::string_view::npos ? value.size() + 1 : next + 1;
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = text::trim(spec.substr(0, eq));
    if (!valid_tag_name(name)) continue;
    if (name == tag) {
      if (well_formed >= kMaxItems && !parse_tag_list(value).find(tag)) return std::nullopt;
      return spec.substr(eq + 1);
    }
    ++well_formed;
  }
  return std::nullopt;
}

std::optional<std::string> find_tag(std::string_view value, std::string_view tag) {
  const auto raw = find_tag_raw(value, tag);
  if (!raw) return std::nullopt;
  return without_blanks(*raw);
}

std::optional<int> find_tag_int(std::string_view value, std::string_view tag) {
  const auto v = find_tag(value, tag);
  return v ? tag_int(*v) : std::nullopt;
}

// ---- KEY:VALUE; lists ---------------------------------------------------------------------

std::optional<std::string> KeyValueList::get(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (text::iequals(k, key)) return v;
  return std::nullopt;
}

KeyValueList parse_key_value_list(std::string_view value) {
  KeyValueList out;
  for_each_piece(text::bounded(value), ';', [&](std::string_view item) {
    item = text::trim(item);
    if (item.empty() || out.items.size() >= kMaxItems) return;
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      out.items.emplace_back(std::string(item), std::string());
      return;
    }
    out.items.emplace_back(std::string(text::trim(item.substr(0, colon))),
                           std::string(text::trim(item.substr(colon + 1))));
  });
  if (out.items.empty()) {
    out.reason = "no KEY:VALUE items";
    return out;
  }
  out.ok = true;
  return out;
}

// ---- OriginalAttributedTenantConnectingIp -------------------------------------------------

TenantConnectingIp parse_tenant_connecting_ip(std::string_view value) {
  TenantConnectingIp out;
  bool saw_ip = false;
  for_each_piece(text::bounded(value), ';', [&](std::string_view item) {
    item = text::trim(item);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return;
    const auto key = text::trim(item.substr(0, eq));
    const auto val = text::trim(item.substr(eq + 1));
    if (text::iequals(key, "TenantId") && out.tenant_id.empty()) {
      out.tenant_id = std::string(val);
    } else if (text::iequals(key, "Ip") && !saw_ip) {
      saw_ip = true;
      out.ip_text = std::string(unbracket(val));
      out.ip = parse_ip(out.ip_text);
    } else if (text::iequals(key, "Helo") && out.helo.empty()) {
      out.helo = std::string(unbracket(val));
    }
  });
  if (!saw_ip) {
    out.reason = "no Ip= field";
    return out;
  }
  if (!out.ip) {
    out.reason = "Ip= is not an IP address: '" + quote(out.ip_text) + "'";
    return out;
  }
  out.ok = true;
  return out;
}

// ---- addresses ----------------------------------------------------------------------------

std::string extract_address(std::string_view value) {
  value = text::bounded(value);
  // One pass over the first mailbox: skip quoted strings and comments; the first <...> wins;
  // otherwise the first word containing '@' (a group's "name:" is dropped). A top-level ','
  // ends the first mailbox unless it had no address at all (an empty group member).
  std::string bare;  // words of the mailbox outside quotes/comments, ' '-separated
  std::size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == '"') {
      ++i;
      while (i < value.size() && value[i] != '"') {
        if (value[i] == '\\') ++i;
        ++i;
      }
      ++i;
      bare += ' ';
      continue;
    }
    if (c == '(') {
      int depth = 1;
      ++i;
      while (i < value.size() && depth > 0) {
        if (value[i] == '\\')
          ++i;
        else if (value[i] == '(')
          ++depth;
        else if (value[i] == ')')
          --depth;
        ++i;
      }
      bare += ' ';
      continue;
    }
    if (c == '<') {
      const auto close = value.find('>', i + 1);
      auto inner = text::trim(value.substr(
          i + 1, close == std::string_view::npos ? std::string_view::npos : close - i - 1));
      // A source route "<@a,@b:user@host>" is obsolete but still legal.
      if (!inner.empty() && inner.front() == '@') {
        if (auto colon = inner.find(':'); colon != std::string_view::npos)
          inner = inner.substr(colon + 1);
      }
      if (text::istarts_with(inner, "mailto:")) inner.remove_prefix(7);
      return std::string(text::trim(inner));
    }
    if (c == ':' && bare.find('@') == std::string::npos) {
      bare.clear();  // "Group name:" (or "undisclosed-recipients:")
      ++i;
      continue;
    }
    if (c == ',' || c == ';') {
      if (bare.find('@') != std::string::npos) break;
      bare.clear();
      ++i;
      continue;
    }
    bare += is_space(c) ? ' ' : c;
    ++i;
  }
  // The word containing '@'; else the only word ("root" from "Return-Path: root").
  std::string_view words = bare;
  std::string_view first_word;
  std::size_t nwords = 0;
  std::size_t pos = 0;
  while (pos < words.size()) {
    while (pos < words.size() && words[pos] == ' ') ++pos;
    const auto start = pos;
    while (pos < words.size() && words[pos] != ' ') ++pos;
    if (pos == start) break;
    auto word = words.substr(start, pos - start);
    if (word.find('@') != std::string_view::npos) return std::string(word);
    if (nwords++ == 0) first_word = word;
  }
  return nwords == 1 ? std::string(first_word) : std::string();
}

std::vector<std::string> extract_addresses(std::string_view value, std::size_t max) {
  value = text::bounded(value);
  std::vector<std::string> out;
  // Mailboxes are split at the commas outside quoted strings, comments and <...>; each piece
  // is one mailbox (or a group's name and first member) for extract_address.
  std::size_t start = 0, i = 0;
  int depth = 0;
  bool quoted = false, angle = false;
  auto piece = [&](std::size_t end) {
    if (out.size() >= max) return;
    std::string a = extract_address(value.substr(start, end - start));
    if (a.find('@') != std::string::npos) out.push_back(std::move(a));
  };
  for (; i < value.size(); ++i) {
    const char c = value[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
    } else if (depth > 0) {
      if (c == '\\') ++i;
      else if (c == '(') ++depth;
      else if (c == ')') --depth;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      depth = 1;
    } else if (c == '<') {
      angle = true;
    } else if (c == '>') {
      angle = false;
    } else if (c == ',' && !angle) {
      piece(i);
      start = i + 1;
    }
  }
  piece(std::min(i, value.size()));
  return out;
}

std::string address_domain(std::string_view address) {
  std::string extracted;
  if (address.find('<') != std::string_view::npos || address.find('"') != std::string_view::npos) {
    extracted = extract_address(address);
    address = extracted;
  }
  address = text::trim(text::bounded(address));
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  auto domain = address.substr(at + 1);
  while (!domain.empty() &&
         (domain.back() == '>' || domain.back() == '.' || is_space(domain.back())))
    domain.remove_suffix(1);
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']')
    return std::string(domain);
  return text::lower(domain);
}

}  // namespace hdrscan::mime
