// audit_rules.hpp: findings of `hdrscan audit`: what in a tenant's audit log is the 2022
// Exchange Online connector-relay campaign (campaign.md sections 1 and 5).
//
// Purpose: rate each audit record on its own (assess_record: connector and transport-rule
// cmdlets, app role assignments, credentials, the Azure AD PowerShell app id, the Swagger
// user agent), keep only the records that matter, then correlate per tenant (AuditAnalyzer::
// finish: failed sign-ins then a success from one IP (credential stuffing), bursts of
// header-stripping rules, a suspect connector next to stripping rules,
// removal of a connector or rule created earlier = cleanup after a wave).
// Finding ids are stable (documented in the finding table in audit_rules.cpp); severities are
// info < low < medium < high < critical. Every finding carries its evidence (field, value, why).
//
// Limits: memory holds only the relevant events (at most RuleConfig::max_events; beyond that
// info-only events are dropped and counted, and beyond twice that everything new is dropped),
// never the whole export. Records are correlated after reading, so exports in any order
// (Purview CSVs are newest first) and several files of one tenant give the same timeline;
// events with the same record Id in one tenant are counted once.
// Diagnostics: none; rules never throw on odd records (missing fields give fewer findings).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "scanner/audit/audit_reader.hpp"

namespace hdrscan::scanner::audit {

enum class Severity { info = 0, low, medium, high, critical };
std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view word);

struct EvidenceItem {
  std::string field;  // "Parameters.SenderIPAddresses", "UserAgent", "ModifiedProperties.AppRole.Id"
  std::string value;  // capped, UTF-8
  std::string note;   // why it matters
};

struct Finding {
  std::string id;     // stable, e.g. "connector.ran_name"
  Severity severity = Severity::info;
  std::string title;  // one line for humans
  std::vector<EvidenceItem> evidence;
};

enum class EventKind {
  other, connector_new, connector_set, connector_remove, rule_new, rule_set, rule_remove,
  role_assignment, credentials, signin
};

// One audit record that matters, with its findings.
struct AuditEvent {
  std::string tenant;  // OrganizationId, "unknown" when absent
  std::int64_t epoch = 0;
  std::string time;    // normalized "YYYY-MM-DDTHH:MM:SSZ"
  std::string operation, user, client_ip, app_id, user_agent, result_status, record_id;
  std::string file;
  std::size_t line = 0;
  EventKind kind = EventKind::other;
  std::string object;                    // connector / rule name, or the target app
  std::vector<std::string> ips;          // connector SenderIPAddresses and EFSkipIPs (tokens)
  std::vector<std::string> removed_headers;  // transport rule RemoveHeader values
  std::vector<std::string> granted_ids;  // role assignment: the target principal's ids / names
  bool suspect = false;                  // judged part of the attack (a finding >= high)
  std::vector<Finding> findings;
  Severity max_severity() const;
};

struct RuleConfig {
  // Returns a non-empty description ("builtin:14 (Microsoft blog 2022-09)") when the IP or
  // CIDR text is a known campaign connector IP; unset = no IP knowledge.
  std::function<std::string(std::string_view)> known_connector_ip;
  std::vector<std::string> protected_headers;   // lower-case exact names
  std::vector<std::string> protected_prefixes;  // lower-case name prefixes
  std::int64_t burst_gap = 3600;        // rules closer than this (seconds) form one burst
  std::size_t burst_min = 3;            // header-removing rules that make a burst
  std::int64_t pairing_window = 86400;  // suspect connector and stripping rules this close
  std::size_t stuffing_min = 5;         // failed PowerShell sign-ins from one IP before a success
  std::int64_t stuffing_window = 3600;  // ... within this many seconds
  std::size_t max_events = 200000;
  // ARC, antispam and Enhanced Filtering headers (campaign.md section 1.3); no IP lookup.
  static RuleConfig defaults();
};

// Rates one record alone; nullopt when it is of no interest to the audit.
std::optional<AuditEvent> assess_record(const AuditRecord& rec, const RuleConfig& cfg);

struct TenantTimeline {
  std::string tenant;
  std::vector<AuditEvent> events;           // by time, then file and line
  std::map<Severity, std::size_t> counts;   // findings per severity
  // Every record of the tenant in the inputs (relevant or not): how many, the first and last
  // time, and the domains of its users' UPNs with their counts (at most 64 domains).
  std::size_t records = 0;
  std::string first_seen, last_seen;        // "YYYY-MM-DDTHH:MM:SSZ", "" without records
  std::map<std::string, std::size_t> domains;
  Severity max_severity() const;
};

class AuditAnalyzer {
 public:
  explicit AuditAnalyzer(RuleConfig cfg) : cfg_(std::move(cfg)) {}
  void add(const AuditRecord& rec);
  void add_event(AuditEvent ev);  // already assessed (tests)
  // Correlates and returns the timelines, tenants in order of first appearance (those with
  // relevant events first, then those whose records held nothing of interest).
  std::vector<TenantTimeline> finish();
  std::size_t dropped() const { return dropped_; }
  std::size_t duplicates() const { return duplicates_; }
  const RuleConfig& config() const { return cfg_; }

 private:
  struct Seen {
    std::size_t records = 0;
    std::int64_t first = 0, last = 0;
    std::map<std::string, std::size_t> domains;
  };
  RuleConfig cfg_;
  std::map<std::string, Seen> seen_tenants_;  // every record's tenant (bounded: see add)
  std::vector<std::string> tenant_order_;
  std::vector<AuditEvent> events_;
  std::unordered_set<std::string> seen_;  // tenant + record Id of the kept events
  std::size_t dropped_ = 0, duplicates_ = 0;
};

// Helpers exposed for tests.
bool is_ran_connector_name(std::string_view name);                // ^Ran_[A-Za-z]{5}$
std::vector<std::string> split_ip_list(std::string_view value);   // "a;b, c" -> {a,b,c}
std::string normalize_operation(std::string_view op);             // lower, '–'->'-', no final '.'

}  // namespace hdrscan::scanner::audit
