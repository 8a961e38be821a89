// net.cpp: IPv4/IPv6 address and CIDR value types, parsed with inet_pton only (never the
// resolver, never DNS); registrable_domain over libpsl's built-in Public Suffix List.
// Limits: inputs longer than kMaxAddressText characters are rejected before parsing; an IPv6
// zone id ("fe80::1%4") is accepted and dropped; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes
// plain IPv4 so that one host compares equal whatever form a header used.
// registrable_domain uses psl_builtin(): the list compiled into libpsl, never a file, so the
// result depends only on the libpsl package (Debian 12: libpsl5 0.21.2-1, list of 2023-02-09),
// is the same in every process, and no message pays for I/O. A newer list on disk
// (/usr/share/publicsuffix) is ignored on purpose: scores must not change when that file does.
// Diagnostics: none; parse_ip/parse_cidr return nullopt, registrable_domain an empty string, on
// anything they do not accept.
#include "mime/net.hpp"

#include <arpa/inet.h>
#include <libpsl.h>

#include <charconv>
#include <cstring>

#include "mime/decode.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime {
namespace {

// Longest textual IPv6 with embedded IPv4 is 45 characters; brackets, "IPv6:" and a zone id
// add a little. Anything longer is not an address.
constexpr std::size_t kMaxAddressText = 96;

using text::istarts_with;
using text::trim;

bool is_mapped_v4(const std::array<std::uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

// Keeps the first `prefix` bits of `bytes`, zeroes the rest.
void mask_to_prefix(std::array<std::uint8_t, 16>& bytes, int prefix, int total_bits) {
  for (int bit = prefix; bit < total_bits; ++bit)
    bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
}

}  // namespace

std::string IpAddress::to_string() const {
  if (!v6) {
    std::string out;
    out.reserve(15);
    for (int i = 0; i < 4; ++i) {
      if (i) out += '.';
      out += std::to_string(bytes[i]);
    }
    return out;
  }
  // RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups
  // replaced by "::", the first such run when two are equally long.
  std::array<unsigned, 8> groups{};
  for (int i = 0; i < 8; ++i) groups[i] = (unsigned{bytes[2 * i]} << 8) | bytes[2 * i + 1];
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  std::string out;
  out.reserve(39);
  char hex[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    auto [end, ec] = std::to_chars(hex, hex + sizeof hex, groups[i], 16);
    (void)ec;
    out.append(hex, end);
  }
  return out;
}

bool IpAddress::is_private() const {
  const auto& b = bytes;
  if (!v6) {
    return b[0] == 10                               // RFC 1918
           || (b[0] == 172 && (b[1] & 0xf0) == 16)  // RFC 1918
           || (b[0] == 192 && b[1] == 168)          // RFC 1918
           || b[0] == 127                           // loopback
           || (b[0] == 169 && b[1] == 254)          // link-local
           || (b[0] == 100 && (b[1] & 0xc0) == 64)  // RFC 6598 shared (CGNAT)
           || b[0] == 0;                            // "this network"
  }
  bool all_zero_but_last = true;
  for (int i = 0; i < 15; ++i)
    if (b[i] != 0) all_zero_but_last = false;
  if (all_zero_but_last && (b[15] == 1 || b[15] == 0)) return true;  // ::1 and ::
  if ((b[0] & 0xfe) == 0xfc) return true;                            // ULA fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;            // link-local fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;            // old site-local fec0::/10
  return false;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  text = trim(text);
  if (text.size() > kMaxAddressText || text.empty()) return std::nullopt;
  if (text.front() == '[') {
    if (text.back() != ']') return std::nullopt;
    text = trim(text.substr(1, text.size() - 2));
  }
  bool v6_tagged = false;
  if (istarts_with(text, "IPv6:")) {
    text.remove_prefix(5);
    v6_tagged = true;
  }
  // inet_pton reads a C string: an embedded NUL would hide the rest of the text.
  if (text.empty() || text.find('\0') != std::string_view::npos) return std::nullopt;
  char buf[kMaxAddressText + 1];
  IpAddress ip;
  if (text.find(':') != std::string_view::npos) {
    if (auto zone = text.find('%'); zone != std::string_view::npos) {
      // A zone id names a local interface; it is no part of the address.
      if (zone + 1 == text.size()) return std::nullopt;
      text = text.substr(0, zone);
    }
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    ip.v6 = true;
    if (is_mapped_v4(ip.bytes)) {
      ip.v6 = false;
      std::array<std::uint8_t, 16> v4{};
      for (int i = 0; i < 4; ++i) v4[i] = ip.bytes[12 + i];
      ip.bytes = v4;
    }
    return ip;
  }
  if (v6_tagged) return std::nullopt;  // "IPv6:1.2.3.4" is not a valid literal
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  const int total_bits = base.v6 ? 128 : 32;
  const int bits = prefix < 0 ? 0 : (prefix > total_bits ? total_bits : prefix);
  // Whole bytes of the prefix, then its partial byte, then the bytes past the address's own
  // length (zero for v4): what masking both copies and comparing them all gave, without the
  // copies and the loop per bit (a visible cost on real mail, issue 17).
  const int full = bits / 8, rest = bits % 8, end = total_bits / 8;
  if (std::memcmp(ip.bytes.data(), base.bytes.data(), static_cast<std::size_t>(full)) != 0) return false;
  if (rest && ((ip.bytes[full] ^ base.bytes[full]) & (0xFF00u >> rest) & 0xFFu)) return false;
  return std::memcmp(ip.bytes.data() + end, base.bytes.data() + end, static_cast<std::size_t>(16 - end)) == 0;
}

std::string Cidr::to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

std::optional<Cidr> parse_cidr(std::string_view text) {
  text = trim(text);
  if (text.size() > kMaxAddressText + 4) return std::nullopt;
  const auto slash = text.find('/');
  auto address_part = text.substr(0, slash);
  const bool mapped_form = address_part.find(':') != std::string_view::npos;
  auto ip = parse_ip(address_part);
  if (!ip) return std::nullopt;
  Cidr cidr;
  cidr.base = *ip;
  const int total_bits = ip->v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    cidr.prefix = total_bits;
    return cidr;
  }
  auto prefix_text = trim(text.substr(slash + 1));
  int prefix = -1;
  auto [end, ec] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc{} || end != prefix_text.data() + prefix_text.size() || prefix_text.empty())
    return std::nullopt;
  // "::ffff:10.0.0.0/104" was written in 128-bit space but is now an IPv4 range.
  if (mapped_form && !ip->v6) {
    if (prefix < 96) return std::nullopt;
    prefix -= 96;
  }
  if (prefix < 0 || prefix > total_bits) return std::nullopt;
  cidr.prefix = prefix;
  // The base is kept canonical (host bits cleared) so to_string() names the range.
  mask_to_prefix(cidr.base.bytes, prefix, total_bits);
  return cidr;
}

