// scan.cpp: `hdrscan scan [options] PATH...`, the parallel batch scanner.
//
// Design (ripgrep-like: walking, matching and printing are separate):
//   InputWalker    -- opens the inputs in command-line order (mime::open_source), pulls
//                     RawMessages, numbers them (global sequence `seq`, 0-based over all
//                     inputs), drops those of other shards;
//   N workers      -- each takes the next message from the walker (serialised by a lock;
//                     its position `ord` is the output order), analyze()s it (pipeline.hpp;
//                     never throws) and renders its record with the printer, so the raw bytes
//                     are allocated, analysed and freed on one thread and formatting is
//                     parallel too;
//   output stage   -- run by whichever worker finishes the next record in order: writes
//                     records strictly in `ord` order, feeds the summary and the HTML report,
//                     draws the progress bar.
//   --threads 1 runs the same stages inline in one thread (no hand-offs at all).
// Output is therefore identical for any --threads. Memory is bounded: no worker takes a new
// message while 16 x threads messages are in analysis or waiting to be written, so at most
// N raw messages (each bounded by the reader's max message size) and that many rendered
// records are alive, whatever the input size; standard input is streamed the same way.
// Sharding: with --shard K/N, message seq i belongs to shard (i mod N) + 1. Every shard still
// reads all inputs (reading is cheap next to analysis) but analyses and prints only its own
// messages, with their global seq in the JSONL/CSV record, so the outputs of shards 1..N
// together hold exactly the records of an unsharded run (sort by seq to restore its order).
// Exit status: 2 if any record is unreadable (an input path that does not exist or cannot be
// read, an encrypted member without its password, a corrupt archive...), an option was bad,
// the indicator pack failed to load or the output could not be written; else 1 if a message
// was at or above --min-verdict; else 0 (not_mail records alone do not change it). Errors never
// stop the scan: everything else is still scanned first; an input path that cannot be opened
// is also reported on standard error.
// Diagnostics: "hdrscan: PATH: reason" on standard error for input and output problems.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "mime/sources/sources.hpp"
#include "scanner/common.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"
#include "scanner/scan/report.hpp"
#include "scanner/scan/scan.hpp"

namespace hdrscan::scanner {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct ScanOptions {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string output;
  int threads = 0;  // 0: all cores
  bool only_matches = false;
  std::string min_verdict = "campaign";
  std::string shard;
  std::string report;
  std::string summary_json;
  std::string color = "auto";
  std::string progress = "auto";
  bool no_summary = false;
  bool include_recipients = false;
  AnalysisOptions analysis;
  InputOptions input;
};

std::optional<Shard> parse_shard(const std::string& s) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  try {
    std::size_t p1 = 0, p2 = 0;
    const std::string a = s.substr(0, slash), b = s.substr(slash + 1);
    if (a.empty() || b.empty() || a[0] == '-' || b[0] == '-') return std::nullopt;
    const unsigned long long k = std::stoull(a, &p1), n = std::stoull(b, &p2);
    if (p1 != a.size() || p2 != b.size() || n < 1 || k < 1 || k > n) return std::nullopt;
    return Shard{k - 1, n};
  } catch (...) {
    return std::nullopt;
  }
}

struct Work {
  std::uint64_t ord = 0, seq = 0;
  mime::RawMessage raw;
};

// Sizes of the inputs for the progress bar's ETA (regular files; stdin unknown). Runs on its
// own thread so a huge directory tree does not delay the scan; stops when asked.
class InputSizer {
 public:
  InputSizer(std::vector<std::string> paths) : paths_(std::move(paths)) {
    thread_ = std::thread([this] { run(); });
  }
  ~InputSizer() {
    stop_ = true;
    thread_.join();
  }
  // Total bytes when known.
  std::optional<std::uint64_t> total() const {
    if (!done_ || unknown_) return std::nullopt;
    return total_.load();
  }

