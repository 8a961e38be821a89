// detectors.hpp (internal to heuristics/): the route model and the detectors.
//
// Route: the header block segmented into administrative domains along the Received chain:
//   receiving side (top; its hop that took the mail from *.outbound.protection.outlook.com is
//   `exit_hop`), the sending Exchange Online tenant below it (down to `entry_hop`, where the
//   mail entered the tenant at *.mail.protection.outlook.com), and the origin below that.
// Headers are judged by the domain they sit in; copies of Microsoft headers in the origin zone
// (forged or replayed) are ignored, and the topmost copy of a Microsoft header is trusted.
// Which copy of the tenant's verdict is the tenant's (docs/scoring.md "What the detectors
// trust"): outside the origin zone (or in an earlier Exchange Online pass of the same mail),
// written for outbound mail (DIR:OUT or no DIR), and naming as CIP the address that connected
// to the tenant (or none / 255.255.255.255, as Exchange writes for internal submission).
// Copies that fail are recorded in `rejected_copies` and not used.
// Time: `exo_time` is when Exchange Online handled the mail, from its own stamps
// (X-MS-Exchange-CrossTenant-OriginalArrivalTime outside the origin zone, else the tenant's
// Received hops, else the exit hop); the Date: header and the origin's hops are never used.
//
// Detectors: one per signal family, each a pure function (DetectorInput) -> evidence and
// checks (fired or not, and why). No I/O.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "heuristics/indicators.hpp"
#include "mime/fields/fields.hpp"
#include "mime/message.hpp"
#include "mime/text.hpp"

