// route.cpp: segments the header block into administrative domains (see detectors.hpp).
// Rules, from what real Exchange Online mail shows (shared/docs/campaign.md section 2):
//   - exit: the topmost hop whose sending host is *.outbound.protection.outlook.com (by name,
//     rDNS or HELO), or whose sending IP is in Microsoft's outbound ranges while the receiving
//     host is not Microsoft's; everything above it, and it, is the receiving side;
//   - forwarded on: below that exit, a hop from *.outbound.protection.outlook.com into
//     *.mail.protection.outlook.com (another tenant's exit into the forwarding side) becomes the
//     exit, and the forwarding side joins the receiving side (a Microsoft receiver);
//   - tenant: the contiguous Microsoft hops below the exit; the lowest of them (whose receiving
//     host is *.mail.protection.outlook.com when there is one) is the entry hop, and its sending
//     IP/HELO is who connected to the tenant;
//   - origin: hops below the entry hop; Microsoft headers positioned there are not trusted.
#include <algorithm>

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

bool is_outbound_protection(const mime::ReceivedHop& h) {
  return mime::text::iends_with(h.from_host, ".outbound.protection.outlook.com") ||
         mime::text::iends_with(h.from_rdns, ".outbound.protection.outlook.com") ||
         mime::text::icontains(h.from_host, "outbound.protection.outlook.com");
}

bool is_microsoft_hop(const mime::ReceivedHop& h) {
  return h.microsoft_smtp_server || is_microsoft_host(h.by_host);
}

// Why a copy of the verdict header is not the sending tenant's outbound verdict ("" if it is).
std::string verdict_copy_problem(const mime::KeyValueList& kv, const Route& r, const TenantHeaders& t,
                                 const IndicatorPack& pack) {
  if (auto dir = kv.get("DIR"); dir && !mime::text::iequals(*dir, "OUT"))
    return "DIR:" + *dir + " (not the sending tenant's outbound verdict)";
  auto cip = kv.get("CIP");
  if (!cip || mime::text::trim(*cip).empty() || mime::text::trim(*cip) == "255.255.255.255") return "";
  auto ip = mime::parse_ip(mime::text::trim(*cip));
  if (!ip) return "CIP:" + *cip + " is not an address";
  // An internal hop's address (Microsoft's own or private) is how Exchange Online writes
  // mail submitted inside the tenant; only an outside address must be who connected.
  if (ip->is_private() || pack.is_microsoft(*ip)) return "";
  bool known = false, matches = false;
  if (r.entry_ip) known = true, matches = matches || *ip == *r.entry_ip;
  if (t.connecting.ip) known = true, matches = matches || *ip == *t.connecting.ip;
  if (known && !matches)
    return "CIP:" + *cip + " is not the address that connected to the tenant (" +
           (r.entry_ip ? r.entry_ip->to_string() : t.connecting.ip->to_string()) + ")";
  return "";
}

// "27 Oct 2021 08:16:46.5530 (UTC)" -> the RFC 5322 parser without the fraction.
std::optional<std::int64_t> parse_arrival_time(std::string_view v) {
  std::string s(v.substr(0, 200));
  std::size_t colon = s.rfind(':');
  if (colon != std::string::npos) {
    std::size_t dot = s.find('.', colon);
    if (dot != std::string::npos) {
      std::size_t e = dot + 1;
      while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
      s.erase(dot, e - dot);
    }
  }
  return mime::parse_rfc5322_date(s);
}

