// module.cpp: hdrscan._hdrscan, the native half of the Python module (docs/python.md). A thin
// pybind11 binding: the analysis is scanner::analyze (pipeline.hpp), the record is
// record_to_jsonl (printers.hpp, the one definition `scan --format jsonl` writes), the inputs
// are scan's own InputWalker (scan.hpp), explain's object is explain_model (explain.hpp); so a
// record from Python is the CLI's record, byte for byte before json.loads.
// The public class is hdrscan.Analyzer (hdrscan/__init__.py), which normalises arguments
// (paths, a thresholds dict) and calls _Analyzer here.
// Threads: the GIL is released while a message is read and analysed (analyze, explain, each
// step of scan), so Python threads analyse in parallel; an Analyzer is immutable after
// construction and shared by all threads; a scan iterator serialises its own steps.
// Errors: a bad indicator file or thresholds -> ValueError ("file:line: reason"); a malformed
// location -> ValueError; a message that cannot be read is a record (verdict "unreadable"),
// never an exception, except in explain, which like `hdrscan explain` needs a readable message
// (ValueError with the error code and reason). Bad mail never throws (analyze() does not).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mime/sources/sources.hpp"
#include "scanner/common.hpp"
#include "scanner/explain/explain.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"
#include "scanner/scan/scan.hpp"

namespace py = pybind11;
namespace hs = hdrscan::scanner;
namespace mime = hdrscan::mime;

namespace {

// json.loads, looked up once (the record is JSON text: parsing it in Python gives exactly the
// CLI's values, including its key order).
py::object json_loads(const std::string& text) {
  static py::handle loads = py::object(py::module_::import("json").attr("loads")).release();
  return loads(py::str(text));
}

// Where `data` comes from, as analyze() reads it: a location text as scan prints it, or "-".
mime::SourceLocation location_of(const std::optional<std::string>& location) {
  mime::SourceLocation where;
  where.path = "-";
  if (!location) return where;
  auto parsed = mime::parse_location(*location);
  if (!parsed) throw py::value_error("malformed location: " + *location);
  return *parsed;
}

// The message `data` is, read as scan reads a message at `where`: a message framed by an mbox,
// a stream or a mail store (the location has an index) is analysed as framed; otherwise the
// bytes are a single-message input (a file, an archive member): a leading "From " line is
// dropped, an empty input is unreadable (empty_input), binary or table data is not_mail. Such
// an input that holds several concatenated messages is refused (ValueError): scan reads them.
mime::RawMessage read_one(std::string bytes, const mime::SourceLocation& where,
                          const mime::ReaderOptions& ropt) {
  mime::RawMessage raw;
  if (where.index) {
    raw.bytes = std::move(bytes);
    raw.where = where;
    return raw;
  }
  auto src = mime::open_message_buffer(std::move(bytes), where, ropt);
  if (!src->next(raw)) {  // not reached: a single-message reader yields at least one
    raw = mime::RawMessage{};
    raw.where = where;
    raw.error = "no message";
    raw.error_code = "empty_input";
    return raw;
  }
  mime::RawMessage more;
  if (src->next(more)) throw py::value_error(
      "the data holds several concatenated messages; Analyzer.scan reads each of them");
  return raw;
}

class Analyzer {
 public:
  Analyzer(std::vector<std::string> indicators, std::vector<std::string> replace_indicators,
           int suspicious, int campaign, std::vector<std::string> passwords) {
    opt_.add_indicators = std::move(indicators);
    opt_.replace_indicators = std::move(replace_indicators);
    opt_.thresholds.suspicious = suspicious;
    opt_.thresholds.campaign = campaign;
    try {
      analyzer_ = opt_.make_analyzer();
    } catch (const std::exception& e) {
      throw py::value_error(e.what());
    }
    ropt_ = opt_.reader_options();
    ropt_.passwords = std::move(passwords);
  }

  py::object analyze(const py::bytes& data, const std::optional<std::string>& location) const {
    std::string bytes = data;  // copied under the GIL
    const mime::SourceLocation where = location_of(location);
    std::string line;
    {
      py::gil_scoped_release nogil;
      const mime::RawMessage raw = read_one(std::move(bytes), where, ropt_);
      const hs::MessageReport rep = hs::analyze(raw, *analyzer_, opt_.limits);
      line = hs::record_to_jsonl(hs::ScanRecord{0, &rep});
    }
    return json_loads(line);
  }

