// net.hpp: IPv4/IPv6 addresses and CIDR ranges as value types, parsed without the resolver
// (no DNS ever). Used by the Received parser and by the indicator data.
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

}  // namespace hdrscan::mime
