// audit_rules_test: the findings of `hdrscan audit` on the project's test exports
// (corpus/audit/) with the builtin indicator pack, and on small hand-made records:
// every campaign finding on every export form, nothing high on the benign tenant,
// correlation (burst, cleanup, pairing, granted app), deduplication across exports.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "heuristics/indicators.hpp"
#include "scanner/audit/audit.hpp"

using namespace hdrscan::scanner::audit;

namespace {

const hdrscan::heuristics::IndicatorPack& builtin_pack() {
  static const auto pack = hdrscan::heuristics::IndicatorPack::builtin();
  return pack;
}

const RuleConfig& builtin_config() {
  static const RuleConfig cfg = rule_config_from_pack(builtin_pack());
  return cfg;
}

std::vector<TenantTimeline> audit_files(const std::vector<std::string>& names, std::size_t* dups = nullptr) {
  AuditAnalyzer an(builtin_config());
  for (const auto& n : names)
    read_audit_file(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/audit/" + n, [&](const AuditRecord& r) { an.add(r); },
                    nullptr);
  auto out = an.finish();
  if (dups) *dups = an.duplicates();
  return out;
}

// finding id -> findings with it
std::multimap<std::string, std::pair<const AuditEvent*, const Finding*>> index(const std::vector<TenantTimeline>& tls) {
  std::multimap<std::string, std::pair<const AuditEvent*, const Finding*>> m;
  for (const auto& tl : tls)
    for (const auto& e : tl.events)
      for (const auto& f : e.findings) m.emplace(f.id, std::make_pair(&e, &f));
  return m;
}

AuditRecord exchange(const std::string& time, const std::string& op, std::vector<AuditParam> params,
                     const std::string& org = "org-1") {
  AuditRecord r;
  r.file = "t";
  r.line = 1;
  r.time = time;
  REQUIRE(parse_time(time, r.epoch));
  r.operation = op;
  r.organization_id = org;
  r.user_id = "admin@contoso.example";
  r.parameters = std::move(params);
  r.data = nlohmann::json::object();
  return r;
}

}  // namespace

TEST_CASE("every campaign finding, on every form of the attack export") {
  const std::vector<std::pair<std::string, Severity>> expected = {
      {"connector.ran_name", Severity::high},
      {"connector.onprem_ip_restricted", Severity::medium},
      {"connector.efskip_ips", Severity::medium},
      {"connector.known_campaign_ip", Severity::critical},
      {"connector.campaign_parameters", Severity::high},
      {"transport_rule.removes_protective_header", Severity::high},
      {"transport_rule.burst", Severity::critical},
      {"tenant.connector_and_stripping_rules", Severity::critical},
      {"app.exchange_manage_as_app", Severity::high},
      {"app.credentials_added", Severity::medium},
      {"app.exchange_config_by_granted_app", Severity::high},
      {"client.aad_powershell", Severity::medium},
      {"signin.credential_stuffing", Severity::high},
      {"client.swagger_codegen_ua", Severity::high},
      {"cleanup.connector_removed", Severity::high},
      {"cleanup.rule_removed", Severity::high},
  };
  for (const char* name : {"attack.csv", "attack.json", "attack.jsonl", "attack-cloudappevents.csv",
                           "attack-malformed.csv", "attack-malformed.json", "attack-malformed.jsonl"}) {
    CAPTURE(name);
    auto tls = audit_files({name});
    REQUIRE(tls.size() == 1);
    CHECK(tls[0].max_severity() == Severity::critical);
    auto m = index(tls);
    for (const auto& [id, sev] : expected) {
      CAPTURE(id);
      auto [lo, hi] = m.equal_range(id);
      REQUIRE(lo != hi);
      bool at = false;
      for (auto it = lo; it != hi; ++it) {
        CHECK(!it->second.second->evidence.empty());
        at = at || it->second.second->severity == sev;
      }
      CHECK(at);
    }
    CHECK(m.count("transport_rule.removes_protective_header") == 12);
    CHECK(m.count("cleanup.rule_removed") == 12);
    CHECK(m.count("client.swagger_codegen_ua") == 5);
    CHECK(m.count("app.credentials_added") == 2);
    auto stuffing = m.find("signin.credential_stuffing")->second;
    CHECK(stuffing.first->user == "it-admin@fabrikam.example");
    CHECK(stuffing.second->evidence.size() == 6);  // 5 failures and the success

    // the known IPs: all 8, each with its indicator provenance
    auto known = m.find("connector.known_campaign_ip")->second.second;
    std::set<std::string> ips;
    for (const auto& ev : known->evidence) {
      ips.insert(ev.value);
      CHECK(ev.note.find("builtin:") != std::string::npos);
    }
    CHECK(ips == std::set<std::string>{"170.75.174.97", "170.75.172.8", "170.75.170.69", "170.75.174.95",
                                       "54.39.94.145", "149.56.200.36", "158.69.21.185", "66.70.201.131"});
    // the burst names all 12 rules, and sits on the last one
    auto burst = m.find("transport_rule.burst")->second;
    CHECK(burst.second->evidence.size() == 12);
    CHECK(burst.first->object == "Test012");
    CHECK(burst.second->evidence.front().field == "rule Test01");
    // the cleanup of the connector points back at its creation
    auto cleanup = m.find("cleanup.connector_removed")->second;
    CHECK(cleanup.first->object == "Ran_jBelh");
    CHECK(cleanup.second->evidence.front().value.rfind("2022-09-01T10:02:11Z", 0) == 0);
    // the timeline is in time order whatever the file order (Purview CSVs are newest first)
    const auto& evs = tls[0].events;
    CHECK(std::is_sorted(evs.begin(), evs.end(), [](const AuditEvent& a, const AuditEvent& b) { return a.epoch < b.epoch; }));
  }
}

