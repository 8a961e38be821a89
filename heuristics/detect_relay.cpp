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
             "FromEntityHeader: " + entity->value + "; AuthAs: " + authas->value);
  } else {
    out.pass("relay.hybrid_onprem_anonymous",
             entity ? "FromEntityHeader is " + entity->value : "no FromEntityHeader (consumer view strips it)");
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
    return;
  }
  struct Candidate { mime::IpAddress ip; const mime::HeaderField* f; };
  std::vector<Candidate> cands;
  // IP literals in the free text of every non-origin copy of `name`.
  auto add_from = [&](std::string_view name) {
    for (const auto* f : msg.headers.all(name)) {
      std::size_t idx = static_cast<std::size_t>(f - msg.headers.fields.data());
      if (in.route.zone_of(idx) == Zone::origin) continue;
      for (const auto& ip : ips_in_text(f->value)) cands.push_back({ip, f});
    }
  };
  const TenantHeaders& tenant = in.route.tenant;
  if (tenant.connecting.ip) cands.push_back({*tenant.connecting.ip, tenant.connecting_field});
  if (auto cip = tenant.verdict.get("CIP"))
    if (auto ip = mime::parse_ip(*cip)) cands.push_back({*ip, tenant.verdict_field});
  for (const auto& h : in.route.hops)
    if (h.hop.from_ip) cands.push_back({*h.hop.from_ip, &msg.headers.fields[h.field_index]});
  for (const auto* f : msg.headers.all("Received-SPF")) {
    auto spf = mime::parse_received_spf(f->value);
    if (auto ip = mime::parse_ip(spf.prop("client-ip"))) cands.push_back({*ip, f});
  }
  add_from("X-Sender-IP");
  add_from("X-Originating-IP");
  add_from("X-MS-Exchange-SkipListedInternetSender");
  add_from("X-MS-Exchange-ExternalOriginalInternetSender");
  add_from("X-MS-Exchange-Authentication-Results");
  for (const auto& c : cands) {
    if (const IpIndicator* hit = in.pack.match_connector_ip(c.ip)) {
      out.fire("relay.known_connector_ip", where_of(msg, c.f),
               c.ip.to_string() + " (list entry " + hit->text + ", " + hit->from.file + ":" +
                   std::to_string(hit->from.line) + ") in: " + c.f->value);
      return;
    }
  }
  out.pass("relay.known_connector_ip", "none of " + std::to_string(cands.size()) +
                                           " IPs seen in the route is on the connector list");
}

}  // namespace hdrscan::heuristics