namespace hdrscan::heuristics {

struct RouteHop {
  mime::ReceivedHop hop;
  std::size_t field_index = 0;  // position of the Received field in the header block
};

enum class Zone { receiving, tenant, origin, trailer };

// A set of zones, for fields_in_zones.
struct ZoneSet {
  unsigned bits = 0;
  constexpr ZoneSet(std::initializer_list<Zone> zones) {
    for (Zone z : zones) bits |= 1u << static_cast<unsigned>(z);
  }
  constexpr bool has(Zone z) const { return (bits >> static_cast<unsigned>(z)) & 1u; }
};
// Where the receiver's and the tenant's headers are believed: anywhere but the origin zone
// (copies there are the origin's word, forged or replayed).
inline constexpr ZoneSet kNotOrigin{Zone::receiving, Zone::tenant, Zone::trailer};
inline constexpr ZoneSet kAnyZone{Zone::receiving, Zone::tenant, Zone::origin, Zone::trailer};

// The sending tenant's own headers, found (topmost copy outside the origin zone) and parsed
// once per message; every detector reads them from here.
struct TenantHeaders {
  const mime::HeaderField* connecting_field = nullptr;  // ...-OriginalAttributedTenantConnectingIp
  mime::TenantConnectingIp connecting;
  // The tenant's verdict, by view: in the consumer view the receiver renamed it "-Untrusted";
  // at a third-party receiver it keeps its name.
  const mime::HeaderField* verdict_field = nullptr;     // X-Forefront-Antispam-Report(-Untrusted)
  mime::KeyValueList verdict;
  const mime::HeaderField* ms_antispam_field = nullptr; // X-Microsoft-Antispam(-Untrusted)
};

struct Route {
  std::vector<RouteHop> hops;  // topmost first
  int exit_hop = -1;           // receiving side's hop from *.outbound.protection.outlook.com
  int entry_hop = -1;          // the sending tenant's first hop (into mail.protection.outlook.com)
  // Forwarded on (route.cpp): the topmost exit out of Exchange Online, above the sending
  // tenant's own exit (`exit_hop`, the hand-over into the forwarding side); -1 when not.
  int forward_exit_hop = -1;
  bool left_exchange_online = false;
  // Consumer view: an Exchange Online host (by name) received the mail from Exchange Online
  // (outlook.com, another tenant). "with Microsoft SMTP Server" alone is also what
  // on-premises Exchange writes, so it does not make a consumer view.
  bool receiver_is_microsoft = false;
  // Below the tenant's entry hop, the mail had already left Exchange Online once (out to a
  // gateway or signature service and back): the tenant's ARC set and verdict from that
  // earlier pass sit in the origin zone and count.
  bool earlier_pass = false;
  // The receiving side is Exchange Online and its tenant (X-MS-Exchange-CrossTenant-Id) is
  // the sending tenant: mail that looped back into its own tenant (through a gateway such as
  // Tessian, e.g. real list mail re-sent from the mailbox); stripping is not judged.
  bool same_tenant_loop = false;
  std::optional<std::int64_t> exo_time;  // Unix seconds, UTC
  std::string exo_time_source;           // "X-MS-Exchange-CrossTenant-OriginalArrivalTime[0]", ...
  std::vector<std::string> rejected_copies;  // "<where>: <why>"
  const NameIndicator* egress_without_arc = nullptr;  // exit into a smart host that gets no ARC
  std::optional<mime::IpAddress> entry_ip;  // who connected to the sending tenant
  std::string entry_helo;
  // Field-index bounds of the sending tenant's zone: (tenant_begin, tenant_end).
  std::size_t tenant_begin = 0, tenant_end = 0;
  std::size_t last_received_field = 0;
  TenantHeaders tenant;
  Zone zone_of(std::size_t field_index) const;
  std::string describe() const;
};

Route analyze_route(const mime::ParsedMessage& msg, const IndicatorPack& pack);

struct DetectorInput {
  const mime::ParsedMessage& msg;
  const IndicatorPack& pack;
  const Route& route;
};

class Findings {
 public:
  // Records a fired signal with the table weight (or `weight_override` for rule signals).
  void fire(std::string_view signal, std::string where, std::string_view excerpt,
            std::optional<int> weight_override = std::nullopt);
  void pass(std::string_view signal, std::string why);  // checked, did not fire
  std::vector<Evidence> evidence;
  std::vector<SignalCheck> checks;
  std::vector<std::string> rejected;  // header copies a detector would not trust: "<where>: <why>"
  bool fired(std::string_view signal) const;
};

void detect_connector_relay(const DetectorInput& in, Findings& out);
void detect_known_ips(const DetectorInput& in, Findings& out);
void detect_stripping(const DetectorInput& in, Findings& out);
void detect_body(const DetectorInput& in, Findings& out);
void detect_sender(const DetectorInput& in, Findings& out);
void detect_bulk(const DetectorInput& in, Findings& out);
void detect_integrity(const DetectorInput& in, Findings& out);
void detect_header_rules(const DetectorInput& in, Findings& out);

// Shared helpers.
std::string excerpt_of(std::string_view s, std::size_t max = 160);
std::string where_of(const mime::ParsedMessage& msg, const mime::HeaderField* f);
// The fields named `name` (ASCII case-insensitive) whose route zone is in `zones`, topmost
// first, at most `max`: the one route-zone filter every detector reads headers through.
std::vector<const mime::HeaderField*> fields_in_zones(
    const mime::ParsedMessage& msg, const Route& route, std::string_view name, ZoneSet zones,
    std::size_t max = std::numeric_limits<std::size_t>::max());
// Every field named `name` the route lets count, topmost first: outside the origin zone, and
// in it too when the mail made an earlier Exchange Online pass.
std::vector<const mime::HeaderField*> trusted_fields(const mime::ParsedMessage& msg, const Route& route,
                                                     std::string_view name);
// The topmost field named `name` not in the origin zone (forged/replayed copies ignored).
const mime::HeaderField* trusted_field(const mime::ParsedMessage& msg, const Route& route, std::string_view name);
inline const mime::HeaderField* trusted_field(const DetectorInput& in, std::string_view name) {
  return trusted_field(in.msg, in.route, name);
}
bool is_microsoft_host(std::string_view host);

}  // namespace hdrscan::heuristics

namespace hdrscan::heuristics {
// IP tokens in free text ("sender IP is 1.2.3.4", "ip=[...]", bare literals), at most `max`.
std::vector<mime::IpAddress> ips_in_text(std::string_view text, std::size_t max = 8);
// detect_body's lure first-word scan (detect_body.cpp; here for its unit test): adds to
// `found` (once each) the index in pack.lure_first_words() of every lure first word that
// occurs as a whole word of `s`, and to `at` every occurrence (the index, `s` from there on).
void find_lure_words(std::string_view s, const IndicatorPack& pack, std::vector<int>& found,
                     std::vector<std::pair<int, std::string_view>>& at);

}  // namespace hdrscan::heuristics