// Exchange Online's own time. X-MS-Exchange-CrossTenant-OriginalArrivalTime outside the
// origin zone first (it survives gateways that drop Exchange's Received lines), but a copy
// sits among the sender's own headers as easily as among Exchange's trailer stamps: when
// the tenant's Received hops carry a time, a copy more than a day away from it is not
// Exchange's (issue 14 item 6: a sender-written 2019 copy turned the ARC expectation off;
// recorded as not the tenant's) and the hops' time stands. Without a hop time the first
// parsable copy is taken (a known limit: nothing to check it against).
void set_exo_time(const mime::ParsedMessage& msg, Route& r) {
  constexpr std::int64_t kMaxSkew = 24 * 3600;  // entry hop and arrival stamp: seconds apart
  std::optional<std::int64_t> hop_time;
  std::string hop_source;
  // The tenant's own hops, lowest (entry) first, then the exit hop.
  int lo = r.entry_hop >= 0 ? r.entry_hop : r.exit_hop;
  for (int i = lo; i >= r.exit_hop && i >= 0 && !hop_time; --i) {
    if (auto t = r.hops[i].hop.time) {
      hop_time = t;
      hop_source = where_of(msg, &msg.headers.fields[r.hops[i].field_index]);
    }
  }
  for (const auto* f :
       fields_in_zones(msg, r, "X-MS-Exchange-CrossTenant-OriginalArrivalTime", kNotOrigin)) {
    auto t = parse_arrival_time(f->value);
    if (!t) continue;
    if (hop_time && (*t > *hop_time ? *t - *hop_time : *hop_time - *t) > kMaxSkew) {
      if (r.rejected_copies.size() < 8)
        r.rejected_copies.push_back(where_of(msg, f) + ": more than a day from the tenant's own hop (" + hop_source + ")");
      continue;
    }
    r.exo_time = t;
    r.exo_time_source = where_of(msg, f);
    return;
  }
  if (hop_time) {
    r.exo_time = hop_time;
    r.exo_time_source = hop_source;
  }
}

}  // namespace

bool is_microsoft_host(std::string_view host) {
  return mime::text::iends_with(host, ".outlook.com") || mime::text::iends_with(host, ".office365.com") ||
         mime::text::iends_with(host, ".outlook.office365.com") || mime::text::iends_with(host, ".microsoft.com") ||
         mime::text::iends_with(host, ".protection.outlook.com") || mime::text::iends_with(host, ".prod.outlook.com") ||
         mime::text::iends_with(host, ".exchangelabs.com");
}

