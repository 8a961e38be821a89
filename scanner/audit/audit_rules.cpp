// audit_rules.cpp: findings of `hdrscan audit` (see audit_rules.hpp).
//
// Finding table (id: severity: when):
//   connector.created / connector.changed   info     New-/Set-InboundConnector (any)
//   connector.ran_name                      high     name matches ^Ran_[A-Za-z]{5}$
//   connector.onprem_ip_restricted          low      ConnectorType OnPremises accepting by IP
//                                           medium   ... and any sender domain (smtp:*) without
//                                                    a certificate restriction
//   connector.efskip_ips                    medium   EFSkipIPs set: Enhanced Filtering skips the
//                                                    relaying IPs (hides the true source)
//   connector.known_campaign_ip             critical an IP in SenderIPAddresses/EFSkipIPs is a
//                                                    known campaign connector IP (indicator pack)
//   connector.campaign_parameters           high     >= 7 of the 8 published parameter values
//   connector.removed                       info     Remove-InboundConnector
//   cleanup.connector_removed               high     ... of a connector judged suspect earlier
//                                           medium   ... Ran_ name, creation not in the export
//   transport_rule.created / .changed       info     New-/Set-TransportRule (any)
//   transport_rule.remove_header            low      RemoveHeader of another header
//   transport_rule.removes_protective_header high    RemoveHeader of an ARC, antispam or
//                                                    Enhanced Filtering header
//   transport_rule.burst                    critical >= burst_min header-removing rules, gaps
//                                                    < burst_gap, one of them protective
//   transport_rule.removed                  info     Remove-/Disable-TransportRule
//   cleanup.rule_removed                    high     ... of a rule judged suspect earlier
//   tenant.connector_and_stripping_rules    critical suspect connector and protective-header
//                                                    removal within pairing_window
//   app.role_assignment                     info     Add app role assignment to service principal.
//   app.exchange_manage_as_app              high     ... granting Exchange.ManageAsApp
//   app.credentials_added                   medium   Add service principal credentials. /
//                                                    Update application – Certificates and secrets
//   app.exchange_config_by_granted_app      high     connector/rule cmdlet run by an app that was
//                                                    granted Exchange.ManageAsApp in this log
//   client.aad_powershell                   medium   Azure AD PowerShell app id (low when failed)
//   signin.credential_stuffing              high     >= stuffing_min failed Azure AD PowerShell
//                                                    sign-ins from one IP, then a success from it
//   client.swagger_codegen_ua               high     Swagger-Codegen/1.4.0.0/csharp user agent
//                                           medium   another Swagger-Codegen user agent
#include "scanner/audit/audit_rules.hpp"

#include "mime/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <unordered_set>

namespace hdrscan::scanner::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kPowerShellAppId = "1b730954-1685-4b74-9bfd-dac224a7b894";
constexpr std::string_view kManageAsAppRoleId = "dc50a0fb-09a3-484d-be87-e023b12c6440";
constexpr std::string_view kSwaggerUa = "swagger-codegen/1.4.0.0/csharp";
constexpr std::size_t kMaxValue = 512;  // evidence values are capped

using mime::text::lower;

std::string_view trim(std::string_view s) { return mime::text::trim_if(s, mime::text::is_c_space); }

using mime::text::icontains;
using mime::text::ifind;

// What a record says anywhere in its strings (nested JSON text included), found without
// serializing it.
struct Marks {
  bool ps_app = false, manage_role = false;
  std::string swagger;  // the Swagger-Codegen user agent as quoted in the record
};

void scan_strings(const json& j, Marks& m, int depth = 0) {
  if (depth > 64) return;
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (!m.ps_app && icontains(s, kPowerShellAppId)) m.ps_app = true;
    if (!m.manage_role && icontains(s, kManageAsAppRoleId)) m.manage_role = true;
    if (m.swagger.empty()) {
      std::size_t p = ifind(s, "swagger-codegen");
      if (p != std::string_view::npos) {
        std::size_t e = p;
        while (e < s.size() && s[e] != '"' && s[e] != '\\' && s[e] != ',' && e - p < 80) ++e;
        m.swagger = s.substr(p, e - p);
      }
    }
  } else if (j.is_structured()) {
    for (const auto& v : j) scan_strings(v, m, depth + 1);
  }
}

// Caps a value at kMaxValue bytes without cutting a UTF-8 sequence.
std::string cap(std::string_view v) {
  if (v.size() <= kMaxValue) return std::string(v);
  std::size_t n = kMaxValue;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
  return std::string(v.substr(0, n)) + "...";
}

bool is_true(const AuditParam* p) { return p && lower(trim(p->value)) == "true"; }
bool is_false(const AuditParam* p) { return p && lower(trim(p->value)) == "false"; }

