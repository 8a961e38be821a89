// features.cpp: grouping features of one parsed message (features.hpp). Pure; reads only the
// message's headers, its first text/html part's facts and its first text/plain part.
#include "mime/fields/features.hpp"

#include <algorithm>
#include <bit>

#include "mime/base64.hpp"
#include "mime/fields/fields.hpp"
#include "mime/net.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime {
namespace {

constexpr std::size_t kMaxToken = 24;
constexpr std::size_t kMaxWords = 2048;  // of the visible text, the first

// splitmix64's finaliser: spreads every input bit over the 64 output bits.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return mix(h);  // FNV's high bits are weak for short inputs
}

bool host_char(char c) {
  return text::is_alpha(c) || text::is_digit(c) || c == '-' || c == '.' || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The domain of an address-like value ("a@b.c", "<a@b.c>", or a bare "b.c" for smtp.mailfrom).
std::string domain_of(std::string_view v) {
  v = text::trim(text::bounded(v));
  if (v.find('@') != std::string_view::npos) return address_domain(v);
  std::string d = text::lower(v);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || !std::all_of(d.begin(), d.end(), host_char)) return {};
  return d;
}

std::string first_value(const ParsedMessage& msg, std::string_view name) {
  const HeaderField* f = msg.headers.first(name);
  return f ? std::string(f->decoded) : std::string();
}

std::string envelope_domain(const ParsedMessage& msg) {
  if (auto d = domain_of(extract_address(first_value(msg, "Return-Path"))); !d.empty()) return d;
  for (const HeaderField* f : msg.headers.all("Authentication-Results")) {
    const auto ar = parse_authentication_results(f->value);
    if (const auto* spf = ar.find("spf"))
      if (auto d = domain_of(spf->prop("smtp.mailfrom")); !d.empty()) return d;
  }
  for (const HeaderField* f : msg.headers.all("Received-SPF")) {
    const auto spf = parse_received_spf(f->value);
    if (auto d = domain_of(spf.prop("envelope-from")); !d.empty()) return d;
  }
  return {};
}

std::string tenant_of(std::string_view domain) {
  if (!text::iends_with(domain, ".onmicrosoft.com")) return {};
  return registrable_domain(domain);  // contoso.mail.onmicrosoft.com -> contoso.onmicrosoft.com
}

std::string tenant_name(const ParsedMessage& msg, const std::string& envelope,
                        const std::string& from) {
  const std::string candidates[] = {domain_of(first_value(msg, "X-OriginatorOrg")), envelope, from};
  for (const auto& c : candidates)
    if (auto t = tenant_of(c); !t.empty()) return t;
  for (const HeaderField* h : msg.headers.all("DKIM-Signature"))
    if (const auto d = find_tag(h->value, "d"))
      if (auto t = tenant_of(*d); !t.empty()) return t;
  return {};
}

void add_host(MessageFeatures& f, std::string_view url) {
  std::string host = url_host(url);
  if (host.empty() || f.url_hosts.size() >= kMaxUrlHosts) return;
  if (std::find(f.url_hosts.begin(), f.url_hosts.end(), host) != f.url_hosts.end()) return;
  std::string reg = registrable_domain(host);
  if (!reg.empty() &&
      std::find(f.url_domains.begin(), f.url_domains.end(), reg) == f.url_domains.end())
    f.url_domains.push_back(std::move(reg));
  f.url_hosts.push_back(std::move(host));
}


// ---- URLs and recipients

// An absolute http(s) URL as the record keeps it (features.hpp): scheme lower-cased, no
// blanks or control bytes, bounded; "" when it is not one.
std::string record_url(std::string_view raw) {
  std::string_view u = text::trim(text::bounded(raw));
  std::size_t scheme;
  if (text::istarts_with(u, "http://"))
    scheme = 4;
  else if (text::istarts_with(u, "https://"))
    scheme = 5;
  else
    return {};
  if (url_host(u).empty()) return {};
  for (const char c : u)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return {};
  std::string out = text::lower(u.substr(0, scheme));
  out.append(u.substr(scheme));
  return out;
}

// Cuts a URL longer than kMaxUrlBytes: its fragment, then its query; "" when still too long.
std::string bound_url(std::string u) {
  if (u.size() <= kMaxUrlBytes) return u;
  if (const auto hash = u.find('#'); hash != std::string::npos) u.resize(hash);
  if (u.size() > kMaxUrlBytes)
    if (const auto q = u.find('?'); q != std::string::npos) u.resize(q);
  return u.size() <= kMaxUrlBytes ? u : std::string();
}

bool plausible_address(std::string_view a) {
  const auto at = a.rfind('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size() || a.size() > 254) return false;
  for (const char c : a)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',' || c == '"')
      return false;
  const std::string_view dom = a.substr(at + 1);
  return std::all_of(dom.begin(), dom.end(), host_char) && dom.front() != '.';
}

