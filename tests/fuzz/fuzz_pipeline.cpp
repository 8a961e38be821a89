// fuzz_pipeline.cpp: the whole message pipeline, bytes -> scanner::analyze (parse_message,
// every detector, scoring with the built-in indicator pack) -> the JSONL record printer.
// Invariants checked: score in 0..100, no "internal_error" (an exception escaped a parser or
// detector: parsers must return reasons, not throw), the JSONL line is valid UTF-8, one line.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"

using namespace hdrscan;

namespace {
const heuristics::Analyzer& analyzer() {
  static const heuristics::Analyzer a(
      std::make_shared<heuristics::IndicatorPack>(heuristics::IndicatorPack::builtin()));
  return a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mime::RawMessage raw;
  raw.where.path = "fuzz.eml";
  raw.bytes.assign(reinterpret_cast<const char*>(data), size);
  scanner::MessageReport rep = scanner::analyze(raw, analyzer());
  fuzz::check(rep.assessment.score >= 0 && rep.assessment.score <= 100, "score in 0..100");
  for (const auto& e : rep.errors) fuzz::check(e.code != "internal_error", "no internal_error");
  scanner::ScanRecord rec{0, &rep};
  std::string line = scanner::dump_line(scanner::record_to_json(rec));
  fuzz::check(fuzz::valid_utf8(line), "JSONL record is valid UTF-8");
  fuzz::check(line.find('\n') == std::string::npos, "JSONL record is one line");
  fuzz::check(scanner::record_to_jsonl(rec) == line, "direct JSONL writer == nlohmann serialisation");
  return 0;
}