// The name of the object a cmdlet acts on.
std::string object_name(const AuditRecord& r, bool creating) {
  const AuditParam* p = creating ? r.param("Name") : r.param("Identity");
  if (!p) p = creating ? r.param("Identity") : r.param("Name");
  if (p && !trim(p->value).empty()) return std::string(trim(p->value));
  return r.object_id;
}

EvidenceItem param_evidence(const AuditParam* p, std::string note = {}) {
  return {"Parameters." + p->name, cap(p->value), std::move(note)};
}

std::string json_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ModifiedProperties entries [{Name, NewValue, OldValue}] (Azure AD records).
std::vector<std::pair<std::string, std::string>> modified_properties(const json& rec) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!rec.is_object()) return out;
  auto it = rec.find("ModifiedProperties");
  if (it == rec.end() || !it->is_array()) return out;
  for (const auto& p : *it) {
    if (!p.is_object()) continue;
    auto n = p.find("Name");
    auto v = p.find("NewValue");
    if (n == p.end() || !n->is_string()) continue;
    std::string value = v == p.end() ? std::string() : v->is_string() ? v->get<std::string>() : json_text(*v);
    out.emplace_back(n->get<std::string>(), value);
  }
  return out;
}

std::string strip_json_quotes(std::string v) {
  // Azure AD NewValue strings are often JSON-encoded: "\"Exchange.ManageAsApp\"" or "[...]".
  std::string_view t = trim(v);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return std::string(t.substr(1, t.size() - 2));
  return std::string(t);
}

std::vector<std::string> target_ids(const json& rec) {
  std::vector<std::string> out;
  if (!rec.is_object()) return out;
  auto it = rec.find("Target");
  if (it == rec.end() || !it->is_array()) return out;
  for (const auto& t : *it)
    if (t.is_object()) {
      auto id = t.find("ID");
      if (id != t.end() && id->is_string() && !id->get<std::string>().empty()) out.push_back(id->get<std::string>());
    }
  return out;
}

Finding make(std::string id, Severity s, std::string title) {
  Finding f;
  f.id = std::move(id);
  f.severity = s;
  f.title = std::move(title);
  return f;
}

bool protected_header(std::string_view name, const RuleConfig& cfg, std::string& matched) {
  std::string n = lower(trim(name));
  for (const auto& h : cfg.protected_headers)
    if (n == h) { matched = h; return true; }
  for (const auto& p : cfg.protected_prefixes)
    if (!p.empty() && n.compare(0, p.size(), p) == 0) { matched = p + "*"; return true; }
  return false;
}