// The recipient addresses as written (for redaction) in the order found: To, Cc,
// Delivered-To, X-Original-To, then Received "for" clauses; distinct in any case.
std::vector<std::string> recipient_addresses(const ParsedMessage& msg) {
  std::vector<std::string> out;
  auto add = [&](std::string a) {
    a = std::string(text::trim(a));
    if (out.size() >= kMaxRecipients || !plausible_address(a)) return;
    for (const auto& o : out)
      if (text::iequals(o, a)) return;
    out.push_back(std::move(a));
  };
  for (const char* name : {"To", "Cc", "Delivered-To", "X-Original-To"})
    for (const HeaderField* f : msg.headers.all(name))
      for (auto& a : extract_addresses(f->decoded, kMaxRecipients)) add(std::move(a));
  std::size_t hops = 0;
  for (const HeaderField* f : msg.headers.all("Received")) {
    if (++hops > 64 || out.size() >= kMaxRecipients) break;
    const ReceivedHop h = parse_received(f->value);
    if (!h.for_addr.empty()) add(extract_address(h.for_addr));
  }
  return out;
}

// Replaces each occurrence of `needle` (ASCII case ignored when `fold`) in `s`.
std::size_t replace_all(std::string& s, std::string_view needle, bool fold) {
  if (needle.size() < 4) return 0;
  auto find = [&](std::size_t from) {
    const std::string_view rest = std::string_view(s).substr(from);
    const std::size_t at = fold ? text::ifind(rest, needle) : rest.find(needle);
    return at == std::string_view::npos ? at : from + at;
  };
  std::size_t n = 0, from = 0, pos;
  std::string out;
  while ((pos = find(from)) != std::string_view::npos) {
    out.append(s, from, pos - from);
    out += kRecipientMark;
    from = pos + needle.size();
    ++n;
  }
  if (n) {
    out.append(s, from, std::string::npos);
    s = std::move(out);
  }
  return n;
}

bool url_start(std::string_view s, std::size_t i) {
  return text::istarts_with(s.substr(i), "http://") || text::istarts_with(s.substr(i), "https://");
}

// URLs written in plain text (the HTML part's come from its links and images): each one's
// host, and the URL itself to `urls` (candidates, a few times kMaxUrls).
void add_text_urls(MessageFeatures& f, std::string_view t, std::vector<std::string>& urls) {
  for (std::size_t i = 0;
       i < t.size() && (f.url_hosts.size() < kMaxUrlHosts || urls.size() < 4 * kMaxUrls); ++i) {
    if ((t[i] != 'h' && t[i] != 'H') || !url_start(t, i)) continue;
    std::size_t e = i;
    while (e < t.size() && !text::is_space(t[e]) && t[e] != '>' && t[e] != '"' && t[e] != ')') ++e;
    add_host(f, t.substr(i, e - i));
    if (urls.size() < 4 * kMaxUrls) urls.emplace_back(t.substr(i, e - i));
    i = e;
  }
}

// Hashes of the lower-cased word tokens of `t`, URLs dropped, a token holding a digit
// folded to "0", tokens over kMaxToken bytes dropped (no strings built: this runs on every
// analysed message).
std::vector<std::uint64_t> word_hashes(std::string_view t) {
  std::vector<std::uint64_t> out;
  const auto word_char = [](char c) {
    return text::is_alpha(c) || text::is_digit(c) || static_cast<unsigned char>(c) >= 0x80;
  };
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if ((c == 'h' || c == 'H' || c == 'w' || c == 'W') &&
        (url_start(t, i) || text::istarts_with(t.substr(i), "www."))) {
      while (i < t.size() && !text::is_space(t[i])) ++i;
      continue;
    }
    if (!word_char(c)) {
      ++i;
      continue;
    }
    std::uint64_t h = 1469598103934665603ull;
    bool digit = false;
    std::size_t e = i;
    for (; e < t.size() && word_char(t[e]); ++e) {
      digit = digit || text::is_digit(t[e]);
      h = (h ^ static_cast<unsigned char>(text::to_lower(t[e]))) * 1099511628211ull;
    }
    if (e - i <= kMaxToken) out.push_back(digit ? 0x30u : h);
    i = e;
  }
  return out;
}

