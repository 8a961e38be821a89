// detect_sender.cpp: the sender's shape. The campaign sent from random-looking
// *.onmicrosoft.com envelope senders with From domains unrelated to the tenant, failing
// composite authentication. The envelope is read where the sending tenant recorded it (its
// X-MS-Exchange-Authentication-Results / Received-SPF), not from Return-Path alone: mailing
// lists rewrite Return-Path (a collection artefact, campaign.md section 3).
#include <cctype>
#include <cstring>

#include "heuristics/detectors.hpp"
#include "mime/net.hpp"

namespace hdrscan::heuristics {
namespace {

// The tenant label of x.onmicrosoft.com looks generated: letters then many digits
// ("mar20593117"). Measured on real mail (2026-12): the onmicrosoft labels in dev_relays'
// real relay spam carry 8 digits (66), 5 (4) or fewer (20, mostly letters only); legitimate
// tenants in dev_field_m365 and the field negatives carry 0-3 (1,300+), and 4-7 in 34, of
// which 20 are GoDaddy's reseller tenants "NETORG<digits>"/"NETORGFT<digits>" (excluded).
// So: 5+ digits, not a NETORG tenant. Weak evidence (3 points): the residue of legitimate
// tenants named like "knightsucfedu39751" is accepted.
bool random_onmicrosoft(std::string_view domain) {
  std::string d = mime::text::lower(domain);
  const std::string suffix = ".onmicrosoft.com";
  if (d.size() <= suffix.size() || d.compare(d.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  // The tenant's own name: mime::registrable_domain knows the tenant layout
  // ("x.contoso.onmicrosoft.com", "contoso.mail.onmicrosoft.com" -> contoso).
  const std::string tenant = mime::registrable_domain(d);
  if (tenant.size() <= suffix.size()) return false;
  const std::string label = tenant.substr(0, tenant.size() - suffix.size());
  int digits = 0;
  for (char c : label) digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  if (label.rfind("netorg", 0) == 0) return false;
  return label.size() >= 6 && digits >= 5;
}

// The organization a domain belongs to, to compare From with the envelope: its registrable
// domain (Public Suffix List, mime/net.hpp); a name without one (an IP literal, a bare
// suffix) stands for itself.
std::string org_domain(std::string_view domain) {
  std::string reg = mime::registrable_domain(domain);
  if (!reg.empty()) return reg;
  std::string d = mime::text::lower(mime::text::trim(domain));
  while (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

// A machine-generated local part: several letter/digit alternations ("4r3pe3nxk068"), many
// case changes ("XRcuFgvHBmKwYEr"), or a long letter run with almost no vowels ("ujgomfmhgb").
// "john1985", "newsletter", "platform-driver-x86-owner" are not.
bool random_local_part(std::string_view local) {
  if (auto plus = local.find('+'); plus != std::string_view::npos) local = local.substr(0, plus);
  if (local.size() < 8 || local.size() > 64) return false;
  // A long run of digits is a per-message counter or token ("info.75050187").
  int digit_run = 0;
  for (char ch : local) {
    digit_run = std::isdigit(static_cast<unsigned char>(ch)) ? digit_run + 1 : 0;
    if (digit_run >= 7) return true;
  }
  int alternations = 0, case_changes = 0, vowels = 0, letters = 0;
  for (std::size_t i = 0; i < local.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(local[i]);
    if (!std::isalnum(c)) return false;
    if (std::isalpha(c)) {
      ++letters;
      if (std::strchr("aeiouAEIOU", c)) ++vowels;
    }
    if (i > 0) {
      unsigned char p = static_cast<unsigned char>(local[i - 1]);
      if (std::isdigit(c) != std::isdigit(p)) ++alternations;
      if (std::isalpha(c) && std::isalpha(p) && (std::isupper(c) != 0) != (std::isupper(p) != 0)) ++case_changes;
    }
  }
  if (alternations >= 3 || (alternations == 2 && local.size() >= 10)) return true;
  if (case_changes >= 4) return true;
  return letters >= 8 && letters == static_cast<int>(local.size()) && vowels * 4 < letters;
}

struct AuthView {
  const mime::HeaderField* field = nullptr;
  mime::AuthenticationResults ar;
};

}  // namespace

void detect_sender(const DetectorInput& in, Findings& out) {
  const auto& msg = in.msg;
  // Authentication results worth believing: the receiving side's topmost, then the tenant's.
  std::vector<AuthView> auths;
  for (const char* name : {"Authentication-Results", "X-MS-Exchange-Authentication-Results", "ARC-Authentication-Results"}) {
    for (const auto* f : fields_in_zones(msg, in.route, name, kNotOrigin)) {
      auths.push_back({f, mime::parse_authentication_results(f->value)});
      if (auths.size() > 12) break;
    }
  }
  // Envelope sender candidates.
  std::vector<std::pair<std::string, const mime::HeaderField*>> envelope;
  for (const auto& a : auths)
    for (const auto& res : a.ar.results)
      if (res.method == "spf") {
        std::string mf = res.prop("smtp.mailfrom");
        if (mf.empty()) continue;
        std::string dom = mime::address_domain(mf);
        envelope.push_back({dom.empty() ? mime::text::lower(mf) : dom, a.field});
      }
  if (auto* rp = msg.headers.first("Return-Path")) {
    std::string d = mime::address_domain(mime::extract_address(rp->value));
    if (!d.empty()) envelope.push_back({d, rp});
  }
  if (!in.route.entry_helo.empty() && in.route.entry_hop >= 0)
    envelope.push_back({mime::text::lower(in.route.entry_helo), &msg.headers.fields[in.route.hops[in.route.entry_hop].field_index]});
  if (!in.route.tenant.connecting.helo.empty())
    envelope.push_back({mime::text::lower(in.route.tenant.connecting.helo), in.route.tenant.connecting_field});
  // 1. Random onmicrosoft.com sender.
  bool fired = false;
  for (const auto& [dom, f] : envelope) {
    if (random_onmicrosoft(dom)) {
      out.fire("sender.random_onmicrosoft", where_of(msg, f), dom);
      fired = true;
      break;
    }
  }
  if (!fired) out.pass("sender.random_onmicrosoft", "no random-looking *.onmicrosoft.com envelope sender or HELO");
  // 1b. Any tenant onmicrosoft.com domain as envelope/HELO of mail relayed in from outside:
  // a hybrid organisation's own servers send as its vanity domain.
  bool relayed_in = in.route.entry_ip && !in.route.entry_ip->is_private() && !in.pack.is_microsoft(*in.route.entry_ip);
  bool onms = false;
  for (const auto& [dom, f] : envelope) {
    if (relayed_in && mime::text::iends_with(dom, ".onmicrosoft.com")) {
      out.fire("sender.onmicrosoft_envelope", where_of(msg, f), dom + " relayed from " + in.route.entry_ip->to_string());
      onms = true;
      break;
    }
  }
  if (!onms) out.pass("sender.onmicrosoft_envelope", relayed_in ? "envelope is not an onmicrosoft.com domain" : "not relayed in from outside Microsoft");
  // 1c. Random envelope local part (the receiver's Return-Path is the true envelope).
  std::string rp_addr;
  const mime::HeaderField* rp_field = msg.headers.first("Return-Path");
  if (rp_field) rp_addr = mime::extract_address(rp_field->value);
  std::string local = rp_addr.substr(0, rp_addr.find('@'));
  // Only on mail relayed into a tenant from outside: ESPs' VERP bounce addresses are random too.
  if (relayed_in && !local.empty() && rp_addr.find('@') != std::string::npos && random_local_part(local))
    out.fire("sender.random_local_part", where_of(msg, rp_field), rp_addr);
  else
    out.pass("sender.random_local_part", !relayed_in ? "not relayed in from outside Microsoft (VERP bounces are random by design)"
                                         : rp_addr.empty() ? "no Return-Path" : "envelope local part looks chosen, not generated");
  // 2. From domain vs envelope / tenant.
  const auto* from = msg.headers.first("From");
  std::string from_dom = from ? mime::address_domain(mime::extract_address(from->decoded)) : "";
  std::string env_dom;
  for (const auto& [dom, f] : envelope)
    if (f != msg.headers.first("Return-Path") || envelope.size() == 1) {  // prefer recorded envelopes
      env_dom = dom;
      break;
    }
  std::string org;
  if (auto* o = trusted_field(in, "X-OriginatorOrg")) org = mime::text::lower(o->value);
  // The Public Suffix List look-up is paid only for names that differ (issue 17: two or three
  // look-ups per message were 2.3% of the instructions on real mail; a name is its own org).
  std::string from_org;
  auto from_org_of = [&]() -> const std::string& {
    if (from_org.empty()) from_org = org_domain(from_dom);
    return from_org;
  };
  auto differs = [&](const std::string& other) {
    return other != from_dom && org_domain(other) != from_org_of();
  };
  if (!from_dom.empty() && !env_dom.empty() && differs(env_dom) && (org.empty() || differs(org))) {
    out.fire("sender.from_domain_mismatch", where_of(msg, from), "From domain " + from_dom + " vs envelope " + env_dom +
                                                                      (org.empty() ? "" : " (tenant " + org + ")"));
  } else {
    out.pass("sender.from_domain_mismatch", from_dom.empty() ? "no From domain" : "From domain " + from_dom + " agrees with the envelope/tenant");
  }
  // 3. compauth / dmarc / spf.
  auto first_result = [&](std::string_view method, std::initializer_list<std::string_view> bad)
      -> std::pair<const mime::HeaderField*, std::string> {
    for (const auto& a : auths)
      if (auto* r = a.ar.find(method)) {
        std::string res = mime::text::lower(r->result);
        for (auto b : bad)
          if (res == b) return {a.field, std::string(method) + "=" + res + (r->reason.empty() ? "" : " (" + r->reason + ")")};
        return {nullptr, std::string(method) + "=" + res};
      }
    return {nullptr, "no " + std::string(method) + " result"};
  };
  auto [cf, cwhy] = first_result("compauth", {"fail"});
  if (cf) out.fire("sender.compauth_fail", where_of(msg, cf), cwhy);
  else out.pass("sender.compauth_fail", cwhy);
  auto [df, dwhy] = first_result("dmarc", {"fail"});
  if (df) out.fire("sender.dmarc_fail", where_of(msg, df), dwhy);
  else out.pass("sender.dmarc_fail", dwhy);
  auto [sf, swhy] = first_result("spf", {"fail", "softfail"});
  if (sf) out.fire("sender.spf_fail", where_of(msg, sf), swhy);
  else out.pass("sender.spf_fail", swhy);
}

}  // namespace hdrscan::heuristics