void assess_connector(const AuditRecord& r, const RuleConfig& cfg, AuditEvent& ev) {
  const bool creating = ev.kind == EventKind::connector_new;
  ev.object = object_name(r, creating);
  Finding base = make(creating ? "connector.created" : "connector.changed", Severity::info,
                      std::string("inbound connector '") + cap(ev.object) + (creating ? "' created" : "' changed"));
  const AuditParam* type = r.param("ConnectorType");
  const AuditParam* sender_ips = r.param("SenderIPAddresses");
  const AuditParam* efskip = r.param("EFSkipIPs");
  const AuditParam* domains = r.param("SenderDomains");
  const AuditParam* restrict_ip = r.param("RestrictDomainsToIPAddresses");
  const AuditParam* restrict_cert = r.param("RestrictDomainsToCertificate");
  const AuditParam* cert_name = r.param("TlsSenderCertificateName");
  for (const AuditParam* p : {type, sender_ips, efskip, domains, restrict_ip, restrict_cert, cert_name})
    if (p) base.evidence.push_back(param_evidence(p));
  ev.findings.push_back(std::move(base));

  if (is_ran_connector_name(ev.object)) {
    Finding f = make("connector.ran_name", Severity::high,
                     "connector name '" + cap(ev.object) + "' follows the campaign's Ran_ + 5 letters pattern");
    f.evidence.push_back({"Name", cap(ev.object), "matches ^Ran_[A-Za-z]{5}$ (Microsoft, Sept 2022: Ran_jBelh, Ran_xAFzd)"});
    ev.findings.push_back(std::move(f));
  }

  std::vector<std::string> sips = sender_ips ? split_ip_list(sender_ips->value) : std::vector<std::string>{};
  std::vector<std::string> eips = efskip ? split_ip_list(efskip->value) : std::vector<std::string>{};
  const bool onprem = type && lower(trim(type->value)) == "onpremises";
  const bool any_domain = domains && (icontains(domains->value, "smtp:*;") || trim(domains->value) == "*" ||
                                      lower(trim(domains->value)) == "smtp:*");
  const bool cert_restricted = is_true(restrict_cert) || (cert_name && !trim(cert_name->value).empty());
  if (onprem && (!sips.empty() || is_true(restrict_ip))) {
    bool wide = any_domain && !cert_restricted;
    Finding f = make("connector.onprem_ip_restricted", wide ? Severity::medium : Severity::low,
                     wide ? "OnPremises connector accepting any sender domain from listed IPs, no certificate"
                          : "OnPremises connector accepting mail by sender IP");
    f.evidence.push_back(param_evidence(type, "mail from these IPs is treated as the tenant's own on-premises mail"));
    if (sender_ips) f.evidence.push_back(param_evidence(sender_ips));
    if (restrict_ip) f.evidence.push_back(param_evidence(restrict_ip));
    if (domains) f.evidence.push_back(param_evidence(domains, any_domain ? "any sender domain" : ""));
    ev.findings.push_back(std::move(f));
  }
  if (!eips.empty()) {
    std::set<std::string> a(sips.begin(), sips.end()), b(eips.begin(), eips.end());
    Finding f = make("connector.efskip_ips", Severity::medium,
                     "Enhanced Filtering told to skip the connector's IPs (the true source IP is hidden)");
    f.evidence.push_back(param_evidence(efskip, a == b ? "identical to SenderIPAddresses, as in the campaign"
                                                       : "Enhanced Filtering skips these IPs"));
    ev.findings.push_back(std::move(f));
  }
  if (cfg.known_connector_ip) {
    Finding f = make("connector.known_campaign_ip", Severity::critical,
                     "connector allow-lists known campaign connector IPs");
    std::set<std::string> seen;
    auto check = [&](const std::vector<std::string>& ips, const char* field) {
      for (const auto& ip : ips) {
        if (!seen.insert(std::string(field) + ip).second) continue;
        std::string why = cfg.known_connector_ip(ip);
        if (!why.empty()) f.evidence.push_back({std::string("Parameters.") + field, ip, "known campaign IP: " + why});
      }
    };
    check(sips, "SenderIPAddresses");
    check(eips, "EFSkipIPs");
    if (!f.evidence.empty()) ev.findings.push_back(std::move(f));
  }
  // The parameter set Microsoft published for the campaign's connectors.
  int matched = 0;
  std::vector<EvidenceItem> shape;
  auto want = [&](const AuditParam* p, bool ok) {
    if (ok) { ++matched; shape.push_back(param_evidence(p)); }
  };
  const AuditParam* source = r.param("ConnectorSource");
  const AuditParam* tls = r.param("RequireTls");
  const AuditParam* internal = r.param("TreatMessagesAsInternal");
  const AuditParam* cloud = r.param("CloudServicesMailEnabled");
  want(type, onprem);
  want(source, source && lower(trim(source->value)) == "hybridwizard");
  want(domains, domains && lower(trim(domains->value)) == "smtp:*;1");
  want(restrict_ip, is_true(restrict_ip));
  want(tls, is_false(tls));
  want(internal, is_false(internal));
  want(cloud, is_true(cloud));
  if (!sips.empty() && std::set<std::string>(sips.begin(), sips.end()) == std::set<std::string>(eips.begin(), eips.end())) {
    ++matched;
    shape.push_back({"Parameters.EFSkipIPs", "= SenderIPAddresses", ""});
  }
  if (matched >= 7) {
    Finding f = make("connector.campaign_parameters", Severity::high,
                     "connector parameters match the campaign's (" + std::to_string(matched) + " of 8)");
    f.evidence = std::move(shape);
    f.evidence.push_back({"reference", "OnPremises, HybridWizard, smtp:*;1, RestrictDomainsToIPAddresses True, RequireTls False, "
                                       "TreatMessagesAsInternal False, CloudServicesMailEnabled True, EFSkipIPs = SenderIPAddresses",
                          "Microsoft Security blog, 22 Sept 2022"});
    ev.findings.push_back(std::move(f));
  }
  ev.ips = sips;
  for (const auto& ip : eips)
    if (std::find(ev.ips.begin(), ev.ips.end(), ip) == ev.ips.end()) ev.ips.push_back(ip);
}

