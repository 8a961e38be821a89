// scan.cpp: `hdrscan scan [options] PATH...`, the parallel batch scanner.
//
// Design (ripgrep-like: walking, matching and printing are separate):
//   reader thread  -- opens the inputs in command-line order (mime::open_source), pulls
//                     RawMessages, numbers them (global sequence `seq`, 0-based over all
//                     inputs), drops those of other shards, queues the rest with an output
//                     position `ord`;
//   N workers      -- analyze() each message (pipeline.hpp; never throws);
//   main thread    -- the ordered output stage: prints reports strictly in `ord` order,
//                     feeds the summary and the HTML report, draws the progress bar.
// Output is therefore identical for any --threads. Memory is bounded: the reader blocks while
// 4 x threads messages are queued, in analysis or waiting to be printed, so at most that many
// RawMessages (each bounded by the reader's max message size) are alive at once, whatever the
// input size; standard input is streamed the same way.
// Sharding: with --shard K/N, message seq i belongs to shard (i mod N) + 1. Every shard still
// reads all inputs (reading is cheap next to analysis) but analyses and prints only its own
// messages, with their global seq in the JSONL/CSV record, so the outputs of shards 1..N
// together hold exactly the records of an unsharded run (sort by seq to restore its order).
// Exit status: 2 if an input path could not be read, an option was bad, the indicator pack
// failed to load or the output could not be written; else 1 if a message was at or above
// --min-verdict; else 0. Errors on single messages are printed in their record and counted in
// the summary, and never stop the scan; an unreadable input is reported on standard error and
// as a failed record, and the scan goes on with the next input.
// Diagnostics: "hdrscan: PATH: reason" on standard error for input and output problems.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

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

#include "mime/sources.hpp"
#include "scanner/apps.hpp"
#include "scanner/common.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"
#include "scanner/report.hpp"

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
  AnalysisOptions analysis;
};

struct Shard {
  std::uint64_t k = 0, n = 1;  // k is 0-based
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

bool readable_input(const std::string& path, std::string& why) {
  if (path == "-") return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) {
    why = std::strerror(errno);
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

  std::shared_ptr<const heuristics::Analyzer> analyzer_ptr;
  try {
    analyzer_ptr = o.analysis.make_analyzer();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hdrscan: indicators: %s\n", e.what());
    return 2;
  }
  const heuristics::Analyzer& analyzer = *analyzer_ptr;
  const mime::Limits limits = o.analysis.limits;
  const mime::ReaderOptions ropt = o.analysis.reader_options();

  std::FILE* out = stdout;
  if (!o.output.empty() && o.output != "-") {
    out = std::fopen(o.output.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "hdrscan: %s: %s\n", o.output.c_str(), std::strerror(errno));
      return 2;
    }
  }
  static char outbuf[1 << 16];
  const bool out_is_tty = out == stdout && ::isatty(STDOUT_FILENO);
  if (out == stdout) std::setvbuf(out, outbuf, out_is_tty ? _IOLBF : _IOFBF, sizeof outbuf);

  PrinterOptions popt;
  popt.format = format;
  const char* term = std::getenv("TERM");
  popt.color = o.color == "always" ||
               (o.color == "auto" && out_is_tty && !std::getenv("NO_COLOR") &&
                !(term && std::string_view(term) == "dumb"));
  auto printer = make_printer(popt, out);

  std::optional<HtmlReport> report;
  if (!o.report.empty()) {
    ReportOptions ro;
    ro.inputs = o.paths;
    ro.thresholds = o.analysis.thresholds;
    report.emplace(std::move(ro));
  }

  // auto: standard error is a terminal and the records do not scroll on that same terminal
  // (a bar redrawn between output lines would garble them).
  const bool progress_on =
      o.progress == "always" || (o.progress == "auto" && ::isatty(STDERR_FILENO) && !out_is_tty);
  std::optional<InputSizer> sizer;
  if (progress_on) sizer.emplace(o.paths);
  ProgressBar bar(progress_on);

  ScanSummary summary;
  summary.threads = threads;
  summary.shard = o.shard.empty() ? "" : fmt::format("{}/{}", shard.k + 1, shard.n);
  summary.min_verdict = std::string(heuristics::to_string(min_verdict));

  // ---- the pipeline
  const std::uint64_t window = 4ull * static_cast<std::uint64_t>(threads);
  std::mutex mu;
  std::condition_variable cv_work, cv_done, cv_space;
  std::deque<Work> queue;
  std::map<std::uint64_t, std::pair<std::uint64_t, MessageReport>> done;  // ord -> (seq, report)
  std::uint64_t produced = 0, printed = 0;
  bool reader_finished = false;
  bool cancelled = false;  // the output failed (closed pipe with SIGPIPE ignored, full disk)
  std::atomic<std::uint64_t> input_errors{0};

  // Queues a message; false when the scan was cancelled.
  auto push = [&](Work&& w) {
    std::unique_lock lk(mu);
    cv_space.wait(lk, [&] { return produced - printed < window || cancelled; });
    if (cancelled) return false;
    w.ord = produced++;
    queue.push_back(std::move(w));
    cv_work.notify_one();
    return true;
  };

