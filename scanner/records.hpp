// records.hpp: scan records read back: one `hdrscan scan --format jsonl` line (schema
// hdrscan.scan/2, written by record_to_jsonl in printers.cpp, the one definition) -> a value
// with the fields a consumer of records needs (hdrscan waves). Beside printers.hpp so the
// record is defined and read in one room.
//
// Limits: a line longer than kMaxRecordLine is refused; strings are kept as written (the
// writer made them valid UTF-8). Records written before the `grouping` field existed parse,
// with has_grouping false.
// Diagnostics: parse_scan_record returns nullopt and a reason in words (not JSON, another
// schema, a missing or mistyped field); it never throws.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/sources/sources.hpp"

namespace hdrscan::scanner {

inline constexpr std::size_t kMaxRecordLine = 16u << 20;

struct RecordEvidence {
  std::string signal;
  int weight = 0;
};

struct RecordConnection {
  std::string ip, helo, tenant_id, tenant_name, source;
};

struct ReadRecord {
  std::uint64_t seq = 0;
  mime::SourceLocation where;
  std::string sha256;
  std::string from;     // the From header as written in the record
  std::string verdict;  // unreadable, not_mail, clean, suspicious, campaign
  std::optional<int> score;
  std::vector<RecordEvidence> evidence;
  std::optional<RecordConnection> connection;
  // grouping (absent in records of older scans)
  bool has_grouping = false;
  std::optional<std::int64_t> time;  // Unix s, UTC
  std::string time_source;
  std::string envelope_domain, from_domain, subject;
  std::vector<std::string> url_hosts, url_domains;
  std::uint64_t template_hash = 0;
  std::size_t template_shingles = 0;
  // grouping.urls and grouping.recipients (absent in records of older scans: empty)
  std::vector<std::string> urls;
  std::vector<std::string> recipient_domains;
  std::optional<std::vector<std::string>> recipients;  // only from `scan --include-recipients`
  bool from_is_recipient = false;
};

// One JSONL line -> a record, or nullopt with `error` set.
std::optional<ReadRecord> parse_scan_record(std::string_view line, std::string& error);

// "2022-07-17T09:20:13Z" -> Unix seconds (the inverse of iso_utc); nullopt when malformed.
std::optional<std::int64_t> parse_iso_utc(std::string_view text);

}  // namespace hdrscan::scanner
