// audit.cpp: the `hdrscan audit` command: options, the run over all inputs, the text and
// JSON Lines printers and the indicator export (see audit.hpp).
//
// Limits: inputs are streamed (audit_reader.cpp); what is kept is the relevant events only
// (audit_rules.cpp). Text from the audit log that reaches the indicator file is cleaned of
// control characters and capped, so a hostile record cannot inject indicator lines.
// Diagnostics: malformed rows go to `err` as "file:line: reason" (and to jsonl output);
// unreadable inputs, a bad --indicators file or an unwritable output give exit status 2.
#include "scanner/audit/audit.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "mime/net.hpp"

namespace hdrscan::scanner::audit {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One line of free text for the indicator file / the terminal: no control characters.
std::string one_line(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 32 || u == 127 ? ' ' : c);
  }
  if (out.size() > max) {
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xC0) == 0x80) --n;
    out.resize(n);
    out += "...";
  }
  return out;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string provenance(const heuristics::IpIndicator& ind) {
  std::string s = ind.from.file;
  if (ind.from.line) s += ":" + std::to_string(ind.from.line);
  s += " " + ind.text;
  return s;
}

json finding_json(const TenantTimeline& tl, const AuditEvent& e, const Finding& f) {
  json ev = json::array();
  for (const auto& x : f.evidence) {
    json item = {{"field", x.field}, {"value", x.value}};
    if (!x.note.empty()) item["note"] = x.note;
    ev.push_back(std::move(item));
  }
  json j = {{"type", "finding"},
            {"tenant", tl.tenant},
            {"time", e.time},
            {"severity", to_string(f.severity)},
            {"id", f.id},
            {"title", f.title},
            {"operation", e.operation},
            {"user", e.user},
            {"object", e.object},
            {"source", {{"path", e.file}, {"line", e.line}}},
            {"evidence", std::move(ev)}};
  if (!e.client_ip.empty()) j["client_ip"] = e.client_ip;
  if (!e.app_id.empty()) j["app_id"] = e.app_id;
  if (!e.user_agent.empty()) j["user_agent"] = e.user_agent;
  if (!e.record_id.empty()) j["record_id"] = e.record_id;
  return j;
}

void print_text(std::ostream& out, const std::vector<TenantTimeline>& tls, Severity show) {
  for (const auto& tl : tls) {
    std::size_t total = 0;
    for (const auto& [s, n] : tl.counts) total += n;
    out << "tenant " << tl.tenant << ": " << total << " finding" << (total == 1 ? "" : "s")
        << ", highest " << to_string(tl.max_severity());
    std::string sep = " (";
    for (Severity s : {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info}) {
      auto it = tl.counts.find(s);
      if (it == tl.counts.end()) continue;
      out << sep << to_string(s) << " " << it->second;
      sep = ", ";
    }
    out << (sep == ", " ? ")" : "") << "\n";
    for (const auto& e : tl.events) {
      if (e.max_severity() < show) continue;
      out << "  " << e.time << "  " << one_line(e.operation, 80);
      if (!e.object.empty()) out << " '" << one_line(e.object, 80) << "'";
      if (!e.user.empty()) out << " by " << one_line(e.user, 80);
      if (!e.client_ip.empty()) out << " from " << one_line(e.client_ip, 60);
      out << "  [" << e.file << ":" << e.line << "]\n";
      for (const auto& f : e.findings) {
        if (f.severity < show) continue;
        std::string sev(to_string(f.severity));
        sev.resize(8, ' ');
        out << "    " << sev << " " << f.id << ": " << one_line(f.title, 300) << "\n";
        for (const auto& x : f.evidence) {
          out << "             " << one_line(x.field, 80) << " = " << one_line(x.value, 300);
          if (!x.note.empty()) out << "  (" << one_line(x.note, 300) << ")";
          out << "\n";
        }
      }
    }
    out << "\n";
  }
}

}  // namespace

RuleConfig rule_config_from_pack(const heuristics::IndicatorPack& pack) {
  RuleConfig cfg = RuleConfig::defaults();
  auto add = [](std::vector<std::string>& to, const std::string& v) {
    if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
  };
  for (const auto& h : pack.stripped_headers) add(cfg.protected_headers, h.name);
  for (const auto& p : pack.stripped_prefixes) add(cfg.protected_prefixes, p.name);
  auto ips = std::make_shared<std::vector<heuristics::IpIndicator>>(pack.connector_ips);
  cfg.known_connector_ip = [ips](std::string_view text) -> std::string {
    if (auto ip = mime::parse_ip(text)) {
      for (const auto& ind : *ips)
        if (ind.range.contains(*ip)) return provenance(ind);
      return {};
    }
    if (auto range = mime::parse_cidr(text)) {  // a range on the connector holding a known IP
      for (const auto& ind : *ips)
        if (range->contains(ind.range.base) || ind.range.contains(range->base)) return provenance(ind);
    }
    return {};
  };
  return cfg;
}

