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
  const std::string line = scanner::record_to_jsonl(rec);
  fuzz::check(fuzz::valid_utf8(line), "JSONL record is valid UTF-8");
  fuzz::check(line.find('\n') == std::string::npos, "JSONL record is one line");
  const auto back = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  fuzz::check(!back.is_discarded(), "JSONL record parses");
  fuzz::check(back.dump(-1, ' ', false) == line, "nlohmann re-serialises the record to the same bytes");
  fuzz::check(back["score"] == rep.assessment.score, "score written as computed");
  return 0;
}
