// pipeline.hpp: bytes -> parsed message -> assessment, the one path shared by `scan`,
// `explain` and the milter (so a verdict never depends on how the mail arrived).
#pragma once
#include <string>
#include <vector>

#include "heuristics/heuristics.hpp"
#include "mime/message.hpp"
#include "mime/sources/sources.hpp"

namespace hdrscan::scanner {

struct MessageReport {
  mime::SourceLocation where;
  std::size_t size = 0;
  std::string sha256;        // of the raw message bytes, hex; empty with Digest::skip
  std::string message_id, date, from, subject;  // decoded header values (UTF-8), capped
  heuristics::Assessment assessment;
  std::vector<mime::Defect> errors;  // read errors and parse errors (is_error defects)
  std::vector<mime::Defect> defects; // tolerated oddities
  bool failed = false;       // the message could not be read at all
};

// Whether analyze() computes MessageReport::sha256. The verdict never depends on it; scan and
// explain print it, the milter does not use it (skipping it saves about a third of the
// analysis CPU of a 1 MB message, docs/benchmarks.md).
enum class Digest { sha256, skip };

// Never throws: an exception escaping the parser or a detector becomes an error entry
// ("internal_error") with a clean verdict, so one message can never stop a scan.
MessageReport analyze(const mime::RawMessage& raw, const heuristics::Analyzer& analyzer,
                      const mime::Limits& limits = {}, Digest digest = Digest::sha256);

}  // namespace hdrscan::scanner