void assess_rule(const AuditRecord& r, const RuleConfig& cfg, AuditEvent& ev) {
  const bool creating = ev.kind == EventKind::rule_new;
  ev.object = object_name(r, creating);
  Finding base = make(creating ? "transport_rule.created" : "transport_rule.changed", Severity::info,
                      std::string("transport rule '") + cap(ev.object) + (creating ? "' created" : "' changed"));
  const AuditParam* remove = r.param("RemoveHeader");
  if (remove) base.evidence.push_back(param_evidence(remove));
  ev.findings.push_back(std::move(base));
  if (!remove || trim(remove->value).empty()) return;
  std::string header(trim(remove->value));
  ev.removed_headers.push_back(header);
  std::string matched;
  if (protected_header(header, cfg, matched)) {
    Finding f = make("transport_rule.removes_protective_header", Severity::high,
                     "transport rule '" + cap(ev.object) + "' removes " + cap(header) + " from every message");
    f.evidence.push_back(param_evidence(remove, "an ARC, antispam or Enhanced Filtering header (matched " + matched + ")"));
    if (const AuditParam* loc = r.param("SenderAddressLocation")) f.evidence.push_back(param_evidence(loc));
    ev.findings.push_back(std::move(f));
  } else {
    Finding f = make("transport_rule.remove_header", Severity::low,
                     "transport rule '" + cap(ev.object) + "' removes header " + cap(header));
    f.evidence.push_back(param_evidence(remove));
    ev.findings.push_back(std::move(f));
  }
}

// Target entries [{ID, Type}]: ids of the principal acted on; Type 1 entries are display names.
void targets(const json& rec, std::vector<std::string>& ids, std::string& display) {
  if (!rec.is_object()) return;
  auto it = rec.find("Target");
  if (it == rec.end() || !it->is_array()) return;
  for (const auto& t : *it) {
    if (!t.is_object()) continue;
    auto id = t.find("ID");
    if (id == t.end() || !id->is_string() || id->get<std::string>().empty()) continue;
    std::string v = id->get<std::string>();
    auto type = t.find("Type");
    if (display.empty() && type != t.end() && type->is_number_integer() && type->get<int>() == 1) display = v;
    if (v.rfind("ServicePrincipal_", 0) == 0) v.erase(0, 17);
    else if (v.rfind("Application_", 0) == 0) v.erase(0, 12);
    if (lower(v) == "serviceprincipal" || lower(v) == "application") continue;
    if (std::find(ids.begin(), ids.end(), lower(v)) == ids.end()) ids.push_back(lower(v));
  }
}

void assess_role_assignment(const AuditRecord& r, AuditEvent& ev, bool role_id_seen) {
  auto props = modified_properties(r.data);
  std::string role_value, resource;
  for (const auto& [name, value] : props) {
    std::string n = lower(name);
    if (n == "approle.value") role_value = strip_json_quotes(value);
    else if (n == "serviceprincipal.displayname") resource = strip_json_quotes(value);
  }
  std::string display;
  targets(r.data, ev.granted_ids, display);
  ev.object = !display.empty() ? display : !ev.granted_ids.empty() ? ev.granted_ids.front() : r.object_id;
  const bool manage_as_app = role_id_seen || icontains(role_value, "Exchange.ManageAsApp");
  if (!manage_as_app) {
    Finding f = make("app.role_assignment", Severity::info, "app role assigned to service principal '" + cap(ev.object) + "'");
    if (!role_value.empty()) f.evidence.push_back({"ModifiedProperties.AppRole.Value", cap(role_value), ""});
    if (!resource.empty()) f.evidence.push_back({"ModifiedProperties.ServicePrincipal.DisplayName", cap(resource), "the resource"});
    ev.findings.push_back(std::move(f));
    ev.granted_ids.clear();
    return;
  }
  const bool failed = !r.result_status.empty() && lower(r.result_status) != "success";
  Finding f = make("app.exchange_manage_as_app", failed ? Severity::medium : Severity::high,
                   "Exchange.ManageAsApp granted to service principal '" + cap(ev.object) + "'" +
                       (failed ? " (result " + cap(r.result_status) + ")" : ""));
  f.evidence.push_back({"AppRole.Id", std::string(kManageAsAppRoleId),
                        "Exchange.ManageAsApp: the app can run Exchange Online cmdlets as itself"});
  for (const auto& [name, value] : props) {
    std::string n = lower(name);
    if (n.rfind("approle.", 0) == 0 || n.rfind("serviceprincipal.", 0) == 0)
      f.evidence.push_back({"ModifiedProperties." + name, cap(strip_json_quotes(value)), ""});
  }
  for (const auto& id : ev.granted_ids) f.evidence.push_back({"Target.ID", cap(id), "the principal granted the role"});
  if (failed) ev.granted_ids.clear();
  ev.findings.push_back(std::move(f));
}