namespace {

constexpr std::size_t kMaxHostName = 253;  // RFC 1035 2.3.4, without the trailing dot
constexpr std::string_view kTenantSuffix = ".onmicrosoft.com";
constexpr std::string_view kTenantRouting = ".mail.onmicrosoft.com";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string registrable_domain(std::string_view host) {
  host = text::trim(host);
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxHostName || parse_ip(host)) return {};
  std::string name;
  bool ascii = true;
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '[' || c == ']' || c == '@' || c == '/') return {};
    ascii = ascii && u < 0x80;
  }
  if (ascii) {
    name = text::lower(host);
  } else {  // an internationalized name in UTF-8: Unicode lower case, as libpsl expects
    const std::string copy(host);
    if (sanitize_utf8(copy) != copy) return {};  // not UTF-8: not a name
    char* lowered = nullptr;
    if (psl_str_to_utf8lower(copy.c_str(), "utf-8", nullptr, &lowered) != PSL_SUCCESS || !lowered) return {};
    name = lowered;
    psl_free_string(lowered);
  }
  // Microsoft 365 tenants: not on the PSL (checked against Debian's 2023 list and the upstream
  // list of 2026), but each <tenant>.onmicrosoft.com belongs to one tenant.
  if (name == kTenantSuffix.substr(1)) return {};  // onmicrosoft.com itself: a suffix here
  if (ends_with(name, kTenantSuffix)) {
    std::string_view rest(name);
    rest.remove_suffix(ends_with(name, kTenantRouting) ? kTenantRouting.size() : kTenantSuffix.size());
    if (rest.empty()) return {};  // ".onmicrosoft.com": no tenant label
    const auto dot = rest.rfind('.');
    return std::string(dot == std::string_view::npos ? rest : rest.substr(dot + 1)) + std::string(kTenantSuffix);
  }
  static const psl_ctx_t* const psl = psl_builtin();
  if (!psl) return name;  // libpsl built without a list: names compare whole (unit-tested not to happen)
  const char* reg = psl_registrable_domain(psl, name.c_str());
  return reg ? std::string(reg) : std::string();
}

}  // namespace hdrscan::mime