std::string indicator_text(const std::vector<TenantTimeline>& timelines, const std::string& label,
                           const std::string& generated, std::size_t* entries) {
  std::string out;
  out += "# hdrscan indicators exported by `hdrscan audit` from " + one_line(label) + "\n";
  out += "# connector IPs of suspect inbound connectors and headers removed by suspect transport rules\n";
  out += "@format hdrscan-indicators 1\n";
  out += "@version audit-" + one_line(generated, 40) + "\n";
  std::size_t n = 0;
  std::set<std::string> ips_done, headers_done;
  for (const auto& tl : timelines) {
    for (const auto& e : tl.events) {
      if (!e.suspect || (e.kind != EventKind::connector_new && e.kind != EventKind::connector_set)) continue;
      std::string block;
      for (const auto& ip : e.ips) {
        if (!mime::parse_cidr(ip)) {
          block += "# skipped '" + one_line(ip, 80) + "': not an IP or CIDR\n";
          continue;
        }
        if (!ips_done.insert(ip).second) continue;
        block += "connector-ip " + ip + "\n";
        ++n;
      }
      if (block.empty()) continue;
      out += "\n@source hdrscan audit of " + one_line(e.file) + " (tenant " + one_line(tl.tenant, 80) +
             ", connector " + one_line(e.object, 80) + " " +
             (e.kind == EventKind::connector_new ? "created " : "changed ") + e.time + ", line " +
             std::to_string(e.line) + ")\n" + block;
    }
    std::vector<const AuditEvent*> rules;
    for (const auto& e : tl.events)
      if (e.suspect && (e.kind == EventKind::rule_new || e.kind == EventKind::rule_set) && !e.removed_headers.empty())
        rules.push_back(&e);
    if (rules.empty()) continue;
    std::string block;
    std::set<std::string> files;
    for (const AuditEvent* e : rules) {
      files.insert(e->file);
      for (const auto& h : e->removed_headers) {
        if (!heuristics::valid_header_name(h)) {
          block += "# skipped '" + one_line(h, 80) + "': not a header name\n";
          continue;
        }
        std::string key;
        for (char c : h) key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        if (!headers_done.insert(key).second) continue;
        block += "stripped-header " + h + "\n";
        ++n;
      }
    }
    if (block.empty()) continue;
    std::string file_list;
    for (const auto& f : files) file_list += (file_list.empty() ? "" : ", ") + f;
    std::string names = one_line(rules.front()->object, 60);
    if (rules.size() > 1) names += ".." + one_line(rules.back()->object, 60);
    out += "\n@source hdrscan audit of " + one_line(file_list) + " (tenant " + one_line(tl.tenant, 80) +
           ", transport rules " + names + " created " + rules.front()->time + ".." + rules.back()->time + ")\n" +
           block;
  }
  if (n == 0) out += "\n# no suspect connector or header-stripping rule found\n";
  if (entries) *entries = n;
  return out;
}