  std::thread reader([&] {
    std::uint64_t seq = 0;
    bool stop = false;
    for (const auto& path : o.paths) {
      if (stop) break;
      std::string why;
      const bool ok = readable_input(path, why);
      if (!ok) {
        ++input_errors;
        std::fprintf(stderr, "hdrscan: %s: %s\n", path.c_str(), why.c_str());
      }
      std::uint64_t yielded = 0;
      std::string open_error;
      try {
        if (ok) {
          auto src = mime::open_source(path, ropt);
          mime::RawMessage raw;
          while (src && src->next(raw)) {
            const std::uint64_t s = seq++;
            ++yielded;
            if (s % shard.n == shard.k && !push(Work{0, s, std::move(raw)})) {
              stop = true;
              break;
            }
            raw = mime::RawMessage{};
          }
        }
      } catch (const std::exception& e) {
        open_error = e.what();
      } catch (...) {
        open_error = "unknown error";
      }
      if (!open_error.empty()) {
        ++input_errors;
        std::fprintf(stderr, "hdrscan: %s: %s\n", path.c_str(), open_error.c_str());
      }
      // An input that gave nothing because it failed still appears, as a failed record.
      if (yielded == 0 && (!ok || !open_error.empty())) {
        Work w;
        w.seq = seq++;
        w.raw.where.path = path;
        w.raw.error = ok ? open_error : why;
        w.raw.error_code = "unreadable";
        if (w.seq % shard.n == shard.k && !push(std::move(w))) stop = true;
      }
    }
    std::lock_guard lk(mu);
    reader_finished = true;
    cv_work.notify_all();
    cv_done.notify_all();
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (;;) {
        Work w;
        {
          std::unique_lock lk(mu);
          cv_work.wait(lk, [&] { return !queue.empty() || reader_finished; });
          if (queue.empty()) return;
          w = std::move(queue.front());
          queue.pop_front();
        }
        MessageReport r = analyze(w.raw, analyzer, limits);
        w.raw = mime::RawMessage{};  // free the bytes before waiting for the output stage
        std::lock_guard lk(mu);
        const bool head = w.ord == printed;
        done.emplace(w.ord, std::make_pair(w.seq, std::move(r)));
        if (head) cv_done.notify_one();
      }
    });
  }

  printer->begin();
  bool write_failed = false;
  auto last_draw = Clock::now();
  for (;;) {
    std::pair<std::uint64_t, MessageReport> item;
    {
      std::unique_lock lk(mu);
      const bool ready = cv_done.wait_for(lk, std::chrono::milliseconds(progress_on ? 200 : 1000), [&] {
        return done.count(printed) > 0 || (reader_finished && printed == produced);
      });
      if (!ready) {
        lk.unlock();
        bar.update(summary.messages, summary.bytes, sizer ? sizer->total() : std::nullopt,
                   std::chrono::duration<double>(Clock::now() - start).count());
        continue;
      }
      auto it = done.find(printed);
      if (it == done.end()) break;  // reader finished and everything printed
      item = std::move(it->second);
      done.erase(it);
    }
    const MessageReport& r = item.second;
    const ScanRecord rec{item.first, &r};
    summary.add(r, min_verdict);
    if (!write_failed && (!o.only_matches || r.assessment.verdict >= min_verdict)) {
      printer->message(rec);
      if (std::ferror(out)) {  // stop reading; the messages in flight drain unprinted
        write_failed = true;
        std::lock_guard lk(mu);
        cancelled = true;
        cv_space.notify_all();
      }
    }
    if (report) report->add(rec);
    {
      std::lock_guard lk(mu);
      ++printed;
      cv_space.notify_one();
    }
    if (progress_on && Clock::now() - last_draw > std::chrono::milliseconds(200)) {
      last_draw = Clock::now();
      bar.update(summary.messages, summary.bytes, sizer ? sizer->total() : std::nullopt,
                 std::chrono::duration<double>(last_draw - start).count());
    }
  }
  reader.join();
  for (auto& w : workers) w.join();
  bar.clear();

  summary.input_errors = input_errors;
  summary.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (format == OutputFormat::text && !o.no_summary) printer->end(summary);
  else if (format != OutputFormat::text) printer->end(summary);

  int rc = summary.flagged > 0 ? 1 : 0;
  if (summary.input_errors > 0) rc = 2;
  if (std::fflush(out) != 0 || std::ferror(out)) {
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

void add_scan_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ScanOptions>();
  CLI::App* cmd = app.add_subcommand("scan", "Scan messages (files, directories, mbox, Maildir, zip, - for stdin)");
  cmd->add_option("PATH", o->paths, "Inputs: .eml, mbox, .zip, directories (recursive, Maildir), - for stdin")
      ->required();
  cmd->add_option("--format", o->format, "Output format: text, jsonl or csv")->capture_default_str()
      ->check(CLI::IsMember({"text", "jsonl", "csv"}));
  cmd->add_option("-o,--output", o->output, "Write the output to FILE instead of standard output")->type_name("FILE");
  cmd->add_option("-j,--threads", o->threads, "Worker threads (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_flag("--only-matches", o->only_matches, "Print only messages at or above --min-verdict");
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
  cmd->add_flag("--no-summary", o->no_summary, "Text format: no summary after the messages");
  o->analysis.add_to(*cmd);
  // An exception escaping run_scan is reported by main() as "hdrscan: error: ..." with status 2.
  cmd->callback([o, &exit_code] { exit_code = run_scan(*o); });
}

}  // namespace hdrscan::scanner