void assess_credentials(const AuditRecord& r, AuditEvent& ev) {
  auto targets = target_ids(r.data);
  std::vector<std::string> ids;
  std::string display;
  audit::targets(r.data, ids, display);
  ev.object = !display.empty() ? display : !targets.empty() ? targets.front() : r.object_id;
  Finding f = make("app.credentials_added", Severity::medium,
                   "credentials added to application '" + cap(ev.object) + "'");
  f.evidence.push_back({"Operation", cap(r.operation),
                        "a secret or certificate lets the holder act as the app after the admin's password changes"});
  for (const auto& [name, value] : modified_properties(r.data)) {
    std::string n = lower(name);
    if (n.find("key") != std::string::npos || n.find("credential") != std::string::npos ||
        n.find("included updated properties") != std::string::npos)
      f.evidence.push_back({"ModifiedProperties." + name, cap(strip_json_quotes(value)), ""});
  }
  for (const auto& id : targets) f.evidence.push_back({"Target.ID", cap(id), ""});
  ev.findings.push_back(std::move(f));
}

EventKind kind_of(const std::string& op) {
  if (op == "new-inboundconnector") return EventKind::connector_new;
  if (op == "set-inboundconnector") return EventKind::connector_set;
  if (op == "remove-inboundconnector") return EventKind::connector_remove;
  if (op == "new-transportrule") return EventKind::rule_new;
  if (op == "set-transportrule") return EventKind::rule_set;
  if (op == "remove-transportrule" || op == "disable-transportrule") return EventKind::rule_remove;
  if (op == "add app role assignment to service principal") return EventKind::role_assignment;
  if (op == "add service principal credentials" || op == "update application - certificates and secrets management")
    return EventKind::credentials;
  if (op == "userloggedin" || op == "userloginfailed" || op == "sign-in activity" || op == "sign-in")
    return EventKind::signin;
  return EventKind::other;
}

bool is_success(const std::string& status) {
  std::string s = lower(trim(status));
  return s.empty() || s == "success" || s == "succeeded" || s == "true";
}

Severity max_of(const std::vector<Finding>& fs) {
  Severity s = Severity::info;
  for (const auto& f : fs) s = std::max(s, f.severity);
  return s;
}

std::string where(const AuditEvent& e) { return e.file + ":" + std::to_string(e.line); }

std::string duration(std::int64_t s) {
  if (s < 0) s = -s;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "min";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view word) {
  std::string w = lower(trim(word));
  for (Severity s : {Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (w == to_string(s)) return s;
  return std::nullopt;
}

Severity AuditEvent::max_severity() const { return max_of(findings); }

Severity TenantTimeline::max_severity() const {
  Severity s = Severity::info;
  for (const auto& e : events) s = std::max(s, e.max_severity());
  return s;
}

bool is_ran_connector_name(std::string_view name) {
  if (name.size() != 9 || name.substr(0, 4) != "Ran_") return false;
  for (char c : name.substr(4))
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

std::vector<std::string> split_ip_list(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string_view t = trim(cur);
    if (!t.empty() && t.front() == '{') t.remove_prefix(1);  // "{a, b}" multi-value rendering
    if (!t.empty() && t.back() == '}') t.remove_suffix(1);
    if (!t.empty() && t.front() == '"') t.remove_prefix(1);
    if (!t.empty() && t.back() == '"') t.remove_suffix(1);
    t = trim(t);
    if (!t.empty() && out.size() < 4096) out.emplace_back(t);
    cur.clear();
  };
  for (char c : value) {
    if (c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r') flush();
    else cur.push_back(c);
  }
  flush();
  return out;
}

std::string normalize_operation(std::string_view op) {
  std::string out;
  std::string_view t = trim(op);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, "\xE2\x80\x93") == 0 || t.compare(i, 3, "\xE2\x80\x94") == 0) {  // en / em dash
      out.push_back('-');
      i += 2;
      continue;
    }
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(t[i])));
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

RuleConfig RuleConfig::defaults() {
  RuleConfig c;
  c.protected_headers = {
      "arc-seal", "arc-message-signature", "arc-authentication-results",
      "x-ms-exchange-antispam-messagedata", "x-ms-exchange-antispam-messagedata-chunkcount",
      "x-ms-exchange-antispam-messagedata-0", "x-ms-exchange-antispam-messagedata-1",
      "x-forefront-antispam-report", "x-forefront-antispam-report-untrusted",
      "x-microsoft-antispam", "x-microsoft-antispam-untrusted", "x-microsoft-antispam-message-info",
      "x-microsoft-antispam-message-info-original", "x-ms-exchange-skiplistedinternetsender",
      "x-ms-exchange-externaloriginalinternetsender"};
  c.protected_prefixes = {"arc-", "x-ms-exchange-antispam-", "x-forefront-antispam-report", "x-microsoft-antispam"};
  return c;
}

