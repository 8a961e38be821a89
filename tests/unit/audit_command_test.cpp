// audit_command_test: run_audit as the `hdrscan audit` command runs it (exit status, text and
// JSON Lines output, diagnostics) and the indicator export, parsed back with the indicator
// pack loader (IndicatorPack::add_file) that `hdrscan scan --indicators` uses.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "heuristics/heuristics.hpp"
#include "heuristics/indicators.hpp"
#include "mime/message.hpp"
#include "scanner/audit/audit.hpp"

using namespace hdrscan::scanner::audit;

namespace {

std::string corpus(const std::string& name) { return std::string(HDRSCAN_SOURCE_DIR) + "/corpus/audit/" + name; }

struct Run {
  int status = -1;
  std::string out, err;
};

Run run(AuditOptions opt) {
  std::ostringstream out, err;
  Run r;
  r.status = run_audit(opt, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string temp_path(const std::string& stem) {
  return "/tmp/hdrscan-audit-test-" + std::to_string(::getpid()) + "-" + stem;
}

}  // namespace

TEST_CASE("exit status: 1 on the attack, 0 on the benign tenant, 2 on an unreadable input") {
  AuditOptions opt;
  opt.inputs = {corpus("attack.csv")};
  CHECK(run(opt).status == 1);
  opt.inputs = {corpus("benign.csv")};
  CHECK(run(opt).status == 0);
  opt.min_severity = Severity::medium;
  CHECK(run(opt).status == 1);
  opt.min_severity = Severity::high;
  opt.inputs = {corpus("benign.csv"), "/nonexistent/audit.csv"};
  Run r = run(opt);
  CHECK(r.status == 2);
  CHECK(r.err.find("/nonexistent/audit.csv: cannot open") != std::string::npos);
  // the readable input was still audited
  CHECK(r.out.find("connector.created") != std::string::npos);
}

TEST_CASE("a bad --indicators file is an error naming file and line") {
  std::string bad = temp_path("bad.ind");
  {
    std::ofstream f(bad);
    f << "@format hdrscan-indicators 1\n@source test\nconnector-ip 300.1.2.3\n";
  }
  AuditOptions opt;
  opt.inputs = {corpus("attack.csv")};
  opt.indicator_files = {bad};
  Run r = run(opt);
  CHECK(r.status == 2);
  CHECK(r.err.find(bad + ":3:") != std::string::npos);
  std::remove(bad.c_str());
}

TEST_CASE("text output: a timeline per tenant with evidence") {
  AuditOptions opt;
  opt.inputs = {corpus("attack.jsonl"), corpus("benign.jsonl")};
  Run r = run(opt);
  CHECK(r.status == 1);
  // The per-tenant summary first (issue 18): tenant and domain, first/last seen, the
  // connector with its IPs, the app and who granted it, the header-stripping rules.
  CHECK(r.out.find("== Tenants\ntenant ") == 0);
  CHECK(r.out.find("(fabrikam.example): 104 findings, highest critical") != std::string::npos);
  CHECK(r.out.find("seen:        2022-06-14T03:10:00Z .. 2022-09-01T18:40:31Z (38 records)") != std::string::npos);
  CHECK(r.out.find("connector:   Ran_jBelh  SUSPECT, created 2022-09-01T10:02:11Z") != std::string::npos);
  CHECK(r.out.find("(8 known campaign IPs)") != std::string::npos);
  CHECK(r.out.find("app:         Fabrikam Mail Sync  SUSPECT: Exchange.ManageAsApp granted by "
                   "it-admin@fabrikam.example") != std::string::npos);
  CHECK(r.out.find("rules:       12 transport rules removing headers (12 removing protective ones)") !=
        std::string::npos);
  CHECK(r.out.find("(contoso.example)") != std::string::npos);
  CHECK(r.out.find("== Tenants") < r.out.find("== Timeline"));
  // Repeated findings collapsed: the 12 removals are one row.
  CHECK(r.out.find("12x  Remove-TransportRule 'Test01, Test02, Test03, Test04 (+8 more)'") != std::string::npos);
  CHECK(r.out.find("New-InboundConnector 'Ran_jBelh'") != std::string::npos);
  CHECK(r.out.find("Parameters.SenderIPAddresses = 170.75.174.97  (known campaign IP: builtin:") != std::string::npos);
  // the connector comes before its rules, the rules before their removal
  auto conn = r.out.find("New-InboundConnector 'Ran_jBelh'");
  auto rule = r.out.find("New-TransportRule 'Test01'");
  auto removal = r.out.find("Remove-InboundConnector 'Ran_jBelh'");
  CHECK(conn < rule);
  CHECK(rule < removal);
  CHECK(removal != std::string::npos);
  // --show-severity hides lower findings
  opt.show_severity = Severity::critical;
  Run c = run(opt);
  CHECK(c.out.find("connector.known_campaign_ip") != std::string::npos);
  CHECK(c.out.find("connector.ran_name") == std::string::npos);
  // --verbose: every event its own row, every evidence item.
  opt.show_severity = Severity::info;
  opt.verbose = true;
  Run v = run(opt);
  std::size_t removals = 0;
  for (auto p = v.out.find("  Remove-TransportRule 'Test0"); p != std::string::npos;
       p = v.out.find("  Remove-TransportRule 'Test0", p + 1))
    ++removals;
  CHECK(removals == 12);
  CHECK(v.out.find("more; --verbose") == std::string::npos);
  CHECK(v.out.size() > r.out.size());
}

TEST_CASE("jsonl output: findings, diagnostics with file and line, summary last") {
  AuditOptions opt;
  opt.format = "jsonl";
  opt.inputs = {corpus("attack-malformed.csv")};
  Run r = run(opt);
  CHECK(r.status == 1);
  std::istringstream in(r.out);
  std::string line;
  int findings = 0, diags = 0;
  nlohmann::json last;
  std::set<std::size_t> diag_lines;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    REQUIRE(j.contains("type"));
    if (j["type"] == "finding") {
      ++findings;
      CHECK(j["tenant"].get<std::string>().size() == 36);
      CHECK(!j["evidence"].empty());
      CHECK(j["source"]["line"].get<int>() > 0);
      CHECK(parse_severity(j["severity"].get<std::string>()));
    } else if (j["type"] == "diagnostic") {
      ++diags;
      CHECK(j["path"].get<std::string>().find("attack-malformed.csv") != std::string::npos);
      diag_lines.insert(j["line"].get<std::size_t>());
    }
    last = j;
  }
  CHECK(findings > 50);
  CHECK(diags == 5);
  CHECK(diag_lines == std::set<std::size_t>{5, 9, 14, 17, 32});
  REQUIRE(last["type"] == "summary");
  CHECK(last["records"] == 38);
  CHECK(last["skipped"] == 4);
  CHECK(last["exit_status"] == 1);
  CHECK(last["tenants"][0]["max_severity"] == "critical");
}

TEST_CASE("jsonl output: schema hdrscan.audit/1 and one key set per record type, on every export") {
  // The key sets documented in docs/audit.md, in order.
  const std::map<std::string, std::vector<std::string>> keys = {
      {"tenant", {"schema", "type", "tenant", "domain", "records", "first_seen", "last_seen", "events", "findings",
                  "max_severity", "connectors", "apps", "transport_rules"}},
      {"finding", {"schema", "type", "tenant", "time", "severity", "id", "title", "operation", "user", "object",
                   "source", "client_ip", "app_id", "user_agent", "record_id", "evidence"}},
      {"diagnostic", {"schema", "type", "path", "line", "reason", "level"}},
      {"summary", {"schema", "type", "files", "records", "skipped", "duplicates", "dropped", "tenants",
                   "min_severity", "exit_status"}}};
  std::map<std::string, int> seen;
  for (const char* f : {"attack.csv", "attack.json", "attack.jsonl", "attack-cloudappevents.csv",
                        "attack-malformed.csv", "attack-malformed.json", "attack-malformed.jsonl", "benign.csv",
                        "benign.json", "benign.jsonl", "benign-cloudappevents.csv", "attack-rotated-ip.csv"}) {
    AuditOptions opt;
    opt.format = "jsonl";
    opt.inputs = {corpus(f)};
    Run r = run(opt);
    std::istringstream in(r.out);
    std::string line, first_type;
    while (std::getline(in, line)) {
      auto j = nlohmann::ordered_json::parse(line);
      CHECK(j["schema"] == "hdrscan.audit/1");
      const std::string type = j["type"];
      if (first_type.empty()) first_type = type;
      REQUIRE_MESSAGE(keys.count(type), type);
      std::vector<std::string> got;
      for (auto it = j.begin(); it != j.end(); ++it) got.push_back(it.key());
      CHECK_MESSAGE(got == keys.at(type), f << " " << type);
      if (type == "finding")
        for (const auto& e : j["evidence"]) CHECK(e.size() == 3);  // field, value, note
      ++seen[type];
    }
    CHECK_MESSAGE(first_type == "tenant", f);  // the per-tenant summary comes first
  }
  CHECK(seen.size() == 4);
}

TEST_CASE("indicator export: the attack's IPs and headers, accepted by the indicator loader") {
  std::string ind = temp_path("attack.ind");
  AuditOptions opt;
  opt.inputs = {corpus("attack.csv")};
  opt.export_indicators = ind;
  Run r = run(opt);
  CHECK(r.status == 1);
  auto pack = hdrscan::heuristics::IndicatorPack::empty();
  REQUIRE_NOTHROW(pack.add_file(ind));
  CHECK(pack.connector_ips.size() == 8);
  CHECK(pack.stripped_headers.size() == 12);
  REQUIRE(!pack.stamps.empty());
  CHECK(pack.stamps[0].version.find("audit-") != std::string::npos);
  CHECK(pack.connector_ips[0].from.source.find("connector Ran_jBelh created 2022-09-01T10:02:11Z") != std::string::npos);
  CHECK(pack.is_stripped_header("arc-message-signature"));
  CHECK(pack.is_stripped_header("X-MS-Exchange-AntiSpam-MessageData"));
  // the removed headers that play a tenant-header role are written with it: the attack's rules
  // removed the three ARC headers, X-Forefront-Antispam-Report and X-Microsoft-Antispam
  using hdrscan::heuristics::TenantHeader;
  CHECK(pack.tenant_headers.size() == 5);
  CHECK(pack.tenant_header_names(TenantHeader::arc_set, false).size() == 3);
  REQUIRE(pack.tenant_header_names(TenantHeader::verdict, true).size() == 1);
  CHECK(pack.tenant_header_names(TenantHeader::verdict, true).front() == "X-Forefront-Antispam-Report-Untrusted");
  CHECK(pack.tenant_header_names(TenantHeader::ms_antispam, false).size() == 1);
  {
    std::ifstream in(ind);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().find("# X-MS-Exchange-SkipListedInternetSender: no tenant-header role") != std::string::npos);
  }
  auto ip = hdrscan::mime::parse_ip("66.70.201.131");
  REQUIRE(ip);
  CHECK(pack.match_connector_ip(*ip));
  std::remove(ind.c_str());