 private:
  void run() {
    for (const auto& p : paths_) {
      if (stop_) return;
      if (p == "-") { unknown_ = true; continue; }
      std::error_code ec;
      if (fs::is_directory(p, ec)) {
        for (fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec)) {
          if (stop_) return;
          std::error_code ec2;
          if (it->is_regular_file(ec2)) total_ += it->file_size(ec2);
        }
      } else {
        const auto sz = fs::file_size(p, ec);
        if (!ec) total_ += sz;
      }
    }
    done_ = true;
  }
  std::vector<std::string> paths_;
  std::atomic<bool> stop_{false}, done_{false}, unknown_{false};
  std::atomic<std::uint64_t> total_{0};
  std::thread thread_;
};

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void update(std::uint64_t msgs, std::uint64_t bytes, std::optional<std::uint64_t> total, double secs) {
    if (!enabled_ || secs < 1.0) return;
    const double rate = msgs / secs, brate = bytes / secs;
    std::string line;
    if (total && *total > 0) {
      const double frac = std::min(0.999, static_cast<double>(bytes) / static_cast<double>(*total));
      const int width = 24, filled = static_cast<int>(frac * width);
      line = fmt::format("[{}{}] {:3.0f}% ", std::string(filled, '#'), std::string(width - filled, '.'), frac * 100);
      if (brate > 0 && bytes < *total) {
        const auto eta = static_cast<std::uint64_t>((*total - bytes) / brate);
        line += fmt::format("ETA {}:{:02}:{:02} ", eta / 3600, eta / 60 % 60, eta % 60);
      }
    }
    line += fmt::format("{} msgs  {}  {:.0f} msg/s  {}/s", msgs, human_bytes(static_cast<double>(bytes)), rate,
                        human_bytes(brate));
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void clear() {
    if (drawn_) {
      std::fputs("\r\x1b[K", stderr);
      std::fflush(stderr);
    }
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

bool readable_input(const std::string& path, std::string& why, std::string& code) {
  if (path == "-") return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) {
    why = std::strerror(errno);
    code = mime::error_code_of_errno(errno);
    return false;
  }
  return true;
}

int run_scan(ScanOptions& o) {
  const auto start = Clock::now();
  // ---- options
  OutputFormat format = OutputFormat::text;
  if (o.format == "jsonl") format = OutputFormat::jsonl;
  else if (o.format == "csv") format = OutputFormat::csv;
  const auto min_verdict = heuristics::parse_verdict(o.min_verdict).value_or(heuristics::Verdict::campaign);
  Shard shard;
  if (!o.shard.empty()) {
    auto s = parse_shard(o.shard);
    if (!s) {
      std::fprintf(stderr, "hdrscan: --shard: expected K/N with 1 <= K <= N, got '%s'\n", o.shard.c_str());
      return 2;
    }
    shard = *s;
  }
  int threads = o.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  const auto analyzer_ptr = o.analysis.make_analyzer_or_report();
  if (!analyzer_ptr) return 2;
  const heuristics::Analyzer& analyzer = *analyzer_ptr;
  const mime::Limits limits = o.analysis.limits;
  mime::ReaderOptions ropt = o.analysis.reader_options();
  if (!o.input.apply(ropt)) return 2;

  std::FILE* out = stdout;
  if (!o.output.empty() && o.output != "-") {
    out = std::fopen(o.output.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "hdrscan: %s: %s\n", o.output.c_str(), std::strerror(errno));
      return 2;
    }
  }
  static char outbuf[1 << 16];
  const bool out_is_tty = out == stdout && stdout_is_terminal();
  std::setvbuf(out, outbuf, out_is_tty ? _IOLBF : _IOFBF, sizeof outbuf);  // 64 KiB writes

  PrinterOptions popt;
  popt.format = format;
  popt.color = use_color(o.color, out_is_tty);
  auto printer = make_printer(popt, out);

  std::optional<HtmlReport> report;
  if (!o.report.empty()) {
    ReportOptions ro;
    ro.inputs = o.paths;
    ro.thresholds = o.analysis.thresholds;
    ro.min_verdict = min_verdict;  // one "flagged": the report's, the summary's, the exit status's
    report.emplace(std::move(ro));
  }

  // auto: standard error is a terminal and the records do not scroll on that same terminal
  // (a bar redrawn between output lines would garble them).
  const bool progress_on =
      o.progress == "always" || (o.progress == "auto" && stderr_is_terminal() && !out_is_tty);
  std::optional<InputSizer> sizer;
  if (progress_on) sizer.emplace(o.paths);
  ProgressBar bar(progress_on);

  ScanSummary summary;
  summary.threads = threads;
  summary.shard = o.shard.empty() ? "" : fmt::format("{}/{}", shard.k + 1, shard.n);
  summary.min_verdict = std::string(heuristics::to_string(min_verdict));

  // ---- the pipeline
  // A finished message: its rendered record (empty when --only-matches drops it), what the
  // summary needs, and the full report only when the HTML report wants it. Rendering and
  // freeing happen on the thread that analysed the message, so the output thread only writes.
  struct Finished {
    std::uint64_t seq = 0;
    std::string line;
    SummaryItem item;
    std::optional<MessageReport> full;
  };
  auto finish = [&](Work& w) {
    Finished f;
    f.seq = w.seq;
    MessageReport r = analyze(w.raw, analyzer, limits, Digest::sha256,
                              o.include_recipients ? Features::extract_with_recipients
                                                   : Features::extract);
    w.raw = mime::RawMessage{};  // free the bytes before waiting for the output stage
    const ScanRecord rec{w.seq, &r};
    // --only-matches never hides an unreadable record: it could be a match.
    const bool match = r.status == Status::analysed && r.assessment.verdict >= min_verdict;
    if (!o.only_matches || match || r.status == Status::unreadable) f.line = printer->render(rec);
    f.item = SummaryItem::of(r);
    if (report) f.full.emplace(std::move(r));
    return f;
  };

  bool write_failed = false;
  int write_errno = 0;
  auto last_draw = Clock::now();
  // The output stage (one thread): returns false once the output has failed.
  auto emit = [&](Finished& f) {
    summary.add(f.item, min_verdict);
    if (!write_failed && !f.line.empty()) {
      std::fwrite(f.line.data(), 1, f.line.size(), out);
      if (std::ferror(out)) {  // stop reading; messages in flight drain unprinted
        write_failed = true;
        write_errno = errno;  // errno is per thread: keep the writer's for the final message
      }
    }
    if (report && f.full) report->add(ScanRecord{f.seq, &*f.full});
    if (progress_on && Clock::now() - last_draw > std::chrono::milliseconds(200)) {
      last_draw = Clock::now();
      bar.update(summary.messages, summary.bytes, sizer ? sizer->total() : std::nullopt,
                 std::chrono::duration<double>(last_draw - start).count());
    }
    return !write_failed;
  };

  InputWalker walker(o.paths, ropt, shard);

  printer->begin();
  if (threads == 1) {
    // One thread means one: read, analyse, render and write in this thread, no hand-offs.
    Work w;
    while (walker.next(w.seq, w.raw)) {
      Finished f = finish(w);
      if (!emit(f)) break;
    }
  } else {
    // N workers each take the next message from the walker (under a lock: splitting is cheap
    // next to analysis), analyse and render it. Whoever finishes the record next in order
    // becomes the writer: it writes every record ready in order (outside the lock), while
    // the others go on analysing; so there are no hand-offs to a separate output thread.
    // Memory is bounded: a worker takes no new message while `window` messages are in flight
    // (in analysis or waiting to be written), so at most N raw messages and `window`
    // rendered records are alive, whatever the input size.
    const std::uint64_t window = 16ull * static_cast<std::uint64_t>(threads);
    std::mutex mu, walk_mu;
    std::condition_variable cv_space;
    std::map<std::uint64_t, Finished> done;  // ord -> finished message
    std::uint64_t produced = 0, printed = 0;
    int space_waiters = 0;
    bool exhausted = false, writing = false;
    bool cancelled = false;  // the output failed (closed pipe with SIGPIPE ignored, full disk)

    auto write_ready = [&](std::unique_lock<std::mutex>& lk) {
      if (writing) return;  // the current writer will pick this record up
      writing = true;
      std::vector<Finished> batch;
      for (;;) {
        for (auto it = done.find(printed); it != done.end(); it = done.find(printed)) {
          batch.push_back(std::move(it->second));
          done.erase(it);
          ++printed;
        }
        if (batch.empty()) break;
        if (space_waiters > 0 && produced - printed <= window / 2) cv_space.notify_all();
        lk.unlock();
        bool ok = true;
        for (auto& f : batch) ok = emit(f) && ok;
        batch.clear();
        lk.lock();
        if (!ok && !cancelled) {
          cancelled = true;
          cv_space.notify_all();
        }
      }
      writing = false;
    };

    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (;;) {
          {
            std::unique_lock lk(mu);
            auto room = [&] { return cancelled || exhausted || produced - printed < window; };
            if (!room()) {
              ++space_waiters;
              cv_space.wait(lk, room);
              --space_waiters;
            }
            if (cancelled || exhausted) break;
          }
          Work w;
          {
            std::lock_guard wl(walk_mu);
            const bool got = !exhausted && walker.next(w.seq, w.raw);
            std::lock_guard lk(mu);
            if (!got) {
              exhausted = true;
              cv_space.notify_all();
              break;
            }
            w.ord = produced++;  // under walk_mu: output order is input order
          }
          const std::uint64_t ord = w.ord;
          Finished f = finish(w);
          std::unique_lock lk(mu);
          done.emplace(ord, std::move(f));
          if (ord == printed) write_ready(lk);
        }
      });
    }
    for (auto& w : workers) w.join();
    // Every worker has finished; nothing can be left but records no writer was needed for.
    std::unique_lock lk(mu);
    write_ready(lk);
  }
  bar.clear();

  summary.input_errors = walker.input_errors();
  summary.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (format != OutputFormat::text || !o.no_summary) printer->end(summary);

  int rc = summary.flagged > 0 ? 1 : 0;
  if (summary.input_errors > 0 || summary.unreadable > 0) rc = 2;
  if (std::fflush(out) != 0 || std::ferror(out)) {
    if (write_errno != 0) errno = write_errno;
    std::fprintf(stderr, "hdrscan: error writing output%s%s: %s\n", o.output.empty() ? "" : " ",
                 o.output.c_str(), std::strerror(errno));
    rc = 2;
  }
  if (out != stdout && std::fclose(out) != 0) rc = 2;

  if (report) {
    std::string err;
    if (!report->write(o.report, summary, err)) {
      std::fprintf(stderr, "hdrscan: --report: %s\n", err.c_str());
      rc = 2;
    }
  }
  if (!o.summary_json.empty()) {
    std::FILE* f = std::fopen(o.summary_json.c_str(), "wb");
    const std::string s = summary.to_json().dump(2) + "\n";
    if (!f || std::fwrite(s.data(), 1, s.size(), f) != s.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "hdrscan: --summary-json %s: %s\n", o.summary_json.c_str(), std::strerror(errno));
      rc = 2;
    }
  }
  return rc;
}

}  // namespace