std::optional<AuditEvent> assess_record(const AuditRecord& r, const RuleConfig& cfg) {
  AuditEvent ev;
  ev.kind = kind_of(normalize_operation(r.operation));
  Marks marks;
  scan_strings(r.data, marks);
  const bool ps_app = icontains(r.app_id, kPowerShellAppId) || marks.ps_app;
  const bool swagger = icontains(r.user_agent, "swagger-codegen") || !marks.swagger.empty();
  if (ev.kind == EventKind::other && !ps_app && !swagger) return std::nullopt;
  if (ev.kind == EventKind::signin && !ps_app && !swagger) return std::nullopt;

  ev.tenant = r.organization_id.empty() ? "unknown" : lower(r.organization_id);
  ev.epoch = r.epoch;
  ev.time = format_time(r.epoch);
  ev.operation = r.operation;
  ev.user = r.user_id;
  ev.client_ip = r.client_ip;
  ev.app_id = r.app_id;
  ev.user_agent = r.user_agent;
  ev.result_status = r.result_status;
  ev.record_id = lower(r.id);
  ev.file = r.file;
  ev.line = r.line;
  if (ev.kind != EventKind::signin && ev.kind != EventKind::other) ev.object = r.object_id;

  switch (ev.kind) {
    case EventKind::connector_new:
    case EventKind::connector_set: assess_connector(r, cfg, ev); break;
    case EventKind::connector_remove: {
      ev.object = object_name(r, false);
      Finding f = make("connector.removed", Severity::info, "inbound connector '" + cap(ev.object) + "' removed");
      f.evidence.push_back({"Identity", cap(ev.object), ""});
      ev.findings.push_back(std::move(f));
      break;
    }
    case EventKind::rule_new:
    case EventKind::rule_set: assess_rule(r, cfg, ev); break;
    case EventKind::rule_remove: {
      ev.object = object_name(r, false);
      Finding f = make("transport_rule.removed", Severity::info, "transport rule '" + cap(ev.object) + "' removed");
      f.evidence.push_back({"Identity", cap(ev.object), ""});
      ev.findings.push_back(std::move(f));
      break;
    }
    case EventKind::role_assignment: assess_role_assignment(r, ev, marks.manage_role); break;
    case EventKind::credentials: assess_credentials(r, ev); break;
    case EventKind::signin:
    case EventKind::other: break;
  }
  if (ps_app) {
    const bool failed = !is_success(r.result_status);
    Finding f = make("client.aad_powershell", failed ? Severity::low : Severity::medium,
                     std::string("Azure AD PowerShell app") + (failed ? " (failed: " + cap(r.result_status) + ")" : "") +
                         ": " + cap(r.operation));
    f.evidence.push_back({icontains(r.app_id, kPowerShellAppId) ? "AppId" : "record (nested field)", std::string(kPowerShellAppId),
                          "Azure AD PowerShell app id: the campaign's credential stuffing and deployment went through it"});
    if (!r.client_ip.empty()) f.evidence.push_back({"ClientIP", cap(r.client_ip), ""});
    ev.findings.push_back(std::move(f));
  }
  if (swagger) {
    std::string ua = icontains(r.user_agent, "swagger-codegen") ? r.user_agent : marks.swagger;
    const bool exact = icontains(ua, kSwaggerUa);
    Finding f = make("client.swagger_codegen_ua", exact ? Severity::high : Severity::medium,
                     "Swagger-Codegen client: " + cap(r.operation));
    f.evidence.push_back({"UserAgent", cap(ua), exact ? "the user agent of the campaign's deployment script"
                                                      : "a Swagger-Codegen client, like the campaign's script"});
    ev.findings.push_back(std::move(f));
  }
  ev.suspect = ev.max_severity() >= Severity::high;
  if (ev.findings.empty()) return std::nullopt;
  return ev;
}

void AuditAnalyzer::add(const AuditRecord& rec) {
  const std::string tenant = rec.organization_id.empty() ? "unknown" : lower(rec.organization_id);
  auto it = seen_tenants_.find(tenant);
  if (it == seen_tenants_.end() && seen_tenants_.size() < 10000) {
    it = seen_tenants_.emplace(tenant, Seen{}).first;
    tenant_order_.push_back(tenant);
  }
  if (it != seen_tenants_.end()) {
    Seen& s = it->second;
    if (rec.epoch && (s.first == 0 || rec.epoch < s.first)) s.first = rec.epoch;
    if (rec.epoch > s.last) s.last = rec.epoch;
    ++s.records;
    const auto at = rec.user_id.rfind('@');
    if (at != std::string::npos && at + 1 < rec.user_id.size() && rec.user_id.size() - at < 256) {
      std::string d = lower(std::string_view(rec.user_id).substr(at + 1));
      if (s.domains.count(d) || s.domains.size() < 64) ++s.domains[d];
    }
  }
  if (auto ev = assess_record(rec, cfg_)) add_event(std::move(*ev));
}