int run_audit(const AuditOptions& opt, std::ostream& out, std::ostream& err) {
  int status = 0;
  RuleConfig cfg;
  try {
    auto pack = heuristics::IndicatorPack::builtin();
    for (const auto& f : opt.indicator_files) pack.add_file(f);
    cfg = rule_config_from_pack(pack);
  } catch (const heuristics::IndicatorError& e) {
    err << "hdrscan audit: " << e.what() << "\n";
    return 2;
  }
  const bool jsonl = opt.format == "jsonl";
  AuditAnalyzer analyzer(std::move(cfg));
  std::vector<Diagnostic> diags;
  std::size_t records = 0, skipped = 0;
  json files = json::array();
  for (const auto& path : opt.inputs) {
    ReadSummary s = read_audit_file(
        path, [&](const AuditRecord& r) { analyzer.add(r); },
        [&](const Diagnostic& d) {
          err << (d.fatal ? "hdrscan audit: error: " : d.warning ? "hdrscan audit: warning: " : "hdrscan audit: ")
              << one_line(d.to_string(), 400) << "\n";
          if (diags.size() < 100000) diags.push_back(d);
        },
        opt.limits);
    if (s.fatal) status = 2;
    records += s.records;
    skipped += s.skipped;
    files.push_back({{"path", path}, {"format", to_string(s.format)}, {"records", s.records},
                     {"skipped", s.skipped}, {"lines", s.lines}, {"error", s.fatal}});
  }
  std::vector<TenantTimeline> timelines = analyzer.finish();
  if (analyzer.dropped())
    err << "hdrscan audit: warning: " << analyzer.dropped() << " low-value events dropped (more than "
        << analyzer.config().max_events << " kept)\n";

  Severity top = Severity::info;
  bool any = false;
  for (const auto& tl : timelines)
    if (!tl.events.empty()) { top = std::max(top, tl.max_severity()); any = true; }
  const bool flagged = any && top >= opt.min_severity;

  if (jsonl) {
    for (const auto& tl : timelines)
      for (const auto& e : tl.events)
        for (const auto& f : e.findings)
          if (f.severity >= opt.show_severity) out << dump(finding_json(tl, e, f)) << "\n";
    for (const auto& d : diags)
      out << dump({{"type", "diagnostic"}, {"path", d.file}, {"line", d.line}, {"reason", d.reason},
                   {"level", d.fatal ? "error" : d.warning ? "warning" : "skipped"}})
          << "\n";
  } else {
    print_text(out, timelines, opt.show_severity);
  }

  if (!opt.export_indicators.empty()) {
    std::string label;
    for (const auto& p : opt.inputs) label += (label.empty() ? "" : ", ") + p;
    std::size_t n = 0;
    std::string text = indicator_text(timelines, label, today(), &n);
    std::ofstream f(opt.export_indicators, std::ios::binary | std::ios::trunc);
    if (!(f << text) || !(f.flush())) {
      err << "hdrscan audit: error: cannot write " << opt.export_indicators << "\n";
      status = 2;
    } else {
      err << "hdrscan audit: " << n << " indicator" << (n == 1 ? "" : "s") << " written to "
          << opt.export_indicators << "\n";
    }
  }

  const int exit_status = status == 2 ? 2 : flagged ? 1 : 0;
  if (jsonl) {
    json tenants = json::array();
    for (const auto& tl : timelines) {
      json counts = json::object();
      for (const auto& [s, n] : tl.counts) counts[std::string(to_string(s))] = n;
      tenants.push_back({{"tenant", tl.tenant}, {"events", tl.events.size()}, {"findings", counts},
                         {"max_severity", to_string(tl.max_severity())}});
    }
    out << dump({{"type", "summary"}, {"files", files}, {"records", records}, {"skipped", skipped},
                 {"duplicates", analyzer.duplicates()}, {"dropped", analyzer.dropped()},
                 {"tenants", tenants}, {"min_severity", to_string(opt.min_severity)},
                 {"exit_status", exit_status}})
        << "\n";
  } else {
    out << "audit: " << opt.inputs.size() << " file" << (opt.inputs.size() == 1 ? "" : "s") << ", " << records
        << " records, " << skipped << " malformed rows skipped, " << timelines.size() << " tenant"
        << (timelines.size() == 1 ? "" : "s") << "; highest severity " << (any ? to_string(top) : "none")
        << " (threshold " << to_string(opt.min_severity) << ")\n";
  }
  out.flush();
  if (!out) {
    err << "hdrscan audit: error: cannot write the output\n";
    return 2;
  }
  return exit_status;
}

int run_audit(const AuditOptions& opt) {
  if (opt.output.empty() || opt.output == "-") return run_audit(opt, std::cout, std::cerr);
  std::ofstream f(opt.output, std::ios::binary | std::ios::trunc);
  if (!f) {
    std::cerr << "hdrscan audit: error: cannot write " << opt.output << "\n";
    return 2;
  }
  return run_audit(opt, f, std::cerr);
}

}  // namespace hdrscan::scanner::audit

namespace hdrscan::scanner {

void add_audit_command(CLI::App& app, int& exit_code) {
  struct State {
    audit::AuditOptions opt;
    std::string min_severity = "high", show_severity = "info";
  };
  auto st = std::make_shared<State>();
  const std::vector<std::string> levels = {"info", "low", "medium", "high", "critical"};
  CLI::App* cmd = app.add_subcommand(
      "audit", "Find the campaign's connector, header-stripping rules and app in Microsoft 365 audit exports "
               "(Purview CSV, JSON, JSON Lines, Defender CloudAppEvents)");
  cmd->add_option("FILE", st->opt.inputs, "audit export files ('-' = standard input)")->required();
  cmd->add_option("--format", st->opt.format, "output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", st->opt.output, "write the timeline to FILE instead of standard output");
  cmd->add_option("--export-indicators", st->opt.export_indicators,
                  "write the suspect connectors' IPs and stripped header names as an indicator file "
                  "for `hdrscan scan --indicators`");
  cmd->add_option("--min-severity", st->min_severity, "exit status 1 when a finding is at/above this level")
      ->check(CLI::IsMember(levels))
      ->capture_default_str();
  cmd->add_option("--show-severity", st->show_severity, "print findings at/above this level")
      ->check(CLI::IsMember(levels))
      ->capture_default_str();
  cmd->add_option("--indicators", st->opt.indicator_files,
                  "indicator file adding known connector IPs and stripped headers (repeatable)");
  cmd->add_option("--max-record-size", st->opt.limits.max_record_bytes,
                  "largest CSV record / JSON element in bytes; larger ones are reported and skipped")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
      ->capture_default_str();
  cmd->callback([st, &exit_code] {
    st->opt.min_severity = audit::parse_severity(st->min_severity).value_or(audit::Severity::high);
    st->opt.show_severity = audit::parse_severity(st->show_severity).value_or(audit::Severity::info);
    exit_code = audit::run_audit(st->opt);
  });
}

}  // namespace hdrscan::scanner
