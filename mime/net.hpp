// net.hpp: IPv4/IPv6 addresses and CIDR ranges as value types, parsed without the resolver
// (no DNS ever), and the registrable domain of a host name (Public Suffix List). Used by the
// Received parser, the indicator data and the sender detectors.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hdrscan::mime {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4 in the first 4 bytes
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
  bool is_private() const;   // RFC 1918, loopback, link-local, ULA, IPv6 ::1
};

// Accepts "1.2.3.4", "2603:10a6::31", "[1.2.3.4]", "IPv6:2603::1", "::ffff:1.2.3.4"
// (mapped v4 becomes v4). Returns nullopt on anything else.
std::optional<IpAddress> parse_ip(std::string_view text);

struct Cidr {
  IpAddress base;
  int prefix = 0;
  bool contains(const IpAddress& ip) const;
  std::string to_string() const;
};
// "40.92.0.0/15", "2a01:111:f400::/48", or a bare address (full-length prefix).
std::optional<Cidr> parse_cidr(std::string_view text);

// The registrable domain of a host name: its public suffix plus one label, lower-cased, from
// the Public Suffix List compiled into libpsl (ICANN and private sections, as DMARC's
// organizational domain uses it): "mail.bmw.de" -> "bmw.de", "foo.co.uk" -> "foo.co.uk",
// "a.b.example.com" -> "example.com", "x.github.io" -> "x.github.io". One addition the PSL
// lacks: every Microsoft 365 tenant owns its own name under onmicrosoft.com, so
// "contoso.onmicrosoft.com", "x.contoso.onmicrosoft.com" and the hybrid routing domain
// "contoso.mail.onmicrosoft.com" -> "contoso.onmicrosoft.com".
// Empty when there is none: an IP literal, a bare public suffix ("co.uk", "com"), a name
// longer than 253 bytes, or bytes that are not a host name. Pure: no file is read (the list
// is libpsl's built-in one; see net.cpp).
std::string registrable_domain(std::string_view host);

}  // namespace hdrscan::mime