void AuditAnalyzer::add_event(AuditEvent ev) {
  // The same record from several exports (CSV and JSON of one search) counts once.
  std::string key = ev.record_id.empty() ? std::string() : ev.tenant + "/" + ev.record_id;
  if (!key.empty() && seen_.count(key)) {
    ++duplicates_;
    return;
  }
  if (events_.size() >= 2 * cfg_.max_events ||
      (events_.size() >= cfg_.max_events && ev.max_severity() == Severity::info)) {
    ++dropped_;
    return;
  }
  if (!key.empty()) seen_.insert(std::move(key));
  events_.push_back(std::move(ev));
}

std::vector<TenantTimeline> AuditAnalyzer::finish() {
  std::vector<TenantTimeline> out;
  std::map<std::string, std::size_t> index;
  for (auto& ev : events_) {
    auto [it, fresh] = index.emplace(ev.tenant, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().tenant = ev.tenant;
    }
    out[it->second].events.push_back(std::move(ev));
  }
  events_.clear();
  seen_.clear();
  for (const auto& t : tenant_order_)
    if (!index.count(t)) {
      index.emplace(t, out.size());
      out.emplace_back();
      out.back().tenant = t;
    }
  for (auto& tl : out) {
    auto it = seen_tenants_.find(tl.tenant);
    if (it == seen_tenants_.end()) continue;
    tl.records = it->second.records;
    if (it->second.records) {
      tl.first_seen = format_time(it->second.first);
      tl.last_seen = format_time(it->second.last);
    }
    tl.domains = std::move(it->second.domains);
  }
  seen_tenants_.clear();
  tenant_order_.clear();

  for (auto& tl : out) {
    auto& evs = tl.events;
    std::stable_sort(evs.begin(), evs.end(), [](const AuditEvent& a, const AuditEvent& b) {
      if (a.epoch != b.epoch) return a.epoch < b.epoch;
      if (a.file != b.file) return a.file < b.file;
      return a.line < b.line;
    });
    // The same record from several exports (CSV and JSON of one search) counts once.
    std::unordered_set<std::string> ids;
    std::vector<AuditEvent> unique;
    for (auto& e : evs) {
      if (!e.record_id.empty() && !ids.insert(e.record_id).second) { ++duplicates_; continue; }
      unique.push_back(std::move(e));
    }
    evs = std::move(unique);

    // Bursts of header-removing rules.
    std::vector<std::size_t> removing;
    for (std::size_t i = 0; i < evs.size(); ++i)
      if ((evs[i].kind == EventKind::rule_new || evs[i].kind == EventKind::rule_set) && !evs[i].removed_headers.empty())
        removing.push_back(i);
    for (std::size_t a = 0; a < removing.size();) {
      std::size_t b = a + 1;
      while (b < removing.size() && evs[removing[b]].epoch - evs[removing[b - 1]].epoch < cfg_.burst_gap) ++b;
      std::size_t n = b - a;
      bool protective = false;
      for (std::size_t k = a; k < b; ++k) protective = protective || evs[removing[k]].suspect;
      if (n >= cfg_.burst_min && protective) {
        AuditEvent& last = evs[removing[b - 1]];
        Finding f = make("transport_rule.burst", Severity::critical,
                         std::to_string(n) + " header-removing transport rules created within " +
                             duration(last.epoch - evs[removing[a]].epoch));
        for (std::size_t k = a; k < b; ++k) {
          AuditEvent& e = evs[removing[k]];
          e.suspect = true;
          f.evidence.push_back({"rule " + e.object, e.removed_headers.front(), e.time + " " + where(e)});
        }
        last.findings.push_back(std::move(f));
      }
      a = b;
    }

    // Credential stuffing: failed Azure AD PowerShell sign-ins from one IP, then a success
    // from it (the campaign's initial access).
    for (std::size_t i = 0; i < evs.size(); ++i) {
      AuditEvent& ok = evs[i];
      if (ok.kind != EventKind::signin || ok.client_ip.empty() || !is_success(ok.result_status)) continue;
      std::vector<const AuditEvent*> failed;
      std::set<std::string> users;
      for (std::size_t k = i; k-- > 0;) {
        const AuditEvent& f = evs[k];
        if (ok.epoch - f.epoch > cfg_.stuffing_window) break;
        if (f.kind == EventKind::signin && f.client_ip == ok.client_ip && !is_success(f.result_status)) {
          failed.push_back(&f);
          users.insert(lower(f.user));
        }
      }
      if (failed.size() < cfg_.stuffing_min) continue;
      Finding f = make("signin.credential_stuffing", Severity::high,
                       std::to_string(failed.size()) + " failed Azure AD PowerShell sign-ins (" +
                           std::to_string(users.size()) + " accounts) from " + cap(ok.client_ip) +
                           ", then a successful one for " + cap(ok.user));
      for (auto it = failed.rbegin(); it != failed.rend(); ++it)
        f.evidence.push_back({"failed", cap((*it)->user), (*it)->time + " " + where(**it)});
      f.evidence.push_back({"succeeded", cap(ok.user), ok.time + " " + where(ok)});
      ok.findings.push_back(std::move(f));
      ok.suspect = true;
    }

    // Grants of Exchange.ManageAsApp, by app id.
    std::map<std::string, const AuditEvent*> granted;
    for (const auto& e : evs)
      if (e.kind == EventKind::role_assignment)
        for (const auto& id : e.granted_ids) granted.emplace(id, &e);

    // Connector next to stripping rules; cleanup; cmdlets run by a granted app.
    const AuditEvent* last_connector = nullptr;  // latest suspect connector so far
    const AuditEvent* last_rule = nullptr;       // latest suspect rule so far
    bool paired = false;
    for (std::size_t i = 0; i < evs.size(); ++i) {
      AuditEvent& e = evs[i];
      const bool is_conn = e.kind == EventKind::connector_new || e.kind == EventKind::connector_set;
      const bool is_rule = e.kind == EventKind::rule_new || e.kind == EventKind::rule_set;
      if (is_conn || is_rule || e.kind == EventKind::connector_remove || e.kind == EventKind::rule_remove) {
        // the acting app: AppId, or a "ServicePrincipal_<id>" user
        std::string user = lower(e.user);
        if (user.rfind("serviceprincipal_", 0) == 0) user.erase(0, 17);
        auto g = e.app_id.empty() ? granted.end() : granted.find(lower(e.app_id));
        if (g == granted.end()) g = granted.find(user);
        if (g != granted.end() && g->second->epoch <= e.epoch) {
          Finding f = make("app.exchange_config_by_granted_app", Severity::high,
                           "run by app '" + cap(g->second->object) + "', granted Exchange.ManageAsApp " +
                               duration(e.epoch - g->second->epoch) + " earlier");
          f.evidence.push_back({g->first == lower(e.app_id) ? "AppId" : "UserId", g->first,
                                "granted at " + g->second->time + " " + where(*g->second)});
          e.findings.push_back(std::move(f));
          if (is_conn || is_rule) e.suspect = true;
        }
      }
      if (is_conn && e.suspect) last_connector = &e;
      if (is_rule && e.suspect) last_rule = &e;
      if (!paired && last_connector && last_rule && (&e == last_connector || &e == last_rule) &&
          std::llabs(last_connector->epoch - last_rule->epoch) <= cfg_.pairing_window) {
        paired = true;
        Finding f = make("tenant.connector_and_stripping_rules", Severity::critical,
                         "suspect inbound connector and header-stripping transport rules in one tenant");
        f.evidence.push_back({"connector", last_connector->object, last_connector->time + " " + where(*last_connector)});
        f.evidence.push_back({"rule", last_rule->object, last_rule->time + " " + where(*last_rule)});
        e.findings.push_back(std::move(f));
      }
      if (e.kind == EventKind::connector_remove || e.kind == EventKind::rule_remove) {
        const bool conn = e.kind == EventKind::connector_remove;
        const AuditEvent* created = nullptr;
        for (std::size_t k = i; k-- > 0;) {
          const AuditEvent& c = evs[k];
          const bool match_kind = conn ? (c.kind == EventKind::connector_new || c.kind == EventKind::connector_set)
                                       : (c.kind == EventKind::rule_new || c.kind == EventKind::rule_set);
          if (match_kind && lower(c.object) == lower(e.object)) { created = &c; break; }
        }
        if (created && created->suspect) {
          Finding f = make(conn ? "cleanup.connector_removed" : "cleanup.rule_removed", Severity::high,
                           std::string(conn ? "connector '" : "transport rule '") + cap(e.object) +
                               "' removed " + duration(e.epoch - created->epoch) + " after it was set up");
          f.evidence.push_back({"created", created->time + " by " + cap(created->user), where(*created)});
          f.evidence.push_back({"removed", e.time + " by " + cap(e.user), "the campaign removed its connector and rules after each wave"});
          e.findings.push_back(std::move(f));
          e.suspect = true;
        } else if (!created && conn && is_ran_connector_name(e.object)) {
          Finding f = make("cleanup.connector_removed", Severity::medium,
                           "connector '" + cap(e.object) + "' (campaign name pattern) removed; its creation is not in this export");
          f.evidence.push_back({"Identity", cap(e.object), "matches ^Ran_[A-Za-z]{5}$"});
          e.findings.push_back(std::move(f));
        }
      }
    }
    for (const auto& e : evs)
      for (const auto& f : e.findings) ++tl.counts[f.severity];
  }
  return out;
}

}  // namespace hdrscan::scanner::audit
