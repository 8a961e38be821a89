// detect_relay.cpp: how the mail entered the sending tenant (connector relay) and whether an
// IP on the campaign's connector list did it. A connector relay is normal for legitimate
// hybrid mail (campaign.md section 2): these signals say HOW, never THAT; they carry modest
// weights capped as one family, and the campaign gate needs stripping evidence besides.
#include <cctype>

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

bool external(const IndicatorPack& pack, const std::optional<mime::IpAddress>& ip) {
  return ip && !ip->is_private() && !pack.is_microsoft(*ip);
}

}  // namespace

std::vector<mime::IpAddress> ips_in_text(std::string_view text, std::size_t max) {
  std::vector<mime::IpAddress> out;
  std::size_t i = 0;
  const std::size_t n = std::min<std::size_t>(text.size(), 4096);
  while (i < n && out.size() < max) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isxdigit(c) || c == ':') {
      std::size_t j = i;
      while (j < n && (std::isxdigit(static_cast<unsigned char>(text[j])) || text[j] == '.' || text[j] == ':')) ++j;
      std::string_view tok = text.substr(i, j - i);
      while (!tok.empty() && (tok.back() == '.' || tok.back() == ':')) tok.remove_suffix(1);
      if (tok.size() >= 7 && (tok.find('.') != std::string_view::npos || tok.find(':') != std::string_view::npos)) {
        if (auto ip = mime::parse_ip(tok)) out.push_back(*ip);
      }
      i = j + 1;
    } else {
      ++i;
    }
  }
  return out;
}

void detect_connector_relay(const DetectorInput& in, Findings& out) {
  const auto& msg = in.msg;
  // 1. OriginalAttributedTenantConnectingIp with a non-Microsoft IP.
  const TenantHeaders& tenant = in.route.tenant;
  if (const auto* f = tenant.connecting_field) {
    const auto& t = tenant.connecting;
    if (t.ok && external(in.pack, t.ip))
      out.fire("relay.tenant_connecting_ip", where_of(msg, f), f->value);
    else
      out.pass("relay.tenant_connecting_ip", "connecting IP is Microsoft's, private or unparsable: " + excerpt_of(f->value, 80));
  } else {
    out.pass("relay.tenant_connecting_ip", "no OriginalAttributedTenantConnectingIp header");
  }
  // 2. HybridOnPrem + AuthAs Anonymous (visible at a third-party receiver).
  auto* entity = trusted_field(in, "X-MS-Exchange-CrossTenant-FromEntityHeader");
  auto* authas = trusted_field(in, "X-MS-Exchange-CrossTenant-AuthAs");
  if (entity && authas && mime::text::lower(entity->value) == "hybridonprem" &&
      mime::text::lower(authas->value) == "anonymous") {
    out.fire("relay.hybrid_onprem_anonymous", where_of(msg, entity),
             "FromEntityHeader: " + std::string(entity->value) + "; AuthAs: " + std::string(authas->value));
  } else {
    out.pass("relay.hybrid_onprem_anonymous",
             entity ? "FromEntityHeader is " + std::string(entity->value) : "no FromEntityHeader (consumer view strips it)");
  }
  // 3. IPV:CAL / DIR:OUT with a non-Microsoft CIP in the tenant's verdict.
  if (const auto* f = tenant.verdict_field) {
    const auto& kv = tenant.verdict;
    auto ipv = kv.get("IPV"), dir = kv.get("DIR"), cip = kv.get("CIP");
    std::optional<mime::IpAddress> cip_ip = cip ? mime::parse_ip(*cip) : std::nullopt;
    bool cal = ipv && mime::text::lower(*ipv) == "cal";
    bool out_dir = dir && mime::text::lower(*dir) == "out";
    if ((cal || out_dir) && external(in.pack, cip_ip)) {
      std::string ex = "CIP:" + cip.value_or("") + ";IPV:" + ipv.value_or("") + ";DIR:" + dir.value_or("");
      out.fire("relay.antispam_cal", where_of(msg, f), ex);
    } else {
      out.pass("relay.antispam_cal", "tenant verdict has IPV:" + ipv.value_or("-") + " DIR:" + dir.value_or("-") +
                                         " CIP:" + cip.value_or("-"));
    }
    // The tenant's own filter called it spam, and the connector relayed it out anyway: a
    // legitimate hybrid tenant's outbound verdicts are NSPM (0 of 600 in the dev sets).
    std::string sfv = mime::text::lower(kv.get("SFV").value_or(""));
    int scl = -1;
    if (auto s = kv.get("SCL")) {
      try { scl = std::stoi(*s); } catch (...) { scl = -1; }
    }
    if ((sfv == "spm" || scl >= 5) && (cal || out_dir))
      out.fire("relay.tenant_judged_spam", where_of(msg, f),
               "SFV:" + kv.get("SFV").value_or("") + ";SCL:" + kv.get("SCL").value_or("") + ";DIR:" + dir.value_or(""));
    else
      out.pass("relay.tenant_judged_spam", "tenant verdict SFV:" + kv.get("SFV").value_or("-") + " SCL:" + kv.get("SCL").value_or("-"));
  } else {
    out.pass("relay.antispam_cal", "no sending-tenant antispam report to read");
    out.pass("relay.tenant_judged_spam", "no sending-tenant antispam report to read");
  }
  // 4. First hop into *.mail.protection.outlook.com from a non-Microsoft IP.
  const auto& r = in.route;
  if (r.entry_hop >= 0 && mime::text::iends_with(r.hops[r.entry_hop].hop.by_host, ".mail.protection.outlook.com") &&
      external(in.pack, r.entry_ip)) {
    const auto& f = msg.headers.fields[r.hops[r.entry_hop].field_index];
    out.fire("relay.first_hop_external", where_of(msg, &f), f.value);
  } else {
    out.pass("relay.first_hop_external", r.left_exchange_online ? "tenant entry hop is Microsoft-internal or not visible"
                                                                : "route does not show an Exchange Online tenant");
  }
  // 5. Enhanced Filtering headers.
  auto* ef = trusted_field(in, "X-MS-Exchange-SkipListedInternetSender");
  if (!ef) ef = trusted_field(in, "X-MS-Exchange-ExternalOriginalInternetSender");
  if (ef)
    out.fire("relay.enhanced_filtering", where_of(msg, ef), ef->value);
  else
    out.pass("relay.enhanced_filtering", "no Enhanced Filtering headers");
}