Route analyze_route(const mime::ParsedMessage& msg, const IndicatorPack& pack) {
  Route r;
  const auto& fields = msg.headers.fields;
  constexpr std::size_t kMaxHops = 100;  // bound: real chains are < 30 hops
  // Room for every hop first (issue 17: growing the vector moved each parsed hop's strings
  // again, 1.7% of a scan of the ham-spam mbox).
  std::size_t received = 0;
  for (const auto& f : fields) received += mime::text::iequals(f.name, "received");
  r.hops.reserve(std::min(received, kMaxHops));
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string_view n = fields[i].name;
    if (!mime::text::iequals(n, "received")) continue;
    if (r.hops.size() >= kMaxHops) break;
    r.hops.push_back({mime::parse_received(fields[i].value), i});
    r.last_received_field = i;
  }
  for (std::size_t i = 0; i < r.hops.size(); ++i) {
    const auto& h = r.hops[i].hop;
    bool outbound = is_outbound_protection(h);
    if (!outbound && h.from_ip && !is_microsoft_host(h.by_host) && !h.microsoft_smtp_server) {
      // An IP in Microsoft's outbound ranges handing mail to a non-Microsoft host.
      if (pack.is_microsoft(*h.from_ip) && !h.from_ip->is_private()) outbound = true;
    }
    if (outbound) {
      r.exit_hop = static_cast<int>(i);
      break;
    }
  }
  if (r.exit_hop >= 0) {
    // Forwarded on out of Exchange Online (a mailbox rule, mailbox forwarding, a group with an
    // outside member): below the exit, among Exchange Online's hops and above the sending
    // tenant's entry, a hop from another tenant's outbound (*.outbound.protection.outlook.com)
    // into an EOP front end (*.mail.protection.outlook.com) is where the mail left the tenant
    // it was first sent from and reached the one that sent it on. Real forwarded copies
    // (docs/scoring.md, "Forwards") keep the forwarding side's delivery stamps and ARC set, as
    // the consumer view does: the lowest such hand-over is the sending tenant's exit, and the
    // forwarding side with everything above it is the receiving side (a Microsoft receiver).
    int handover = -1;
    for (std::size_t i = r.exit_hop + 1; i < r.hops.size(); ++i) {
      const auto& hh = r.hops[i].hop;
      if (!is_microsoft_hop(hh)) break;
      if (!mime::text::iends_with(hh.by_host, ".mail.protection.outlook.com")) continue;
      if (is_outbound_protection(hh)) {
        handover = static_cast<int>(i);
        continue;
      }
      if (hh.from_ip && !pack.is_microsoft(*hh.from_ip) && !hh.from_ip->is_private()) break;  // the entry
    }
    if (handover >= 0) {
      r.forward_exit_hop = r.exit_hop;
      r.exit_hop = handover;
    }
  }
  if (r.exit_hop >= 0) {
    r.left_exchange_online = true;
    const auto& exit = r.hops[r.exit_hop].hop;
    // Consumer view by host name only (see detectors.hpp).
    for (int i = 0; i <= r.exit_hop && !r.receiver_is_microsoft; ++i)
      r.receiver_is_microsoft = is_microsoft_host(r.hops[i].hop.by_host);
    r.egress_without_arc = pack.egress_without_arc_host(exit.by_host);
    int last_ms = -1;
    for (std::size_t i = r.exit_hop + 1; i < r.hops.size(); ++i) {
      if (!is_microsoft_hop(r.hops[i].hop)) break;
      last_ms = static_cast<int>(i);
      // The tenant's entry: the receiving host is EOP's front end and the sender is outside
      // Microsoft. Stop there even if older Microsoft-looking hops follow (forged or another
      // tenant's chain).
      const auto& hh = r.hops[i].hop;
      bool from_outside = hh.from_ip && !pack.is_microsoft(*hh.from_ip) && !hh.from_ip->is_private();
      if (mime::text::iends_with(hh.by_host, ".mail.protection.outlook.com") && from_outside) break;
    }
    r.entry_hop = last_ms;
    r.tenant_begin = r.hops[r.exit_hop].field_index;
    r.tenant_end = last_ms >= 0 ? r.hops[last_ms].field_index : r.tenant_begin;
    if (last_ms >= 0) {
      const auto& e = r.hops[last_ms].hop;
      r.entry_ip = e.from_ip;
      r.entry_helo = e.from_helo.empty() ? e.from_host : e.from_helo;
    }
  }
  if (r.left_exchange_online && r.entry_hop >= 0) {
    // An earlier pass: below the tenant's entry, the mail was already inside Exchange Online
    // (its hops, or a hop out of it): it went out to a gateway (DLP, signatures) and back in
    // through a connector, e.g. ../shared/corpus/dev_field_m365/linux-hwmon/00033.eml.
    for (std::size_t i = static_cast<std::size_t>(r.entry_hop) + 1; i < r.hops.size() && !r.earlier_pass; ++i)
      r.earlier_pass = is_outbound_protection(r.hops[i].hop) || is_microsoft_host(r.hops[i].hop.by_host);
  }
  // Tenant hops not visible (a receiver that dropped them): who connected to the tenant is
  // still recorded in the connecting-IP header the receiver stamped, or the verdict's CIP/H.
  TenantHeaders& t = r.tenant;
  if ((t.connecting_field = trusted_field(msg, r, "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp")))
    t.connecting = mime::parse_tenant_connecting_ip(t.connecting_field->value);
  if (r.left_exchange_online && !r.entry_ip && t.connecting.ip) {
    r.entry_ip = t.connecting.ip;
    r.entry_helo = t.connecting.helo;
  }
  // The tenant's headers: in the consumer view under the receiver's -Untrusted names first,
  // then (a receiver that kept them) under their own; at other receivers the reverse.
  auto names = [&](TenantHeader k) {
    auto first = pack.tenant_header_names(k, r.receiver_is_microsoft);
    for (auto n : pack.tenant_header_names(k, !r.receiver_is_microsoft))
      if (std::find(first.begin(), first.end(), n) == first.end()) first.push_back(n);
    return first;
  };
  for (auto name : names(TenantHeader::verdict)) {
    for (const auto* f : trusted_fields(msg, r, name)) {
      auto kv = mime::parse_key_value_list(f->value);
      std::string why = verdict_copy_problem(kv, r, t, pack);
      if (!why.empty()) {
        if (r.rejected_copies.size() < 8) r.rejected_copies.push_back(where_of(msg, f) + ": " + why);
        continue;
      }
      t.verdict_field = f;
      t.verdict = std::move(kv);
      break;
    }
    if (t.verdict_field) break;
  }
  // X-Microsoft-Antispam carries no direction: in the consumer view the plain name is the
  // receiver's own, so only the renamed copy is the tenant's.
  auto ms_names = r.receiver_is_microsoft ? pack.tenant_header_names(TenantHeader::ms_antispam, true)
                                          : names(TenantHeader::ms_antispam);
  for (auto name : ms_names) {
    auto fs = trusted_fields(msg, r, name);
    if (!fs.empty()) {
      t.ms_antispam_field = fs.front();
      break;
    }
  }
  // Same tenant on both sides: the receiving side is Exchange Online and its tenant
  // (X-MS-Exchange-CrossTenant-Id) is the tenant the mail was attributed to on entry. At a
  // third-party receiver both name the sender, so only the Exchange Online receiver counts;
  // at outlook.com the receiver's id is outlook.com's. EVERY copy the route trusts must name
  // that tenant: the receiver stamps its own copy below the sender's header block, so one
  // copy written by the sender among its own headers (issue 14 item 6: it would otherwise be
  // the topmost and turn the stripping judgement off) meets the receiver's different id.
  if (r.left_exchange_online && r.receiver_is_microsoft && !t.connecting.tenant_id.empty()) {
    const auto ids = trusted_fields(msg, r, "X-MS-Exchange-CrossTenant-Id");
    r.same_tenant_loop = !ids.empty() && std::all_of(ids.begin(), ids.end(), [&](const mime::HeaderField* f) {
      return mime::text::iequals(mime::text::trim(f->value), mime::text::trim(t.connecting.tenant_id));
    });
  }
  if (r.left_exchange_online) set_exo_time(msg, r);
  return r;
}

