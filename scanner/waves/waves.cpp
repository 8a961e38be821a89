// waves.cpp: the `hdrscan waves` command (waves.hpp): reads scan records (files or "-"),
// keeps the flagged ones, groups them (grouping.cpp) and writes the summary and the exports.
//
// Reading: one record per line; a line that is only blanks is not a record and is passed over.
// A record below --min-verdict is recognised without building its JSON tree (the "verdict"
// field is found by its key, which cannot occur unescaped inside a string value) when the
// line has the record's shape (starts with the hdrscan.scan/2 schema, ends with '}'); every
// other line is parsed in full (scanner/records.hpp), so memory follows the flagged records,
// not the records read. Records `unreadable` / `not_mail` are never flagged.
// Diagnostics: "hdrscan: waves: FILE:LINE: reason" on standard error for each bad record
// (truncated JSON, another schema, a missing field), "hdrscan: waves: FILE: reason" for an
// input that cannot be opened or read, and for an output that cannot be written; the command
// goes on and exits 2 at the end.
#include "scanner/waves/waves.hpp"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "heuristics/heuristics.hpp"
#include "scanner/printers.hpp"

namespace hdrscan::scanner {
namespace {

struct Options {
  std::vector<std::string> inputs;
  std::string min_verdict = "campaign";
  std::string format = "text";
  std::string output, html, stix, misp, csv_iocs;
  std::string tlp = "amber";
  std::string window = "72h";
  int template_distance = 3;
  std::size_t min_messages = 2;
  std::vector<std::string> link{"tenant", "ip", "url", "template"};
  std::vector<std::string> ignore_domains;
  std::vector<std::string> audit;
  bool include_recipients = false;
};

std::optional<std::int64_t> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t mult = 3600;  // a bare number is hours
  static constexpr std::pair<char, std::int64_t> kUnits[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  for (const auto& [unit, seconds] : kUnits)
    if (s.back() == unit) {
      mult = seconds;
      s.remove_suffix(1);
      break;
    }
  if (s.empty() || s.size() > 9) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v * mult;
}

// The verdict word of a record line found by its key; "" when not found.
std::string_view quick_verdict(std::string_view line) {
  static constexpr std::string_view kKey = "\"verdict\":\"";
  const auto p = line.find(kKey);
  if (p == std::string_view::npos) return {};
  const auto b = p + kKey.size();
  const auto e = line.find('"', b);
  return e == std::string_view::npos ? std::string_view() : line.substr(b, e - b);
}

bool record_shaped(std::string_view line) {
  static constexpr std::string_view kHead = "{\"schema\":\"hdrscan.scan/2\",";
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  return line.substr(0, kHead.size()) == kHead && !line.empty() && line.back() == '}';
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

struct Reader {
  heuristics::Verdict threshold;
  WavesRun& run;
  bool failed = false;

  void error(const std::string& where, const std::string& why) {
    std::fprintf(stderr, "hdrscan: waves: %s: %s\n", where.c_str(), why.c_str());
    failed = true;
  }

  void line(const std::string& file, std::uint64_t n, std::string_view text) {
    if (blank(text)) return;
    ++run.read;
    const std::string_view quick = quick_verdict(text);
    const auto qv = heuristics::parse_verdict(quick);
    if (record_shaped(text) &&
        (quick == "unreadable" || quick == "not_mail" || (qv && *qv < threshold))) {
      if (!qv) ++run.skipped_unanalysed;
      return;
    }
    std::string why;
    auto rec = parse_scan_record(text, why);
    if (!rec) {
      ++run.bad;
      error(file + ":" + std::to_string(n), why);
      return;
    }
    const auto v = heuristics::parse_verdict(rec->verdict);
    if (!v) {
      ++run.skipped_unanalysed;
      return;
    }
    if (*v < threshold) return;
    ++run.flagged;
    if (!rec->has_grouping) {
      ++run.bad;
      error(file + ":" + std::to_string(n),
            "record without `grouping` (written by an hdrscan before 0.x; scan again)");
      return;
    }
    if (rec->recipients) ++run.with_recipients;
    run.records.push_back({std::move(*rec), file, n});
  }

  void stream(const std::string& file, std::istream& in) {
    std::string buf;
    std::uint64_t n = 0;
    while (std::getline(in, buf)) {
      ++n;
      if (buf.size() > kMaxRecordLine) {
        ++run.bad;
        error(file + ":" + std::to_string(n), "line longer than the record limit");
        continue;
      }
      line(file, n, buf);
    }
    if (in.bad()) error(file, "read error");
  }
};

bool write_file(const std::string& path, const std::string& data) {
  if (path == "-") {
    const bool ok =
        std::fwrite(data.data(), 1, data.size(), stdout) == data.size() && std::fflush(stdout) == 0;
    if (!ok) std::fprintf(stderr, "hdrscan: waves: cannot write standard output\n");
    return ok;
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "hdrscan: waves: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) std::fprintf(stderr, "hdrscan: waves: %s: write error\n", path.c_str());
  return ok;
}

int run_waves(const Options& o) {
  WavesRun run;
  run.min_verdict = o.min_verdict;
  const auto window = parse_duration(o.window);
  if (!window) {
    std::fprintf(stderr, "hdrscan: waves: --window %s: expected N, Ns, Nm, Nh or Nd\n",
                 o.window.c_str());
    return 2;
  }
  run.options.window = *window;
  run.options.template_distance = o.template_distance;
  run.options.min_messages = o.min_messages;
  auto has = [&](const char* k) {
    return std::find(o.link.begin(), o.link.end(), k) != o.link.end();
  };
  run.options.link_tenant = has("tenant");
  run.options.link_ip = has("ip");
  run.options.link_url = has("url");
  run.options.link_template = has("template");
  run.options.ignore_domains = default_ignore_domains();
  for (const auto& d : o.ignore_domains) run.options.ignore_domains.push_back(d);
  const auto tlp = parse_tlp(o.tlp);
  run.include_recipients = o.include_recipients;

  Reader reader{*heuristics::parse_verdict(o.min_verdict), run};
  // std::cin synchronised with C stdio reads a character at a time: `scan | waves -` spent
  // nine times the CPU of reading the same records from a file (docs/benchmarks.md). Nothing
  // here mixes the two on standard input (the outputs go through C stdio, never std::cout).
  std::ios::sync_with_stdio(false);
  for (const auto& in : o.inputs) {
    if (in == "-") {
      reader.stream("-", std::cin);
      continue;
    }
    std::ifstream f(in, std::ios::binary);
    if (!f) {
      reader.error(in, std::strerror(errno));
      continue;
    }
    reader.stream(in, f);
  }
  run.waves = group_waves(run.records, run.options);
  for (const auto& a : o.audit) {
    std::vector<std::string> errors;
    read_audit(a, run.audit, errors);
    for (const auto& e : errors)
      reader.error(e.substr(0, e.rfind(": ")), e.substr(e.rfind(": ") + 2));
  }
  run.matches = join_audit(run.waves, run.audit);
  if (o.include_recipients && run.flagged > 0 && run.with_recipients == 0)
    std::fprintf(stderr,
                 "hdrscan: waves: --include-recipients: no record carries recipient addresses "
                 "(scan them with `hdrscan scan --include-recipients`)\n");

  bool ok = !reader.failed;
  const std::string summary = o.format == "json" ? render_waves_json(run) : render_waves_text(run);
  ok = write_file(o.output.empty() ? "-" : o.output, summary) && ok;
  if (!o.stix.empty()) ok = write_file(o.stix, render_stix(run, *tlp)) && ok;
  if (!o.misp.empty()) ok = write_file(o.misp, render_misp(run, *tlp)) && ok;
  if (!o.csv_iocs.empty()) ok = write_file(o.csv_iocs, render_csv_iocs(run)) && ok;
  if (!o.html.empty()) ok = write_file(o.html, render_waves_html(run)) && ok;
  if (!ok) return 2;
  return run.waves.empty() ? 0 : 1;
}

}  // namespace

std::optional<Tlp> parse_tlp(std::string_view w) {
  if (w == "white" || w == "clear") return Tlp::white;
  if (w == "green") return Tlp::green;
  if (w == "amber") return Tlp::amber;
  if (w == "red") return Tlp::red;
  return std::nullopt;
}

void add_waves_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "waves", "Group flagged scan records into campaign waves; export STIX 2.1 and MISP");
  cmd->add_option("records", o->inputs, "scan --format jsonl output files; - for standard input")
      ->required();
  cmd->add_option("--min-verdict", o->min_verdict, "lowest verdict grouped: campaign or suspicious")
      ->capture_default_str()
      ->check(CLI::IsMember({"campaign", "suspicious"}));
  cmd->add_option("--format", o->format, "summary format: text or json (schema hdrscan.waves/1)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("-o,--output", o->output, "write the summary to FILE instead of standard output");
  cmd->add_option("--stix", o->stix, "write a STIX 2.1 bundle of the waves to FILE");
  cmd->add_option("--misp", o->misp, "write a MISP event (core JSON format) to FILE");
  cmd->add_option("--audit", o->audit,
                  "hdrscan audit --format jsonl output: show what it found in a wave's tenant "
                  "(joined by tenant id or connector IP; repeatable)");
  cmd->add_option("--csv-iocs", o->csv_iocs,
                  "write the indicators as CSV (type,value,wave,first_seen,...) to FILE");
  cmd->add_option("--html", o->html, "write a timeline per wave as a static HTML page to FILE");
  cmd->add_option("--tlp", o->tlp, "TLP marking of the exports: white, green, amber or red")
      ->capture_default_str()
      ->check(CLI::IsMember({"white", "clear", "green", "amber", "red"}));
  cmd->add_option("--window", o->window,
                  "time window of a link: N[s|m|h|d] (a bare number is hours)")
      ->capture_default_str();
  cmd->add_option("--template-distance", o->template_distance,
                  "template link: fingerprints differing in at most N of 64 bits (0-7)")
      ->capture_default_str()
      ->check(CLI::Range(0, 7));
  cmd->add_option("--min-messages", o->min_messages, "smallest group reported as a wave")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--link", o->link, "what links records: tenant,ip,url,template (comma list)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"tenant", "ip", "url", "template"}));
  cmd->add_flag("--include-recipients", o->include_recipients,
                "name the recipients (addresses the records carry, from scan "
                "--include-recipients) in the outputs and exports; never without it");
  cmd->add_option("--ignore-domain", o->ignore_domains,
                  "a URL domain that never links (adds to the built-in list; repeatable)");
  cmd->callback([o, &exit_code] { exit_code = run_waves(*o); });
}

}  // namespace hdrscan::scanner