  // the benign tenant exports nothing, and the file still loads
  opt.inputs = {corpus("benign.csv")};
  CHECK(run(opt).status == 0);
  auto empty = hdrscan::heuristics::IndicatorPack::empty();
  REQUIRE_NOTHROW(empty.add_file(ind));
  CHECK(empty.size() == 0);
  std::remove(ind.c_str());

  // an unwritable export is an error
  opt.export_indicators = "/nonexistent/dir/x.ind";
  CHECK(run(opt).status == 2);
}

TEST_CASE("indicator export: audit-log text cannot inject indicator lines") {
  AuditAnalyzer an(rule_config_from_pack(hdrscan::heuristics::IndicatorPack::builtin()));
  AuditRecord r;
  r.file = "evil.csv\nconnector-ip 9.9.9.9";
  r.line = 2;
  r.time = "2022-09-01T10:00:00";
  REQUIRE(parse_time(r.time, r.epoch));
  r.operation = "New-InboundConnector";
  r.organization_id = "org\nstripped-header Subject";
  r.parameters = {{"Name", "Ran_abcde\nconnector-ip 8.8.8.8"},
                  {"SenderIPAddresses", "54.39.94.145;8.8.4.4\nconnector-ip;not-an-ip"}};
  r.data = nlohmann::json::object();
  an.add(r);
  AuditRecord rule = r;
  rule.operation = "New-TransportRule";
  rule.parameters = {{"Name", "Test01"}, {"RemoveHeader", "ARC-Seal\nconnector-ip 7.7.7.7"}};
  an.add(rule);
  std::size_t n = 0;
  std::string text =
      indicator_text(an.finish(), "evil.csv", "2026-11-27", hdrscan::heuristics::IndicatorPack::builtin(), &n);
  auto pack = hdrscan::heuristics::IndicatorPack::empty();
  REQUIRE_NOTHROW(pack.add_text(text, "exported"));
  std::set<std::string> ips;
  for (const auto& c : pack.connector_ips) ips.insert(c.text);
  CHECK(ips == std::set<std::string>{"54.39.94.145", "8.8.4.4"});
  CHECK(pack.stripped_headers.empty());  // "ARC-Seal\nconnector-ip 7.7.7.7" is no header name
  CHECK(n == 2);
}