Zone Route::zone_of(std::size_t field_index) const {
  if (!left_exchange_online) return field_index > last_received_field ? Zone::trailer : Zone::receiving;
  if (field_index <= tenant_begin) return Zone::receiving;
  if (field_index <= tenant_end) return Zone::tenant;
  // Below the tenant's entry hop: the origin's hops, or the trailer (headers after the last
  // Received, where Exchange stamps its X-MS-* headers).
  if (field_index > last_received_field) return Zone::trailer;
  return entry_hop >= 0 && entry_hop + 1 < static_cast<int>(hops.size()) ? Zone::origin : Zone::tenant;
}

std::string Route::describe() const {
  if (hops.empty()) return "no Received headers";
  if (!left_exchange_online) {
    return std::to_string(hops.size()) + " hops; no hop from Exchange Online's outbound "
           "(not sent out of a Microsoft 365 tenant)";
  }
  std::string s = "receiving side: " + std::to_string(exit_hop + 1) + " hop(s)";
  s += receiver_is_microsoft ? " (Microsoft receiver: consumer view)" : " (third-party receiver)";
  if (forward_exit_hop >= 0)
    s += ", forwarded on out of Exchange Online (" + std::to_string(exit_hop - forward_exit_hop) +
         " hop(s) between its exit and the sending tenant's exit)";
  if (entry_hop >= 0) {
    s += "; sending Exchange Online tenant: " + std::to_string(entry_hop - exit_hop) + " hop(s)";
    s += ", entered from " + (entry_ip ? entry_ip->to_string() : std::string("?"));
    if (!entry_helo.empty()) s += " (" + entry_helo + ")";
    std::size_t older = hops.size() - static_cast<std::size_t>(entry_hop) - 1;
    if (older) s += "; origin: " + std::to_string(older) + " older hop(s)";
  } else {
    s += "; sending tenant hops not visible";
  }
  return s;
}

}  // namespace hdrscan::heuristics