TEST_CASE("the benign tenant: nothing at high or above on any form") {
  for (const char* name : {"benign.csv", "benign.json", "benign.jsonl", "benign-cloudappevents.csv"}) {
    CAPTURE(name);
    auto tls = audit_files({name});
    REQUIRE(tls.size() == 1);
    CHECK(tls[0].max_severity() < Severity::high);
    auto m = index(tls);
    // its hybrid connector and disclaimer rule are on the timeline, as info
    REQUIRE(m.count("connector.created") == 1);
    CHECK(m.find("connector.created")->second.second->severity == Severity::info);
    CHECK(m.find("connector.created")->second.first->object.rfind("Inbound from ", 0) == 0);
    CHECK(m.count("connector.ran_name") == 0);
    CHECK(m.count("connector.onprem_ip_restricted") == 0);
    CHECK(m.count("transport_rule.removes_protective_header") == 0);
    CHECK(m.count("transport_rule.remove_header") == 1);  // its own routing tag: low
    CHECK(m.count("app.exchange_manage_as_app") == 0);
    CHECK(m.count("cleanup.rule_removed") == 0);
    CHECK(m.count("signin.credential_stuffing") == 0);
    CHECK(m.count("client.aad_powershell") == 1);  // an admin's own PowerShell sign-in: medium
  }
}

TEST_CASE("the same records from several exports count once; tenants stay apart") {
  std::size_t dups = 0;
  auto one = audit_files({"attack.csv"});
  auto both = audit_files({"attack.csv", "attack.json", "benign.jsonl"}, &dups);
  REQUIRE(both.size() == 2);
  CHECK(both[0].events.size() == one[0].events.size());
  CHECK(dups == one[0].events.size());
  CHECK(both[0].counts == one[0].counts);
  CHECK(both[1].max_severity() < Severity::high);
}

TEST_CASE("a rotated connector IP is not a known IP, but the connector is still caught") {
  auto tls = audit_files({"attack-rotated-ip.csv"});
  auto m = index(tls);
  CHECK(m.count("connector.known_campaign_ip") == 0);
  CHECK(m.count("connector.ran_name") == 1);
  CHECK(m.count("connector.campaign_parameters") == 1);
}