// The distinct k-shingles of a token-hash sequence (fewer tokens than k: one shingle of all),
// each a 64-bit hash, sorted.
std::vector<std::uint64_t> shingles(const std::vector<std::uint64_t>& w, std::size_t k,
                                    std::uint64_t salt) {
  std::vector<std::uint64_t> out;
  if (w.empty()) return out;
  if (w.size() < k) k = w.size();
  out.reserve(w.size() - k + 1);
  for (std::size_t i = 0; i + k <= w.size(); ++i) {
    std::uint64_t h = salt;
    for (std::size_t j = 0; j < k; ++j) h = (h ^ w[i + j]) * 0x9e3779b97f4a7c15ull + j;
    h = mix(h);
    out.push_back(h);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The structure shingles of an HTML body: one per distinct root-to-element path of the
// visible elements (a hash of the tag names from the root down), so a repeated row, an
// optional footer row or a filler paragraph beside others adds nothing new, and the order of
// siblings does not matter; `img`, `br` and `wbr` leaves are left out (images are the layout's
// business below, line breaks are formatting).
std::vector<std::uint64_t> tree_paths(const HtmlFacts& html) {
  std::vector<std::uint64_t> out;
  std::vector<std::pair<int, std::uint64_t>> open;  // depth, path hash of the open ancestors
  const std::string_view sk = html.skeleton;
  std::size_t k = 0;
  for (std::size_t i = 0; i < sk.size(); ++k) {
    const auto sp = std::min(sk.find(' ', i), sk.size());
    const std::string_view tag = sk.substr(i, sp - i);
    i = sp + 1;
    const int depth = k < html.skeleton_depth.size() ? html.skeleton_depth[k] : 0;
    while (!open.empty() && open.back().first >= depth) open.pop_back();
    if (tag.empty() || tag == "img" || tag == "br" || tag == "wbr") continue;
    const std::uint64_t h = mix((open.empty() ? 0x5041ull : open.back().second) * 31 ^ fnv1a(tag));
    open.emplace_back(depth, h);
    out.push_back(h);
  }
  return out;
}

void fingerprint(const ParsedMessage& msg, MessageFeatures& f) {
  std::vector<std::uint64_t> structure;
  std::string_view text;
  std::string alts;
  if (msg.html.present) {
    structure = tree_paths(msg.html);
    // The layout: linked or plain images by a coarse size (a kit picks among banner sizes),
    // tracking pixels (2 px or less, optional in a kit) left out; whether images are linked,
    // not how many (one or two banners per message is the kit's own variation).
    std::size_t linked = 0;
    for (const auto& l : msg.html.links)
      if (!l.hidden && l.images > 0) structure.push_back(fnv1a("layout:link-with-images"));
    for (const auto& im : msg.html.images) {
      if (im.hidden) continue;
      if (im.link >= 0) ++linked;
      const bool dot = (im.width >= 0 && im.width <= 2) || (im.height >= 0 && im.height <= 2);
      if (!dot)
        structure.push_back(fnv1a(std::string("layout:img:") +
                                  (im.link >= 0 ? "linked" : "plain") +
                                  (im.width >= 100 || im.height >= 100 ? ":large" : ":small")));
      if (!im.alt.empty() && alts.size() < kFeatureTextBytes) (alts += ' ') += im.alt;
    }
    for (const auto& l : msg.html.links)
      if (!l.hidden && !l.text.empty() && alts.size() < kFeatureTextBytes) (alts += ' ') += l.text;
    structure.push_back(fnv1a(linked ? "layout:linked-images" : "layout:no-linked-images"));
    std::sort(structure.begin(), structure.end());
    structure.erase(std::unique(structure.begin(), structure.end()), structure.end());
    // The prose of an HTML body is its prominent text (image alts, link texts); its visible
    // text only when those are short: the campaign's visible word salad is random, its alts
    // and calls to action are the kit's.
    if (alts.size() < 64) text = msg.html.visible_text;
  } else if (const BodyPart* p = msg.first_text()) {
    text = p->text;
  }
  std::vector<std::uint64_t> w = word_hashes(text.substr(0, kFeatureTextBytes));
  if (w.size() > kMaxWords) w.resize(kMaxWords);
  const std::vector<std::uint64_t> wa = word_hashes(alts);
  w.insert(w.end(), wa.begin(), wa.end());
  const std::vector<std::uint64_t> prose = shingles(w, 3, 0x5458);
  SimHasher hs, ht;
  for (const auto s : structure) hs.add(s);
  for (const auto s : prose) ht.add(s);
  const double weight = structure.empty() || prose.empty()
                            ? 1.0
                            : std::min(1.0, static_cast<double>(structure.size()) /
                                                static_cast<double>(prose.size()));
  const std::uint64_t value = hs.value(&ht, weight);
  f.template_shingles = structure.size() + prose.size();
  f.template_hash = f.template_shingles ? value : 0;
}

}  // namespace

void SimHasher::add(std::uint64_t x) {
  for (int b = 0; b < 64; ++b) count[b] += static_cast<std::int32_t>((x >> b) & 1) * 2 - 1;
}

void SimHasher::add(std::string_view feature) { add(fnv1a(feature)); }

std::uint64_t SimHasher::value(const SimHasher* other, double weight) const {
  std::uint64_t out = 0;
  for (int b = 0; b < 64; ++b) {
    const double v = count[b] + (other ? weight * other->count[b] : 0.0);
    if (v > 0) out |= std::uint64_t{1} << b;
  }
  return out;
}

int hamming(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

std::string url_host(std::string_view url) {
  url = text::trim(text::bounded(url));
  std::size_t p;
  if (text::istarts_with(url, "http://"))
    p = 7;
  else if (text::istarts_with(url, "https://"))
    p = 8;
  else if (url.substr(0, 2) == "//")
    p = 2;
  else
    return {};
  std::string_view auth = url.substr(p);
  auth = auth.substr(0, std::min(auth.find_first_of("/?#\\"), auth.size()));
  if (const auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);
  if (!auth.empty() && auth.front() == '[') {  // IPv6 literal
    const auto close = auth.find(']');
    if (close == std::string_view::npos) return {};
    const auto ip = parse_ip(auth.substr(0, close + 1));
    return ip ? ip->to_string() : std::string();
  }
  if (const auto colon = auth.find(':'); colon != std::string_view::npos)
    auth = auth.substr(0, colon);
  std::string host = text::lower(auth);
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), host_char))
    return {};
  return host;
}