// ---- InputWalker (scan.hpp)

InputWalker::InputWalker(std::vector<std::string> paths, const mime::ReaderOptions& ropt,
                         Shard shard, bool report_errors)
    : paths_(std::move(paths)), ropt_(ropt), shard_(shard), report_errors_(report_errors) {}

InputWalker::~InputWalker() = default;

bool InputWalker::next(std::uint64_t& seq, mime::RawMessage& out) {
  for (;;) {
    if (!path_) {
      if (next_path_ >= paths_.size()) return false;
      path_ = &paths_[next_path_++];
      yielded_ = 0;
      error_.clear();
      code_ = "internal_error";  // an exception from a reader is a bug
      if (readable_input(*path_, error_, code_)) {
        try {
          src_ = mime::open_source(*path_, ropt_);
        } catch (const std::exception& e) {
          error_ = e.what();
        } catch (...) {
          error_ = "unknown error";
        }
      }
    }
    if (src_) {
      try {
        mime::RawMessage raw;
        while (src_->next(raw)) {
          const std::uint64_t s = seq_++;
          ++yielded_;
          if (s % shard_.n == shard_.k) {
            seq = s;
            out = std::move(raw);
            return true;
          }
          raw = mime::RawMessage{};
        }
      } catch (const std::exception& e) {
        error_ = e.what();
      } catch (...) {
        error_ = "unknown error";
      }
    }
    // This input is done.
    const std::string* path = path_;
    path_ = nullptr;
    src_.reset();
    if (error_.empty()) continue;
    ++input_errors_;
    if (report_errors_) std::fprintf(stderr, "hdrscan: %s: %s\n", path->c_str(), error_.c_str());
    if (yielded_ == 0) {
      const std::uint64_t s = seq_++;
      if (s % shard_.n == shard_.k) {
        seq = s;
        out = mime::RawMessage{};
        out.where.path = *path;
        out.error = error_;
        out.error_code = code_;
        return true;
      }
    }
  }
}

