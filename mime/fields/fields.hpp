// fields.hpp: structured parsers for the headers the detectors read. Each returns a plain
// value with `ok` and a `reason` when it could not make sense of the input (rspamd style);
// none throws, none allocates more than a bound proportional to its input.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mime/net.hpp"

namespace hdrscan::mime {

// One Received: header. "from A (B [ip])" / "from A (ip)" / Microsoft "from A (ip) by B (ip)
// with Microsoft SMTP Server (...) id 15.20.x via Frontend Transport; date".
struct ReceivedHop {
  bool ok = false;
  std::string reason;          // why not ok
  std::string from_host;       // name after "from" (HELO as the receiver recorded it)
  std::string from_rdns;       // reverse name in the comment, when given ("unknown" kept as is)
  std::string from_helo;       // HELO/EHLO the comment records explicitly (exim "helo=x", qmail
                               // "(HELO x)", vger "\"EHLO x\""); empty when from_host is it
  std::optional<IpAddress> from_ip;
  std::string by_host;
  std::optional<IpAddress> by_ip;
  std::string with;            // protocol: ESMTP, ESMTPS, SMTP, "Microsoft SMTP Server", LMTP...
  std::string id;
  std::string for_addr;
  std::string via;             // "Frontend Transport", "mapi"...
  std::string date_text;       // after the last ';'
  std::optional<std::int64_t> time;  // Unix seconds, UTC, when the date parsed
  bool microsoft_smtp_server = false;  // "with Microsoft SMTP Server"
  bool frontend_transport = false;     // "via Frontend Transport"
};
ReceivedHop parse_received(std::string_view value);

// RFC 5322 date-time (lenient: missing weekday, 2-digit years, named zones, extra spaces).
std::optional<std::int64_t> parse_rfc5322_date(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (used by every date parser here and in
// the audit reader).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

// Authentication-Results / ARC-Authentication-Results.
struct AuthMethodResult {
  std::string method;   // spf, dkim, dmarc, arc, compauth...
  std::string result;   // pass, fail, none, softfail...
  std::string reason;   // reason=... or the comment after the result
  std::vector<std::pair<std::string, std::string>> props;  // smtp.mailfrom=..., header.d=...
  std::string prop(std::string_view key) const;
};
struct AuthenticationResults {
  bool ok = false;
  std::string reason;
  std::optional<int> instance;  // i=N for ARC-Authentication-Results
  std::string authserv_id;
  std::vector<AuthMethodResult> results;
  const AuthMethodResult* find(std::string_view method) const;
};
AuthenticationResults parse_authentication_results(std::string_view value);

// tag=value lists: DKIM-Signature, ARC-Seal, ARC-Message-Signature.
struct TagList {
  bool ok = false;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> tags;  // whitespace removed from values
  std::optional<std::string> get(std::string_view tag) const;
  // The value of `tag` in place (nullptr: absent); valid while this TagList lives unchanged.
  const std::string* find(std::string_view tag) const;
  std::optional<int> get_int(std::string_view tag) const;
  // h= split on ':' and trimmed, in order.
  std::vector<std::string> header_list() const;
};
TagList parse_tag_list(std::string_view value);
// One tag of a tag list without building the others (for callers that read one or two tags
// of a field): find_tag is parse_tag_list(value).get(tag) and find_tag_int
// parse_tag_list(value).get_int(tag) in every case; find_tag_raw is the same value as
// written in `value`, its inner blanks (folds) not removed.
std::optional<std::string_view> find_tag_raw(std::string_view value, std::string_view tag);
std::optional<std::string> find_tag(std::string_view value, std::string_view tag);
std::optional<int> find_tag_int(std::string_view value, std::string_view tag);

// KEY:VALUE; lists (X-Forefront-Antispam-Report, X-Microsoft-Antispam). Each pair is split on
// its FIRST colon only, so IPv6 values survive. Keys without a colon are kept with empty value.
struct KeyValueList {
  bool ok = false;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> items;
  std::optional<std::string> get(std::string_view key) const;  // key match case-insensitive
};
KeyValueList parse_key_value_list(std::string_view value);

// X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp: TenantId=…;Ip=[…];Helo=[…]
struct TenantConnectingIp {
  bool ok = false;
  std::string reason;
  std::string tenant_id;
  std::optional<IpAddress> ip;
  std::string ip_text;
  std::string helo;
};
TenantConnectingIp parse_tenant_connecting_ip(std::string_view value);

// Received-SPF: result word and key=value pairs (client-ip, helo, envelope-from...).
struct ReceivedSpf {
  bool ok = false;
  std::string reason;          // why not ok
  std::string result;          // lower-cased: pass, fail, softfail, neutral, none, ...
  std::string comment;         // the parenthesised explanation after the result
  std::vector<std::pair<std::string, std::string>> props;
  std::string prop(std::string_view key) const;
};
ReceivedSpf parse_received_spf(std::string_view value);

// Addresses: "Name <a@b>" -> a@b; the domain part lower-cased.
std::string extract_address(std::string_view value);
std::string address_domain(std::string_view address);
// Every address of an address-list value (To:, Cc:; groups and display names dropped), in
// order, at most `max`; pieces without an '@' are left out.
std::vector<std::string> extract_addresses(std::string_view value, std::size_t max);

}  // namespace hdrscan::mime