std::string sending_tenant_name(const ParsedMessage& msg) {
  return tenant_name(msg, envelope_domain(msg),
                     domain_of(extract_address(first_value(msg, "From"))));
}

std::size_t redact_addresses(std::string& s, const std::vector<std::string>& addresses) {
  std::size_t n = 0;
  for (const auto& a : addresses) {
    const auto at = a.rfind('@');
    if (at == std::string::npos) continue;
    n += replace_all(s, a, true);
    n += replace_all(s, a.substr(0, at) + "%40" + a.substr(at + 1), true);
    // Whole 3-byte groups only: what any encoding of a longer text starting with the address
    // holds, padding or not.
    for (const std::string& form : {a, text::lower(a)})
      for (const auto alphabet : {Base64Alphabet::standard, Base64Alphabet::url_safe})
        if (const std::string b = encode_base64(std::string_view(form).substr(0, form.size() / 3 * 3), false, alphabet);
            b.size() >= 8)
          n += replace_all(s, b, false);
  }
  return n;
}

MessageFeatures extract_features(const ParsedMessage& msg, Recipients recipients) {
  MessageFeatures f;
  f.envelope_domain = envelope_domain(msg);
  const std::string from_address = text::lower(extract_address(first_value(msg, "From")));
  f.from_domain = domain_of(from_address);
  f.tenant_name = tenant_name(msg, f.envelope_domain, f.from_domain);
  // URL candidates in the order features.hpp gives: visible links and images, hidden ones,
  // then the text part's.
  std::vector<std::string> urls;
  for (const bool hidden : {false, true}) {
    for (const auto& l : msg.html.links)
      if (l.hidden == hidden && urls.size() < 4 * kMaxUrls) urls.push_back(l.href);
    for (const auto& im : msg.html.images)
      if (im.hidden == hidden && urls.size() < 4 * kMaxUrls) urls.push_back(im.src);
  }
  for (const auto& l : msg.html.links) add_host(f, l.href);
  for (const auto& im : msg.html.images) add_host(f, im.src);
  if (const BodyPart* p = msg.first_text())
    add_text_urls(f, std::string_view(p->text).substr(0, kFeatureTextBytes), urls);
  if (const HeaderField* d = msg.headers.first("Date")) f.date = parse_rfc5322_date(d->value);
  f.subject = first_value(msg, "Subject");
  if (f.subject.size() > 998) f.subject.resize(998);
  fingerprint(msg, f);

  const std::vector<std::string> to = recipient_addresses(msg);
  std::vector<std::string> lowered;
  for (const auto& a : to) {
    lowered.push_back(text::lower(a));
    std::string d = address_domain(lowered.back());
    if (!d.empty() && std::find(f.recipient_domains.begin(), f.recipient_domains.end(), d) ==
                          f.recipient_domains.end())
      f.recipient_domains.push_back(std::move(d));
    f.from_is_recipient = f.from_is_recipient || lowered.back() == from_address;
  }
  if (recipients == Recipients::addresses) f.recipients = lowered;
  redact_addresses(f.subject, to);
  for (const auto& raw : urls) {
    if (f.urls.size() >= kMaxUrls) break;
    std::string u = record_url(raw);
    if (u.empty()) continue;
    redact_addresses(u, to);
    u = bound_url(std::move(u));
    if (!u.empty() && std::find(f.urls.begin(), f.urls.end(), u) == f.urls.end())
      f.urls.push_back(std::move(u));
  }
  return f;
}

}  // namespace hdrscan::mime