TEST_CASE("connector rules on single records") {
  const RuleConfig& cfg = builtin_config();
  SUBCASE("a CIDR on the connector that holds a known IP") {
    auto ev = assess_record(exchange("2022-09-01T10:00:00", "Set-InboundConnector",
                                     {{"Identity", "Partner relay"}, {"SenderIPAddresses", "170.75.174.0/24"}}),
                            cfg);
    REQUIRE(ev);
    CHECK(ev->object == "Partner relay");
    CHECK(ev->kind == EventKind::connector_set);
    bool known = false;
    for (const auto& f : ev->findings) known = known || f.id == "connector.known_campaign_ip";
    CHECK(known);
    CHECK(ev->suspect);
  }
  SUBCASE("a certificate-bound hybrid connector is info only") {
    auto ev = assess_record(exchange("2022-09-01T10:00:00", "New-InboundConnector",
                                     {{"Name", "Inbound from 1c3e"}, {"ConnectorType", "OnPremises"},
                                      {"SenderDomains", "smtp:*;1"}, {"TlsSenderCertificateName", "mail.contoso.example"},
                                      {"RestrictDomainsToCertificate", "True"}}),
                            cfg);
    REQUIRE(ev);
    CHECK(ev->max_severity() == Severity::info);
    CHECK(!ev->suspect);
  }
  SUBCASE("operation names are matched loosely") {
    auto ev = assess_record(exchange("2022-09-01T10:00:00", "new-inboundconnector ", {{"Name", "Ran_abCDe"}}), cfg);
    REQUIRE(ev);
    CHECK(ev->max_severity() == Severity::high);
  }
  SUBCASE("records of no interest are not kept") {
    CHECK(!assess_record(exchange("2022-09-01T10:00:00", "Set-Mailbox", {{"Identity", "x"}}), cfg));
  }
}

TEST_CASE("transport rules: protective headers by name and prefix, others low") {
  const RuleConfig& cfg = builtin_config();
  auto sev = [&](const std::string& header) {
    auto ev = assess_record(exchange("2022-09-01T10:00:00", "New-TransportRule", {{"Name", "r"}, {"RemoveHeader", header}}), cfg);
    REQUIRE(ev);
    return ev->max_severity();
  };
  CHECK(sev("ARC-Seal") == Severity::high);
  CHECK(sev("arc-message-signature") == Severity::high);
  CHECK(sev("X-MS-Exchange-AntiSpam-MessageData-7") == Severity::high);  // prefix
  CHECK(sev("X-Forefront-Antispam-Report-Untrusted") == Severity::high);
  CHECK(sev("X-MS-Exchange-ExternalOriginalInternetSender") == Severity::high);
  CHECK(sev("X-Contoso-Route-Tag") == Severity::low);
}

TEST_CASE("correlation: burst needs several rules close together; cleanup needs the creation") {
  RuleConfig cfg = builtin_config();
  SUBCASE("two stripping rules are no burst, three are") {
    for (std::size_t n : {2u, 3u}) {
      AuditAnalyzer an(cfg);
      for (std::size_t i = 0; i < n; ++i)
        an.add(exchange("2022-09-01T10:0" + std::to_string(i) + ":00", "New-TransportRule",
                        {{"Name", "Test0" + std::to_string(i + 1)}, {"RemoveHeader", "ARC-Seal"}}));
      auto tls = an.finish();
      CHECK(index(tls).count("transport_rule.burst") == (n >= 3 ? 1u : 0u));
    }
  }
  SUBCASE("rules days apart are no burst") {
    AuditAnalyzer an(cfg);
    for (int d = 1; d <= 4; ++d)
      an.add(exchange("2022-09-0" + std::to_string(d) + "T10:00:00", "New-TransportRule",
                      {{"Name", "r" + std::to_string(d)}, {"RemoveHeader", "ARC-Seal"}}));
    CHECK(index(an.finish()).count("transport_rule.burst") == 0);
  }
  SUBCASE("removing a suspect connector is cleanup; removing a benign one is not") {
    AuditAnalyzer an(cfg);
    an.add(exchange("2022-09-01T10:00:00", "New-InboundConnector", {{"Name", "Ran_qWert"}}));
    an.add(exchange("2022-09-01T10:00:00", "New-InboundConnector", {{"Name", "Inbound from HQ"}}));
    an.add(exchange("2022-09-01T19:00:00", "Remove-InboundConnector", {{"Identity", "ran_qwert"}}));
    an.add(exchange("2022-09-01T19:00:00", "Remove-InboundConnector", {{"Identity", "Inbound from HQ"}}));
    an.add(exchange("2022-09-01T19:00:00", "Remove-InboundConnector", {{"Identity", "Ran_zzZZz"}}));  // never seen
    auto tls = an.finish();
    auto m = index(tls);
    auto [lo, hi] = m.equal_range("cleanup.connector_removed");
    std::map<std::string, Severity> got;
    for (auto it = lo; it != hi; ++it) got[it->second.first->object] = it->second.second->severity;
    CHECK(got == std::map<std::string, Severity>{{"ran_qwert", Severity::high}, {"Ran_zzZZz", Severity::medium}});
  }
  SUBCASE("events are dropped beyond the bound, info first") {
    cfg.max_events = 2;
    AuditAnalyzer an(cfg);
    for (int i = 0; i < 5; ++i)
      an.add(exchange("2022-09-01T10:00:0" + std::to_string(i), "Remove-TransportRule", {{"Identity", "x"}}));
    an.add(exchange("2022-09-01T10:00:09", "New-InboundConnector", {{"Name", "Ran_abcde"}}));
    auto tls = an.finish();
    CHECK(an.dropped() == 3);
    CHECK(index(tls).count("connector.ran_name") == 1);
  }
}

