// report.hpp: the self-contained HTML report of a scan (`hdrscan scan --report FILE.html`).
//
// Purpose: one page an admin can open offline: verdict counts (unreadable and not_mail
// first), score histogram (analysed messages), top signals,
// messages over time (by the Date header, per UTC day), top connecting IPs and sending
// tenants, and a table of flagged messages with their evidence.
// How: HtmlReport accumulates aggregates as records stream past (it never keeps all
// messages); write() emits one HTML file, rendered whole on the server side (tables, summary,
// inline SVG charts; every value HTML-escaped, so hostile subjects cannot inject markup), with
// inline CSS and a Content-Security-Policy that forbids every network fetch. It is complete
// without JavaScript; the one inline script only adds sorting and filtering. The numbers are
// also in data-* attributes so tests compare the page with the JSONL output, and the data in
// one JSON block ("hdrscan.report/1") for tools. The page states what "flagged" means.
// Connecting IPs and sending tenants come from Assessment::connection, the analyzer's own
// reading of who connected to the sending Exchange Online tenant (heuristics.hpp), and only
// for flagged messages (at or above min_verdict): the connecting IP when it parses and is not
// private; the tenant id (lower-case GUID) and a connecting HELO ending in .onmicrosoft.com
// (the tenant's own name, lower-cased). Signals are counted over every message. Each value
// counts once per message.
// Limits: the flagged table keeps the first `max_flagged_rows` flagged messages (the page says
// how many were left out); distinct IPs/tenants/signals are capped at `max_keys` (later new
// keys are counted as "other"); dates outside 1990..2100 count as "no usable date".
// Diagnostics: write() returns false and says why (cannot create the file, write error).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scanner/printers.hpp"

namespace hdrscan::scanner {

struct ReportOptions {
  std::size_t max_flagged_rows = 2000;
  std::size_t max_keys = 50000;
  std::size_t top_n = 20;
  // What "flagged" means: analysed at or above this verdict (scan's --min-verdict, the same
  // count as ScanSummary::flagged and the exit status). The flagged table, IPs and tenants.
  heuristics::Verdict min_verdict = heuristics::Verdict::campaign;
  heuristics::Thresholds thresholds;  // colours the score histogram
  std::string title = "hdrscan scan report";
  std::vector<std::string> inputs;  // the PATH arguments, shown in the header
};

class HtmlReport {
 public:
  explicit HtmlReport(ReportOptions opt = {});
  void add(const ScanRecord& rec);
  // The data block the page renders (also useful for tests).
  nlohmann::json data(const ScanSummary& summary) const;
  bool write(const std::string& path, const ScanSummary& summary, std::string& error) const;
  // The whole page as a string.
  std::string render(const ScanSummary& summary) const;

 private:
  struct Counter {
    std::map<std::string, std::uint64_t> counts;
    std::uint64_t other = 0;
    void add(const std::string& key, std::size_t cap);
  };
  ReportOptions opt_;
  std::uint64_t messages_ = 0;
  std::uint64_t verdicts_[3] = {0, 0, 0};  // analysed: clean, suspicious, campaign
  std::uint64_t unreadable_ = 0, not_mail_ = 0;
  std::uint64_t histogram_[10] = {};        // score 0-9, 10-19, ..., 90-100
  Counter signals_;                          // messages in which a signal fired
  std::map<std::string, std::int64_t> signal_weight_;  // summed weight per signal
  Counter ips_, tenants_, error_codes_;
  std::map<std::int64_t, std::array<std::uint64_t, 3>> days_;  // UTC day -> verdict counts
  std::uint64_t undated_ = 0;
  std::uint64_t flagged_total_ = 0;
  nlohmann::json flagged_ = nlohmann::json::array();
};

}  // namespace hdrscan::scanner
