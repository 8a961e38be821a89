// audit.hpp: `hdrscan audit [--format text|jsonl] [--output FILE] [--export-indicators FILE]
// [--min-severity LEVEL] [--show-severity LEVEL] [--indicators FILE]... FILE...`
//
// Purpose: read Microsoft 365 audit exports (audit_reader.hpp), find the campaign's tenant
// configuration (audit_rules.hpp), print a timeline per tenant with the evidence of every
// finding, and optionally write the connector IPs and stripped header names found as an
// indicator file that `hdrscan scan --indicators` accepts.
// Exit status: 0 no finding at/above --min-severity (default high), 1 findings, 2 error (an
// unreadable input, an unwritable output, a bad indicator file or option). Malformed rows are
// diagnostics ("file:line: reason" on standard error, and "diagnostic" objects in jsonl), not
// errors: the audit goes on.
// Output: text: per tenant, events by time, each finding "severity id title" with its
// evidence; jsonl: one {"type":"finding"} object per finding (tenant, time, severity, id,
// title, operation, user, object, source {path,line}, evidence [{field,value,note}]), then
// {"type":"diagnostic"} objects and one {"type":"summary"} object last.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "heuristics/indicators.hpp"
#include "scanner/audit/audit_reader.hpp"
#include "scanner/audit/audit_rules.hpp"

namespace CLI { class App; }

namespace hdrscan::scanner {

// Registers "audit" on `app` (the options above); its callback runs run_audit and stores the
// exit status in `exit_code`.
void add_audit_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner

namespace hdrscan::scanner::audit {

struct AuditOptions {
  std::vector<std::string> inputs;           // FILE... ("-" = standard input)
  std::string format = "text";               // text | jsonl
  std::string output;                        // "" or "-": standard output
  std::string export_indicators;             // "" = none
  Severity min_severity = Severity::high;    // exit status 1 at/above this
  Severity show_severity = Severity::info;   // findings printed at/above this
  bool verbose = false;                      // text: every event and its evidence, uncollapsed
  std::vector<std::string> indicator_files;  // added to the builtin pack (known IPs, headers)
  ReadLimits limits;
};

// Runs the audit; output to `out`, diagnostics to `err`. Returns the exit status.
int run_audit(const AuditOptions& opt, std::ostream& out, std::ostream& err);
// Same, writing to --output (or standard output) and standard error.
int run_audit(const AuditOptions& opt);

// Rule configuration from an indicator pack: its connector IPs answer known_connector_ip,
// its stripped-header / stripped-prefix entries join the built-in protective header list.
RuleConfig rule_config_from_pack(const heuristics::IndicatorPack& pack);

// The indicator file for the suspect connectors and header-stripping rules of `timelines`
// (format of heuristics/indicators.hpp). `label` names the audited input(s) in @source,
// `generated` is the @version date ("2026-11-27"). Entries found: counted in *entries.
// A removed header is written as `stripped-header` (read by strip.signed_header_removed);
// when `roles` (the pack the audit ran with) names it as a tenant header (the tenant's ARC
// set, verdict or X-Microsoft-Antispam, by name or consumer name, any case), the entry with
// its role follows as `tenant-header`, so the file alone, loaded into another scan, feeds the
// role-based stripping detectors (strip.tenant_arc_missing, ..._verdict_missing,
// ..._msantispam_missing) too; a header without a role says so in a comment.
std::string indicator_text(const std::vector<TenantTimeline>& timelines, const std::string& label,
                           const std::string& generated, const heuristics::IndicatorPack& roles,
                           std::size_t* entries = nullptr);

}  // namespace hdrscan::scanner::audit