TEST_CASE("helpers") {
  CHECK(is_ran_connector_name("Ran_jBelh"));
  CHECK(is_ran_connector_name("Ran_xAFzd"));
  CHECK(!is_ran_connector_name("Ran_jBel"));
  CHECK(!is_ran_connector_name("Ran_jBelh1"));
  CHECK(!is_ran_connector_name("ran_jBelh"));
  CHECK(!is_ran_connector_name("Ran_jB3lh"));
  CHECK(split_ip_list("170.75.174.97;170.75.172.8; 54.39.94.145,{1.2.3.4, 5.6.7.8}") ==
        std::vector<std::string>{"170.75.174.97", "170.75.172.8", "54.39.94.145", "1.2.3.4", "5.6.7.8"});
  CHECK(normalize_operation("Update application \xE2\x80\x93 Certificates and secrets management ") ==
        "update application - certificates and secrets management");
  CHECK(normalize_operation("Add app role assignment to service principal.") ==
        "add app role assignment to service principal");
  CHECK(parse_severity("HIGH") == Severity::high);
  CHECK(!parse_severity("severe"));
}

TEST_CASE("mutated exports: every byte pattern is read, rated and exported without throwing") {
  std::mt19937 rng(20221922);
  const std::string specials = "\"\\,{}[]\n\r:\xff\xc3\0";
  for (const char* name : {"attack.csv", "attack.json", "attack.jsonl", "attack-cloudappevents.csv"}) {
    std::ifstream in(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/audit/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string original = ss.str();
    REQUIRE(original.size() > 1000);
    for (int round = 0; round < 40; ++round) {
      std::string text = original;
      int edits = 1 + static_cast<int>(rng() % 20);
      for (int e = 0; e < edits; ++e) {
        std::size_t pos = rng() % text.size();
        switch (rng() % 4) {
          case 0: text[pos] = specials[rng() % specials.size()]; break;
          case 1: text.insert(pos, 1, specials[rng() % specials.size()]); break;
          case 2: text.erase(pos, 1 + rng() % 40); break;
          case 3: text.resize(pos); break;
        }
        if (text.empty()) text = "x";
      }
      CAPTURE(name);
      CAPTURE(round);
      AuditAnalyzer an(builtin_config());
      std::size_t diags = 0;
      ReadSummary sum;
      CHECK_NOTHROW(sum = read_audit_buffer(text, name, [&](const AuditRecord& r) { an.add(r); },
                                            [&](const Diagnostic&) { ++diags; }));
      std::vector<TenantTimeline> tls;
      CHECK_NOTHROW(tls = an.finish());
      std::string exported;
      CHECK_NOTHROW(exported = indicator_text(tls, name, "2026-11-27", builtin_pack()));
      auto pack = hdrscan::heuristics::IndicatorPack::empty();
      CHECK_NOTHROW(pack.add_text(exported, "exported"));
      CHECK((sum.records + sum.skipped > 0 || sum.fatal || diags > 0));
    }
  }
}