  py::object explain(const py::bytes& data, const std::optional<std::string>& location) const {
    std::string bytes = data;
    const mime::SourceLocation where = location_of(location);
    std::string text, refused;
    {
      py::gil_scoped_release nogil;
      const mime::RawMessage raw = read_one(std::move(bytes), where, ropt_);
      if (!raw.error.empty() && (raw.bytes.empty() || mime::is_fatal_read_error(raw.error_code)))
        refused = "unreadable (" + raw.error_code + "): " + raw.error;
      else if (!raw.not_mail.empty())
        refused = "not_mail: " + raw.not_mail;
      else
        // As `explain --format json` prints it (key order kept, invalid UTF-8 replaced).
        text = hs::explain_model(raw, *analyzer_, opt_.limits)
                   .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
    if (!refused.empty()) throw py::value_error(refused);
    return json_loads(text);
  }

  const std::shared_ptr<const hdrscan::heuristics::Analyzer>& engine() const { return analyzer_; }
  const hs::AnalysisOptions& options() const { return opt_; }
  const mime::ReaderOptions& reader_options() const { return ropt_; }

 private:
  hs::AnalysisOptions opt_;
  mime::ReaderOptions ropt_;
  std::shared_ptr<const hdrscan::heuristics::Analyzer> analyzer_;
};

// Analyzer.scan's iterator: scan's InputWalker over the paths, one record per message. With a
// byte range [lo, hi) (a plain mbox file split by hdrscan.dask), only the messages whose offset
// falls in it are analysed; those before it are read and dropped (reading is cheap next to
// analysis), reading stops at the first message past it.
class ScanIterator {
 public:
  ScanIterator(const Analyzer& a, std::vector<std::string> paths,
               std::optional<std::pair<std::uint64_t, std::uint64_t>> range)
      : analyzer_(a.engine()),
        limits_(a.options().limits),
        walker_(std::move(paths), a.reader_options(), hs::Shard{}, /*report_errors=*/false),
        range_(range) {}

  py::object next() {
    std::string line;
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(mu_);
      if (!done_) line = step();
    }
    if (line.empty()) throw py::stop_iteration();
    return json_loads(line);
  }

 private:
  // The next record's JSON text, or "" at the end.
  std::string step() {
    std::uint64_t seq = 0;
    mime::RawMessage raw;
    while (walker_.next(seq, raw)) {
      if (range_) {
        const std::uint64_t at = raw.where.offset.value_or(0);
        if (at >= range_->second) break;
        if (at < range_->first) continue;
      }
      const hs::MessageReport rep = hs::analyze(raw, *analyzer_, limits_);
      return hs::record_to_jsonl(hs::ScanRecord{seq, &rep});
    }
    done_ = true;
    return {};
  }

  std::shared_ptr<const hdrscan::heuristics::Analyzer> analyzer_;
  mime::Limits limits_;
  hs::InputWalker walker_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range_;
  std::mutex mu_;
  bool done_ = false;
};

std::string input_kind(const std::string& path) {
  switch (mime::detect_kind(path)) {
    case mime::InputKind::eml: return "eml";
    case mime::InputKind::mbox: return "mbox";
    case mime::InputKind::maildir: return "maildir";
    case mime::InputKind::directory: return "directory";
    case mime::InputKind::archive: return "archive";
    case mime::InputKind::msg: return "msg";
    case mime::InputKind::pst: return "pst";
    case mime::InputKind::stdin_stream: return "stream";
    case mime::InputKind::not_mail: return "not_mail";
    case mime::InputKind::unknown: break;
  }
  return "unknown";
}

}  // namespace

PYBIND11_MODULE(_hdrscan, m) {
  m.doc() = "hdrscan's native engine (use the package hdrscan, docs/python.md)";
  m.attr("__version__") = HDRSCAN_VERSION;
  m.attr("SCHEMA") = std::string(hs::kScanSchema);

  py::class_<Analyzer>(m, "_Analyzer")
      .def(py::init<std::vector<std::string>, std::vector<std::string>, int, int,
                    std::vector<std::string>>(),
           py::arg("indicators"), py::arg("replace_indicators"), py::arg("suspicious"),
           py::arg("campaign"), py::arg("passwords"))
      .def("analyze", &Analyzer::analyze, py::arg("data"), py::kw_only(),
           py::arg("location") = py::none())
      .def("explain", &Analyzer::explain, py::arg("data"), py::kw_only(),
           py::arg("location") = py::none())
      .def("_scan", [](const Analyzer& a, std::vector<std::string> paths,
                       std::optional<std::pair<std::uint64_t, std::uint64_t>> range) {
             return std::make_unique<ScanIterator>(a, std::move(paths), range);
           }, py::arg("paths"), py::arg("byte_range") = py::none());

  py::class_<ScanIterator>(m, "_ScanIterator")
      .def("__iter__", [](ScanIterator& it) -> ScanIterator& { return it; })
      .def("__next__", &ScanIterator::next);

  m.def("input_kind", &input_kind, py::arg("path"),
        "What scan reads PATH as, by its content: eml, mbox, maildir, directory, archive, msg, "
        "pst, stream, not_mail or unknown (no such path)");
}
