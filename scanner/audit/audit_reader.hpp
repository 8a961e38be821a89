// audit_reader.hpp: streaming readers for Microsoft 365 audit exports, for `hdrscan audit`.
//
// Purpose: turn an export file into a sequence of normalized AuditRecords, one at a time,
// whatever its form. Accepted forms (detected from the first bytes, never the file name):
//   purview_csv   Purview unified audit log CSV: a header row naming AuditData (classic
//                 "CreationDate,UserIds,Operations,AuditData" or the newer "RecordId,
//                 CreationDate,RecordType,Operation,UserId,AuditData,..."), AuditData being
//                 the JSON record, CSV-quoted with doubled quotes.
//   cloudapp_csv  Defender advanced hunting CloudAppEvents export: a header row naming
//                 ActionType and RawEventData (Timestamp, Application, AccountObjectId,
//                 AccountDisplayName, IPAddress, UserAgent, ...).
//   json_array    a JSON array of records (Search-UnifiedAuditLog / Graph / CloudAppEvents
//                 rows as objects); elements are split out one at a time, never the whole file.
//   jsonl         one JSON object per line.
// A JSON object is an audit record itself, or a wrapper holding one in "AuditData" (string or
// object) or "RawEventData" (CloudAppEvents row).
//
// Limits: memory is bounded by ReadLimits::max_record_bytes (one record plus a fixed read
// buffer) whatever the file size; a CSV record may span at most max_record_lines physical
// lines (quoted newlines).
//
// Diagnostics: nothing here throws on bad input. A malformed row (bad JSON, a truncated or
// unterminated CSV line, a wrong column count, a record without Operation or time, an
// oversized record) is reported through on_diag as "file:line: reason" and skipped; reading
// goes on with the next row. A CSV row whose quoted field never closes is reported at its
// first line and reading resumes on the line after it, so a truncated row costs one row.
// Invalid UTF-8 bytes are replaced with U+FFFD and reported (the row is kept: it is evidence).
// An unreadable file is one diagnostic with fatal = true.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hdrscan::scanner::audit {

enum class InputFormat { unknown, purview_csv, cloudapp_csv, json_array, jsonl };
std::string_view to_string(InputFormat f);

struct ReadLimits {
  std::size_t max_record_bytes = 1u << 20;  // one CSV record / JSON element / JSONL line
  std::size_t max_record_lines = 256;       // physical lines one CSV record may span
};

struct AuditParam {
  std::string name;
  std::string value;  // non-string JSON values are kept as their JSON text
};

// One audit record, normalized over the export forms. Strings are UTF-8 (repaired).
struct AuditRecord {
  std::string file;        // as given
  std::size_t line = 0;    // first physical line of the row / element (1-based)
  InputFormat format = InputFormat::unknown;
  std::string id;          // record Id (GUID) when present
  std::string time;        // CreationTime / Timestamp as found
  std::int64_t epoch = 0;  // seconds since 1970 (UTC) parsed from `time`
  std::string operation;   // Operation, or ActionType for CloudAppEvents
  std::string organization_id;  // tenant; "" when the record has none
  std::string user_id;
  std::string client_ip;
  std::string app_id;      // AppId / ApplicationId / ClientAppId (first non-empty)
  std::string user_agent;  // UserAgent column / ExtendedProperties UserAgent / User-Agent
  std::string result_status;
  std::string workload;
  std::string object_id;
  int record_type = -1;
  std::vector<AuditParam> parameters;  // Exchange cmdlet parameters
  nlohmann::json data;     // the whole JSON record (AuditData / RawEventData)

  // First parameter named `name` (case-insensitive), or nullptr.
  const AuditParam* param(std::string_view name) const;
};

struct Diagnostic {
  std::string file;
  std::size_t line = 0;  // 0: the file as a whole
  std::string reason;
  bool fatal = false;    // the file could not be read at all
  bool warning = false;  // the row was kept (e.g. repaired UTF-8)
  std::string to_string() const;  // "file:line: reason"
};

struct ReadSummary {
  InputFormat format = InputFormat::unknown;
  std::size_t records = 0;   // delivered to on_record
  std::size_t skipped = 0;   // malformed rows reported and skipped
  std::size_t lines = 0;     // physical lines read
  bool fatal = false;
};

using RecordSink = std::function<void(const AuditRecord&)>;
using DiagSink = std::function<void(const Diagnostic&)>;

// Reads one export file ("-" = standard input). Never throws on bad input.
ReadSummary read_audit_file(const std::string& path, const RecordSink& on_record,
                            const DiagSink& on_diag, const ReadLimits& limits = {});

// Same over bytes already in memory (tests, fuzzing); `label` names it in diagnostics.
ReadSummary read_audit_buffer(std::string_view bytes, const std::string& label,
                              const RecordSink& on_record, const DiagSink& on_diag,
                              const ReadLimits& limits = {});

// Helpers shared with the rules (exposed for tests).
// Parses "2022-09-01T10:15:02", "...Z", "....1234567Z", "2022-09-01 10:15:02", "+00:00" offsets.
bool parse_time(std::string_view text, std::int64_t& epoch);
std::string format_time(std::int64_t epoch);  // "2022-09-01T10:15:02Z"
// Replaces invalid UTF-8 sequences with U+FFFD; returns how many were replaced.
std::size_t repair_utf8(std::string& text);

}  // namespace hdrscan::scanner::audit
