// printers.hpp: output formats of `hdrscan scan`, each a printer over one result type
// (scanner::MessageReport), ripgrep style: the scan driver walks and analyses, printers only
// format. Formats: text (one line per message, optional ANSI colour, then a summary), jsonl
// (one JSON object per message, schema "hdrscan.scan/2", docs/output-schema.json) and csv (the
// flat subset, RFC 4180 quoting, one physical line per record). Every format shows the same
// verdict word (verdict_word: unreadable, not_mail, clean, suspicious, campaign) and no score
// for a record that was not analysed, and says when the verdict came from an attached
// message (Assessment::nested_from: JSONL field, last CSV column, a note in text).
//
// Limits: printers never throw on message content; every string is made valid UTF-8 (invalid
// bytes -> U+FFFD). CSV and text replace control characters by spaces so a record is always
// one line; CSV also defuses spreadsheet formulas in attacker-controlled text fields (a
// leading = + - @ gets a ' prefix). JSONL is the lossless format.
// Diagnostics: write errors are reported by the driver (it checks the stream), not here.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scanner/pipeline.hpp"

namespace hdrscan::scanner {

inline constexpr std::string_view kScanSchema = "hdrscan.scan/2";
inline constexpr std::string_view kSummarySchema = "hdrscan.summary/2";

enum class OutputFormat { text, jsonl, csv };

// One scanned message as the printers see it: the report plus its global sequence number
// (0-based position of the message among all messages of all inputs, in input order; the
// same number in a sharded run, so shard outputs can be merged back in order).
struct ScanRecord {
  std::uint64_t seq = 0;
  const MessageReport* report = nullptr;
};

// What the summary needs of one message, so the scan driver can drop the full report on
// the worker thread that made it.
struct SummaryItem {
  std::size_t size = 0;
  Status status = Status::analysed;
  heuristics::Verdict verdict = heuristics::Verdict::clean;  // when analysed
  bool failed = false;
  std::vector<std::string> error_codes;  // distinct, in order of first appearance
  static SummaryItem of(const MessageReport& r);
};

// Totals for the summary line, --summary-json and the HTML report.
struct ScanSummary {
  std::uint64_t messages = 0;          // reported messages (this shard)
  std::uint64_t unreadable = 0, not_mail = 0;  // records without analysis, by status
  std::uint64_t clean = 0, suspicious = 0, campaign = 0;
  std::uint64_t flagged = 0;           // analysed, at or above --min-verdict
  std::uint64_t with_errors = 0;       // messages with at least one error entry
  std::uint64_t failed = 0;            // = unreadable (the summary's historical name)
  std::uint64_t input_errors = 0;      // top-level inputs that could not be opened
  std::map<std::string, std::uint64_t> error_codes;  // error code -> messages
  std::uint64_t bytes = 0;             // raw message bytes analysed
  double elapsed_seconds = 0;
  int threads = 1;
  std::string shard;                   // "K/N" or ""
  std::string min_verdict = "campaign";

  void add(const SummaryItem& m, heuristics::Verdict threshold);
  void add(const MessageReport& r, heuristics::Verdict threshold) { add(SummaryItem::of(r), threshold); }
  nlohmann::json to_json() const;
};

// The JSONL record of one message (docs/output-schema.json) as one line, keys in schema
// order, all strings valid UTF-8, written directly (no DOM). The one definition of the record:
// explain parses it, and it is byte-identical to nlohmann's own compact serialisation of it
// (printers_test, fuzz_pipeline).
// "2022-07-17T09:20:13Z" (UTC) for Unix seconds.
std::string iso_utc(std::int64_t t);

std::string record_to_jsonl(const ScanRecord& rec);
// Serialise a JSON value on one line (invalid UTF-8 replaced, never throws).
std::string dump_line(const nlohmann::json& j);

// Text helpers shared with explain and the report.
std::string clean_text(std::string_view s, std::size_t max_bytes = SIZE_MAX);  // UTF-8, no controls
std::string csv_field(std::string_view s, bool defuse_formula = false);

struct PrinterOptions {
  OutputFormat format = OutputFormat::text;
  bool color = false;
  std::size_t top_signals = 3;  // text: signals shown per line
};

class Printer {
 public:
  virtual ~Printer() = default;
  virtual void begin() {}
  // The bytes of one record (with its newline). Pure and thread-safe: the scan driver renders
  // on its worker threads and only writes, in order, on the output thread.
  virtual std::string render(const ScanRecord& rec) const = 0;
  void message(const ScanRecord& rec);
  // Text prints the summary here; jsonl/csv print nothing (their summary goes to
  // --summary-json so the stream stays machine-readable).
  virtual void end(const ScanSummary&) {}

 protected:
  explicit Printer(std::FILE* out) : out_(out) {}
  std::FILE* out_;
};

std::unique_ptr<Printer> make_printer(const PrinterOptions& opt, std::FILE* out);

// "1.2 MB", "830 B"
std::string human_bytes(double bytes);

}  // namespace hdrscan::scanner