void add_scan_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ScanOptions>();
  CLI::App* cmd = app.add_subcommand(
      "scan", "Scan messages (files, directories, mbox, Maildir, archives, - for stdin)");
  cmd->add_option("PATH", o->paths,
                  "Inputs: .eml, mbox, Maildir, directories (recursive), zip/7z/tar and "
                  "gzip/bzip2/xz/zstd files (by content), - for stdin")
      ->required();
  cmd->add_option("--format", o->format, "Output format: text, jsonl or csv")->capture_default_str()
      ->check(CLI::IsMember({"text", "jsonl", "csv"}));
  cmd->add_option("-o,--output", o->output, "Write the output to FILE instead of standard output")->type_name("FILE");
  cmd->add_option("-j,--threads", o->threads, "Worker threads (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_flag("--only-matches", o->only_matches,
                "Print only messages at or above --min-verdict (and unreadable ones)");
  cmd->add_option("--min-verdict", o->min_verdict,
                  "Verdict that counts as a match (exit status 1, --only-matches)")->capture_default_str()
      ->check(CLI::IsMember({"suspicious", "campaign"}));
  cmd->add_option("--shard", o->shard,
                  "Scan only message numbers i (0-based over all inputs) with i mod N = K-1")
      ->type_name("K/N");
  cmd->add_option("--report", o->report, "Also write a self-contained HTML report to FILE")->type_name("FILE");
  cmd->add_option("--summary-json", o->summary_json, "Also write the summary as JSON to FILE")->type_name("FILE");
  cmd->add_option("--color", o->color, "Colour text output: auto, always, never")->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--progress", o->progress, "Progress bar on standard error: auto (a terminal), always, never")->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--include-recipients", o->include_recipients,
                "JSONL: flagged records carry the recipient addresses (grouping.recipients; "
                "by default only their domains), for hdrscan waves --include-recipients");
  cmd->add_flag("--no-summary", o->no_summary, "Text format: no summary after the messages");
  o->input.add_to(*cmd);
  o->analysis.add_to(*cmd);
  // An exception escaping run_scan is reported by main() as "hdrscan: error: ..." with status 2.
  cmd->callback([o, &exit_code] { exit_code = run_scan(*o); });
}

}  // namespace hdrscan::scanner