void detect_known_ips(const DetectorInput& in, Findings& out) {
  const auto& msg = in.msg;
  if (in.pack.connector_ips.empty()) {
    out.pass("relay.known_connector_ip", "indicator pack has no connector IPs");
    out.pass("relay.known_connector_ip_unconfirmed", "indicator pack has no connector IPs");
    return;
  }
  // `connecting`: the address that connected to the sending tenant (the connecting-IP
  // header, the verdict's CIP, the tenant's entry hop); anything else is where an IP was
  // merely mentioned (a sender can write X-Sender-IP; older hops are the origin's word).
  struct Candidate { mime::IpAddress ip; const mime::HeaderField* f; bool connecting; };
  std::vector<Candidate> cands;
  auto add_from = [&](std::string_view name) {
    for (const auto* f : fields_in_zones(msg, in.route, name, kNotOrigin))
      for (const auto& ip : ips_in_text(f->value)) cands.push_back({ip, f, false});
  };
  const Route& r = in.route;
  const TenantHeaders& tenant = r.tenant;
  if (tenant.connecting.ip) cands.push_back({*tenant.connecting.ip, tenant.connecting_field, true});
  if (auto cip = tenant.verdict.get("CIP"))
    if (auto ip = mime::parse_ip(*cip)) cands.push_back({*ip, tenant.verdict_field, true});
  if (r.entry_hop >= 0 && r.hops[r.entry_hop].hop.from_ip)
    cands.push_back({*r.hops[r.entry_hop].hop.from_ip, &msg.headers.fields[r.hops[r.entry_hop].field_index], true});
  for (const auto& h : r.hops)
    if (h.hop.from_ip) cands.push_back({*h.hop.from_ip, &msg.headers.fields[h.field_index], false});
  for (const auto* f : msg.headers.all("Received-SPF")) {
    auto spf = mime::parse_received_spf(f->value);
    if (auto ip = mime::parse_ip(spf.prop("client-ip"))) cands.push_back({*ip, f, false});
  }
  add_from("X-Sender-IP");
  add_from("X-Originating-IP");
  add_from("X-MS-Exchange-SkipListedInternetSender");
  add_from("X-MS-Exchange-ExternalOriginalInternetSender");
  add_from("X-MS-Exchange-Authentication-Results");
  std::string weak;  // the first match that does not confirm
  const Candidate* weak_at = nullptr;
  for (const auto& c : cands) {
    const IpIndicator* hit = in.pack.match_connector_ip(c.ip);
    if (!hit) continue;
    std::string entry = c.ip.to_string() + " (list entry " + hit->text + ", " + hit->from.file + ":" +
                        std::to_string(hit->from.line) + ")";
    std::string when;
    bool in_window = true;
    if (hit->window) {
      if (!r.exo_time) {
        in_window = false;
        when = "no Exchange Online time stamp to place it in the window " + hit->window->text;
      } else if (!hit->window->contains(*r.exo_time)) {
        in_window = false;
        when = "outside the window " + hit->window->text + " (" + r.exo_time_source + ")";
      } else {
        when = "inside the window " + hit->window->text + " (" + r.exo_time_source + ")";
      }
    }
    if (c.connecting && in_window && r.left_exchange_online) {
      out.fire("relay.known_connector_ip", where_of(msg, c.f),
               entry + " connected to the tenant" + (when.empty() ? "" : ", " + when) + "; in: " + std::string(c.f->value));
      out.pass("relay.known_connector_ip_unconfirmed", "confirmed (relay.known_connector_ip)");
      return;
    }
    if (!weak_at) {
      weak_at = &c;
      weak = entry + (c.connecting ? (r.left_exchange_online ? "" : ", route not out of Exchange Online")
                                   : ", not in a connecting position") +
             (when.empty() ? "" : ", " + when) + "; in: " + std::string(c.f->value);
    }
  }
  out.pass("relay.known_connector_ip", weak_at ? "a listed IP appears, but does not confirm: see "
                                                 "relay.known_connector_ip_unconfirmed"
                                               : "none of " + std::to_string(cands.size()) +
                                                     " IPs seen in the route is on the connector list");
  if (weak_at)
    out.fire("relay.known_connector_ip_unconfirmed", where_of(msg, weak_at->f), weak);
  else
    out.pass("relay.known_connector_ip_unconfirmed", "no listed IP in the route");
}

}  // namespace hdrscan::heuristics