TEST_CASE("indicator export: the removed headers' roles feed the role-based stripping detectors") {
  // A scan that loads the export into a pack without those tenant-header entries (an analyst's
  // pack, an older one): with the old export (stripped-header lines only) the ARC detector has
  // no names to look for; with the roles the export now writes, it judges the ARC set.
  std::string ind = temp_path("roles.ind");
  AuditOptions opt;
  opt.inputs = {corpus("attack.csv")};
  opt.export_indicators = ind;
  REQUIRE(run(opt).status == 1);
  std::string exported;
  {
    std::ifstream in(ind);
    std::stringstream text;
    text << in.rdbuf();
    exported = text.str();
  }
  std::remove(ind.c_str());
  auto without_roles = [](std::string_view text) {
    std::string out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);)
      if (line.rfind("tenant-header ", 0) != 0) out += line + "\n";
    return out;
  };
  std::string exported_old = without_roles(exported);
  REQUIRE(exported_old.size() < exported.size());
  std::string base = without_roles(hdrscan::heuristics::builtin_indicator_text());

  std::ifstream in(std::string(HDRSCAN_SOURCE_DIR) + "/corpus/samples/campaign-thirdparty-1.eml", std::ios::binary);
  std::stringstream raw;
  raw << in.rdbuf();
  const std::string raw_bytes = raw.str();  // the parsed message views its bytes: keep them
  auto msg = hdrscan::mime::parse_message(raw_bytes);
  auto assess = [&](const std::string& export_text) {
    auto pack = std::make_shared<hdrscan::heuristics::IndicatorPack>();
    pack->add_text(base, "builtin-without-tenant-headers");
    pack->add_text(export_text, "exported.ind");
    return hdrscan::heuristics::Analyzer(pack).assess(msg);
  };
  auto fired = [](const hdrscan::heuristics::Assessment& a, std::string_view id) {
    for (const auto& e : a.evidence)
      if (e.signal == id) return true;
    return false;
  };
  auto old_result = assess(exported_old);
  auto new_result = assess(exported);
  CHECK_FALSE(fired(old_result, "strip.tenant_arc_missing"));
  CHECK(fired(new_result, "strip.tenant_arc_missing"));
  // with the built-in pack's own roles present, the export's repeat of them changes nothing
  auto full = std::make_shared<hdrscan::heuristics::IndicatorPack>(hdrscan::heuristics::IndicatorPack::builtin());
  auto with_builtin = hdrscan::heuristics::Analyzer(full).assess(msg);
  full->add_text(exported, "exported.ind");
  auto with_both = hdrscan::heuristics::Analyzer(full).assess(msg);
  CHECK(with_both.score == with_builtin.score);
  CHECK(fired(with_both, "strip.tenant_arc_missing"));
}
