// pipeline.hpp: bytes -> parsed message -> assessment, the one path shared by `scan`,
// `explain` and the milter (so a verdict never depends on how the mail arrived).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "mime/fields/features.hpp"
#include "mime/message.hpp"
#include "mime/sources/sources.hpp"

namespace hdrscan::scanner {

// Whether the input unit was analysed. A record's verdict is the analysis' verdict only for
// `analysed`; otherwise it is the status itself ("unreadable", "not_mail") and has no score.
enum class Status {
  analysed,    // read and analysed: verdict clean / suspicious / campaign
  unreadable,  // could not be read or analysed (errors[] says why); never "clean"
  not_mail,    // read, but clearly not a message (a binary, an XML manifest, a CSV table)
};

struct MessageReport {
  mime::SourceLocation where;
  Status status = Status::analysed;
  std::size_t size = 0;
  std::string sha256;        // of the raw message bytes, hex; empty with Digest::skip
  std::string message_id, date, from, subject;  // decoded header values (UTF-8), capped
  heuristics::Assessment assessment;
  std::vector<mime::Defect> errors;  // read errors and parse errors (is_error defects)
  std::vector<mime::Defect> defects; // tolerated oddities
  bool failed = false;       // status == unreadable (kept as its own field in the record)
  // Grouping facts (mime/fields/features.hpp) of the message the verdict came from (the
  // attached one for a wrapper, Assessment::nested_from); set for analysed messages with a
  // verdict above clean (what waves groups) unless analyze() was asked to skip them.
  std::optional<mime::MessageFeatures> features;
  std::string tenant_name;  // of the verdict's message, for every analysed one (connection)
};

// The record's verdict word: "unreadable", "not_mail", or the analysis' verdict.
std::string_view verdict_word(const MessageReport& r);

// Whether analyze() computes MessageReport::sha256. The verdict never depends on it; scan and
// explain print it, the milter does not use it (skipping it saves about a third of the
// analysis CPU of a 1 MB message, docs/benchmarks.md).
enum class Digest { sha256, skip };

// Whether analyze() extracts MessageReport::features (scan and explain do; the milter, which
// never prints a record, skips them), and whether they keep the recipient addresses
// (`scan --include-recipients`) or only their domains (mime::Recipients).
enum class Features { extract, extract_with_recipients, skip };

// Never throws: an exception escaping the parser or a detector becomes an error entry
// ("internal_error") and the status unreadable, so one message can never stop a scan.
// A read error that leaves nothing to analyse (mime::is_fatal_read_error) makes the report
// unreadable without analysis; RawMessage::not_mail makes it not_mail (error code "not_mail"
// with the reason), also without analysis.
MessageReport analyze(const mime::RawMessage& raw, const heuristics::Analyzer& analyzer,
                      const mime::Limits& limits = {}, Digest digest = Digest::sha256,
                      Features features = Features::extract);

}  // namespace hdrscan::scanner
