// waves.hpp: `hdrscan waves [options] RECORDS.jsonl...` (issue 20): groups flagged scan records
// into campaign waves (who: tenants, connector IPs; from where: sender and URL domains; when:
// first/last seen; with which lures and templates) and exports them for sharing (STIX 2.1
// bundle, MISP event). The algorithm and its parameters: docs/waves.md.
//
// Files: waves.cpp (the command: reading records, options, output), grouping.cpp (records ->
// waves), render.cpp (text and JSON), sharing.cpp (what the exports may share and flag for
// IDS), stix.cpp, misp.cpp (sharing formats), iocs.cpp (CSV of indicators), html.cpp (the
// timeline page).
// Privacy: recipient addresses appear in no output unless --include-recipients is given (and
// the records carry them: `scan --include-recipients`); message bodies never.
// Exit status: 0 no wave, 1 at least one wave, 2 an error (an input that cannot be read, a bad
// record; the command goes on and reports every one with file:line).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scanner/records.hpp"

namespace CLI {
class App;
}

namespace hdrscan::scanner {

inline constexpr std::string_view kWavesSchema = "hdrscan.waves/1";

struct WaveOptions {
  std::int64_t window = 72 * 3600;  // seconds: links only between records this close in time
  int template_distance = 3;        // template link: SimHash fingerprints differing in <= bits
  std::size_t template_min_shingles = 16;  // fingerprints over fewer shingles never link
  std::size_t min_messages = 2;            // smaller groups are not waves
  bool link_tenant = true, link_ip = true, link_url = true, link_template = true;
  std::vector<std::string> ignore_domains;  // URL domains that never link (shared services)
};

// The default ignore_domains: services whose domains appear in unrelated mail (link
// rewriters, image CDNs of big platforms, schema and tracking hosts of Microsoft).
std::vector<std::string> default_ignore_domains();

// One flagged record and where it was read.
struct WaveRecord {
  ReadRecord rec;
  std::string file;        // the RECORDS file as given ("-" for standard input)
  std::uint64_t line = 0;  // 1-based
};

struct Counted {
  std::string value;
  std::size_t messages = 0;
  std::string extra;  // tenant: its onmicrosoft name; evidence: the highest weight
};

struct Wave {
  std::string id;                    // "w-" + 12 hex digits, stable over re-runs (docs/waves.md)
  std::vector<std::size_t> members;  // indices into the records, in time order
  std::optional<std::int64_t> first_seen, last_seen;
  std::vector<Counted> tenants;  // tenant id (or name when the id is unknown), extra = name
  std::vector<Counted> connector_ips, helos, envelope_domains, from_domains, from_addresses,
      url_domains, url_hosts, urls, subjects, templates, evidence, recipient_domains;
  // Recipient addresses of the members whose records carry them; shown only with
  // WavesRun::include_recipients.
  std::vector<Counted> recipients;
  std::map<std::string, std::size_t> links;  // link kind (tenant, ip, url, template) -> joins
  std::size_t representative = 0;  // index into the records: the highest score, then earliest
};

// Records -> waves, in order of first seen (then id). Pure.
std::vector<Wave> group_waves(const std::vector<WaveRecord>& records, const WaveOptions& opt);

// The location text of a record (as scan prints it; `hdrscan explain` accepts it).
std::string record_location(const ReadRecord& r);

// A tenant of `hdrscan audit --format jsonl` (docs/audit.md, type "tenant"): what the audit
// found configured there. A wave is joined to it by tenant id or by a connector IP that one
// of its connectors allows (audit_join.cpp).
struct AuditConnector {
  std::string name;
  bool suspect = false;
  std::vector<std::string> ips;
};
struct AuditRule {
  std::string name;
  bool suspect = false;
  std::vector<std::string> headers;
};
struct AuditApp {
  std::string app, role;
  bool suspect = false;
};
struct AuditTenant {
  std::string tenant, domain, source;  // source: FILE:LINE of the audit record
  std::vector<AuditConnector> connectors;
  std::vector<AuditRule> rules;
  std::vector<AuditApp> apps;
};
struct AuditMatch {
  std::size_t wave = 0, tenant = 0;  // indices into WavesRun::waves and ::audit
  std::string why;                   // "tenant id" or "connector IP 203.0.113.77"
};

// Reads the tenant objects of an audit JSONL file; a bad line is reported to `errors` as
// "FILE:LINE: reason". Matches waves to them.
bool read_audit(const std::string& path, std::vector<AuditTenant>& out,
                std::vector<std::string>& errors);
std::vector<AuditMatch> join_audit(const std::vector<Wave>& waves,
                                   const std::vector<AuditTenant>& audit);

struct WavesRun {
  std::vector<WaveRecord> records;  // the flagged records kept
  std::vector<Wave> waves;
  std::uint64_t read = 0, flagged = 0, bad = 0, skipped_unanalysed = 0;
  std::string min_verdict = "campaign";
  WaveOptions options;
  std::vector<AuditTenant> audit;  // --audit
  std::vector<AuditMatch> matches;
  bool include_recipients = false;  // --include-recipients: outputs may name recipients
  std::uint64_t with_recipients = 0;  // flagged records that carry recipient addresses
};

// What the sharing exports say (sharing.cpp, one place for stix, misp, iocs, html):
// a domain of a shared service (WaveOptions::ignore_domains) is never an indicator;
// a URL is an IDS indicator (to_ids, a STIX indicator) only when it was seen in at least two
// messages of the wave (the campaign's per-message dynamic URLs are not: they match nothing
// but the message already delivered, and fetching them confirms the recipient to the sender),
// none of its text was redacted (kRecipientMark) and its domain is not a shared service.
bool shared_service(const WavesRun& run, std::string_view domain);
std::string url_domain(std::string_view url);  // registrable domain of the URL's host
bool url_for_ids(const WavesRun& run, const Counted& url);
std::string url_note(const WavesRun& run, const Counted& url);  // why to_ids is what it is

std::string render_waves_text(const WavesRun& run);
std::string render_waves_json(const WavesRun& run);

enum class Tlp { white, green, amber, red };
std::optional<Tlp> parse_tlp(std::string_view word);

// STIX 2.1 bundle (one JSON document) and MISP event (core format); deterministic: the same
// records give the same bytes and ids.
std::string render_stix(const WavesRun& run, Tlp tlp);
// The indicators as CSV (iocs.cpp) and a static HTML timeline (html.cpp).
std::string render_csv_iocs(const WavesRun& run);
std::string render_waves_html(const WavesRun& run);
std::string render_misp(const WavesRun& run, Tlp tlp);

// UUID version 5 (RFC 4122, SHA-1) of `name` in `ns` (a UUID in text form).
std::string uuid5(std::string_view ns, std::string_view name);

void add_waves_command(CLI::App& app, int& exit_code);

}  // namespace hdrscan::scanner
