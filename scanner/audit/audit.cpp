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
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "mime/net.hpp"
#include "mime/text.hpp"

namespace hdrscan::scanner::audit {
namespace {

using json = nlohmann::ordered_json;  // keys in the documented order (docs/audit.md)
using mime::text::lower;

// Every JSON Lines record names it; its key sets per type are documented in docs/audit.md.
constexpr const char* kSchema = "hdrscan.audit/1";

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
  for (const auto& x : f.evidence) ev.push_back({{"field", x.field}, {"value", x.value}, {"note", x.note}});
  return {{"schema", kSchema},
            {"type", "finding"},
            {"tenant", tl.tenant},
            {"time", e.time},
            {"severity", to_string(f.severity)},
            {"id", f.id},
            {"title", f.title},
            {"operation", e.operation},
            {"user", e.user},
            {"object", e.object},
            {"source", {{"path", e.file}, {"line", e.line}}},
            {"client_ip", e.client_ip},
            {"app_id", e.app_id},
            {"user_agent", e.user_agent},
            {"record_id", e.record_id},
            {"evidence", std::move(ev)}};
}

// ---- the per-tenant summary (what an admin checks first), derived from the timeline

struct ConnectorInfo {
  std::string name, created, created_by, removed;
  std::vector<std::string> ips, known_ips;
  bool suspect = false;
};
struct AppInfo {
  std::string app, role, granted_by, time;
  std::size_t credentials = 0;
  bool suspect = false;
};
struct RuleInfo {
  std::string name, created, created_by, removed;
  std::vector<std::string> headers;
  bool suspect = false;
};
struct TenantSummary {
  std::string domain;  // the most frequent UPN domain ("" when none)
  std::vector<ConnectorInfo> connectors;
  std::vector<AppInfo> apps;
  std::vector<RuleInfo> rules;  // transport rules that remove headers
};

template <class T>
T& by_name(std::vector<T>& v, const std::string& name) {
  for (auto& x : v)
    if (lower(x.name) == lower(name)) return x;
  v.push_back({});
  v.back().name = name;
  return v.back();
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

TenantSummary summarize(const TenantTimeline& tl) {
  TenantSummary s;
  std::size_t best = 0;
  for (const auto& [d, n] : tl.domains)
    if (n > best) best = n, s.domain = d;
  for (const auto& e : tl.events) {
    switch (e.kind) {
      case EventKind::connector_new: case EventKind::connector_set: {
        auto& c = by_name(s.connectors, e.object);
        if (c.created.empty()) c.created = e.time, c.created_by = e.user;
        for (const auto& ip : e.ips) add_unique(c.ips, ip);
        for (const auto& f : e.findings)
          if (f.id == "connector.known_campaign_ip")
            for (const auto& x : f.evidence) add_unique(c.known_ips, x.value);
        c.suspect = c.suspect || e.suspect;
        break;
      }
      case EventKind::connector_remove: by_name(s.connectors, e.object).removed = e.time; break;
      case EventKind::rule_new: case EventKind::rule_set: {
        if (e.removed_headers.empty()) break;
        auto& r = by_name(s.rules, e.object);
        if (r.created.empty()) r.created = e.time, r.created_by = e.user;
        for (const auto& h : e.removed_headers) add_unique(r.headers, h);
        r.suspect = r.suspect || e.suspect;
        break;
      }
      case EventKind::rule_remove:
        for (auto& r : s.rules)
          if (lower(r.name) == lower(e.object)) r.removed = e.time;
        break;
      case EventKind::role_assignment: {
        std::string role;
        for (const auto& f : e.findings)
          if (f.id == "app.exchange_manage_as_app") role = "Exchange.ManageAsApp";
        s.apps.push_back({e.object, role.empty() ? "an app role" : role, e.user, e.time, 0, e.suspect});
        break;
      }
      case EventKind::credentials:
        for (auto& a : s.apps)
          if (lower(a.app) == lower(e.object)) ++a.credentials;
        break;
      default: break;
    }
  }
  return s;
}

std::string list(const std::vector<std::string>& v, std::size_t max = 12) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + one_line(v[i], 80);
  if (v.size() > max) out += fmt::format(" (+{} more)", v.size() - max);
  return out;
}

void print_summary(std::ostream& out, const TenantTimeline& tl, const TenantSummary& s) {
  std::size_t total = 0;
  for (const auto& [sev, n] : tl.counts) total += n;
  out << "tenant " << one_line(tl.tenant, 80);
  if (!s.domain.empty()) out << " (" << one_line(s.domain, 80) << ")";
  out << ": " << total << " finding" << (total == 1 ? "" : "s");
  if (total) {
    out << ", highest " << to_string(tl.max_severity());
    std::string sep = " (";
    for (Severity v : {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info}) {
      auto it = tl.counts.find(v);
      if (it == tl.counts.end()) continue;
      out << sep << to_string(v) << " " << it->second;
      sep = ", ";
    }
    out << ")";
  }
  out << "\n";
  out << "  seen:        " << (tl.first_seen.empty() ? "-" : tl.first_seen) << " .. "
      << (tl.last_seen.empty() ? "-" : tl.last_seen) << " (" << tl.records << " record"
      << (tl.records == 1 ? "" : "s") << ")\n";
  for (const auto& c : s.connectors) {
    out << "  connector:   " << one_line(c.name, 80) << (c.suspect ? "  SUSPECT" : "") << ", created "
        << (c.created.empty() ? "before the export" : c.created) << (c.created_by.empty() ? "" : " by " + one_line(c.created_by, 80))
        << (c.removed.empty() ? "" : ", removed " + c.removed) << "\n";
    if (!c.ips.empty()) {
      out << "               IPs: " << list(c.ips, 16);
      if (!c.known_ips.empty()) out << "  (" << c.known_ips.size() << " known campaign IP" << (c.known_ips.size() == 1 ? "" : "s") << ")";
      out << "\n";
    }
  }
  for (const auto& a : s.apps)
    out << "  app:         " << one_line(a.app, 80) << (a.suspect ? "  SUSPECT" : "") << ": " << a.role << " granted by "
        << one_line(a.granted_by, 80) << " " << a.time
        << (a.credentials ? fmt::format(", {} credential{} added", a.credentials, a.credentials == 1 ? "" : "s") : "") << "\n";
  if (!s.rules.empty()) {
    std::vector<std::string> names, headers;
    std::size_t suspect = 0, removed = 0;
    std::string first, last, by, removed_last;
    for (const auto& r : s.rules) {
      names.push_back(r.name);
      for (const auto& h : r.headers) add_unique(headers, h);
      suspect += r.suspect;
      if (!r.removed.empty()) ++removed, removed_last = std::max(removed_last, r.removed);
      if (first.empty() || (!r.created.empty() && r.created < first)) first = r.created;
      last = std::max(last, r.created);
      if (by.empty()) by = r.created_by;
    }
    out << "  rules:       " << s.rules.size() << " transport rule" << (s.rules.size() == 1 ? "" : "s")
        << " removing headers (" << suspect << " removing protective ones): " << list(names, 6) << "; created " << first
        << (last != first ? " .. " + last : "") << (by.empty() ? "" : " by " + one_line(by, 80))
        << (removed ? fmt::format("; {} removed, last {}", removed, removed_last) : "") << "\n";
    out << "               headers removed: " << list(headers, 16) << "\n";
  }
  if (s.connectors.empty() && s.apps.empty() && s.rules.empty())
    out << "  (no inbound connector, app role grant or header-removing rule in the export)\n";
}

json summary_json(const TenantTimeline& tl, const TenantSummary& s) {
  json counts = json::object();
  for (const auto& [v, n] : tl.counts) counts[std::string(to_string(v))] = n;
  json cs = json::array(), as = json::array(), rs = json::array();
  for (const auto& c : s.connectors)
    cs.push_back({{"name", c.name}, {"suspect", c.suspect}, {"created", c.created}, {"created_by", c.created_by},
                  {"removed", c.removed}, {"ips", c.ips}, {"known_campaign_ips", c.known_ips}});
  for (const auto& a : s.apps)
    as.push_back({{"app", a.app}, {"suspect", a.suspect}, {"role", a.role}, {"granted_by", a.granted_by},
                  {"time", a.time}, {"credentials_added", a.credentials}});
  for (const auto& r : s.rules)
    rs.push_back({{"name", r.name}, {"suspect", r.suspect}, {"created", r.created}, {"created_by", r.created_by},
                  {"removed", r.removed}, {"headers", r.headers}});
  return {{"schema", kSchema},
          {"type", "tenant"},
          {"tenant", tl.tenant},
          {"domain", s.domain},
          {"records", tl.records},
          {"first_seen", tl.first_seen},
          {"last_seen", tl.last_seen},
          {"events", tl.events.size()},
          {"findings", counts},
          {"max_severity", tl.events.empty() ? json(nullptr) : json(to_string(tl.max_severity()))},
          {"connectors", cs},
          {"apps", as},
          {"transport_rules", rs}};
}

// ---- the timeline

// Consecutive events of one operation with the same findings are one row with a count; a
// finding's evidence is printed the first time the finding appears for the tenant, at most 8
// items. --verbose: every event, every item.
void print_timeline(std::ostream& out, const TenantTimeline& tl, Severity show, bool verbose) {
  std::set<std::string> explained;
  std::size_t shown = 0;
  const auto& evs = tl.events;
  auto signature = [&](const AuditEvent& e) {
    std::string sig = normalize_operation(e.operation);
    for (const auto& f : e.findings)
      if (f.severity >= show) sig += "|" + f.id + ":" + std::string(to_string(f.severity));
    return sig;
  };
  for (std::size_t i = 0; i < evs.size();) {
    const AuditEvent& e = evs[i];
    std::size_t j = i + 1;
    if (e.max_severity() < show) {
      i = j;
      continue;
    }
    if (!verbose) {
      const std::string sig = signature(e);
      while (j < evs.size() && evs[j].max_severity() >= show && signature(evs[j]) == sig) ++j;
    }
    const std::size_t n = j - i;
    std::vector<std::string> objects, users, ips;
    for (std::size_t k = i; k < j; ++k) {
      if (!evs[k].object.empty()) add_unique(objects, evs[k].object);
      if (!evs[k].user.empty()) add_unique(users, evs[k].user);
      if (!evs[k].client_ip.empty()) add_unique(ips, evs[k].client_ip);
    }
    ++shown;
    out << "  " << e.time;
    if (n > 1) out << " .. " << evs[j - 1].time << "  " << n << "x";
    out << "  " << one_line(e.operation, 80);
    if (!objects.empty()) out << " '" << list(objects, 4) << "'";
    if (!users.empty()) out << " by " << list(users, 3);
    if (!ips.empty()) out << " from " << list(ips, 3);
    out << "  [" << e.file << ":" << e.line << (n > 1 ? fmt::format(" +{}", n - 1) : "") << "]\n";
    for (const auto& f : e.findings) {
      if (f.severity < show) continue;
      std::string sev(to_string(f.severity));
      sev.resize(8, ' ');
      out << "    " << sev << " " << f.id << ": " << one_line(f.title, 300) << (n > 1 ? fmt::format(" (x{})", n) : "")
          << "\n";
      if (!verbose && !explained.insert(f.id).second) continue;
      const std::size_t max_items = verbose ? f.evidence.size() : 8;
      for (std::size_t k = 0; k < f.evidence.size() && k < max_items; ++k) {
        const auto& x = f.evidence[k];
        out << "             " << one_line(x.field, 80) << " = " << one_line(x.value, 300);
        if (!x.note.empty()) out << "  (" << one_line(x.note, 300) << ")";
        out << "\n";
      }
      if (f.evidence.size() > max_items)
        out << "             (" << f.evidence.size() - max_items << " more; --verbose)\n";
    }
    i = j;
  }
  if (!verbose && shown < evs.size())
    out << "  (" << evs.size() << " events in " << shown << " rows; evidence shown once per finding; --verbose for every row)\n";
}

void print_text(std::ostream& out, const std::vector<TenantTimeline>& tls, Severity show, bool verbose) {
  out << "== Tenants\n";
  for (const auto& tl : tls) print_summary(out, tl, summarize(tl));
  for (const auto& tl : tls) {
    if (tl.events.empty()) continue;
    out << "\n== Timeline of tenant " << one_line(tl.tenant, 80) << (verbose ? "" : " (repeated findings collapsed)")
        << "\n";
    print_timeline(out, tl, show, verbose);
  }
  out << "\n";
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
                           const std::string& generated, const heuristics::IndicatorPack& roles,
                           std::size_t* entries) {
  // The pack's tenant-header entry whose name (or consumer name) is `h`, or nullptr.
  auto role_of = [&](std::string_view h) -> const heuristics::TenantHeaderName* {
    for (const auto& t : roles.tenant_headers)
      if (mime::text::iequals(t.name, h) || (!t.consumer_name.empty() && mime::text::iequals(t.consumer_name, h)))
        return &t;
    return nullptr;
  };
  std::string out;
  out += "# hdrscan indicators exported by `hdrscan audit` from " + one_line(label) + "\n";
  out += "# connector IPs of suspect inbound connectors and headers removed by suspect transport rules\n";
  out += "@format hdrscan-indicators 1\n";
  out += "@version audit-" + one_line(generated, 40) + "\n";
  std::size_t n = 0;
  std::set<std::string> ips_done, headers_done, roles_done;
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
        if (!headers_done.insert(lower(h)).second) continue;
        block += "stripped-header " + h + "\n";
        ++n;
        const heuristics::TenantHeaderName* t = role_of(h);
        if (!t) {
          block += "# " + h + ": no tenant-header role in the indicator pack; read by strip.signed_header_removed\n";
          continue;
        }
        if (!roles_done.insert(lower(t->name)).second) continue;
        block += "tenant-header " + std::string(heuristics::to_string(t->kind)) + " " + t->name +
                 (t->consumer_name.empty() ? "" : " consumer=" + t->consumer_name) + "\n";
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
  heuristics::IndicatorPack pack;
  try {
    pack = heuristics::IndicatorPack::builtin();
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
    for (const auto& tl : timelines) out << dump(summary_json(tl, summarize(tl))) << "\n";
    for (const auto& tl : timelines)
      for (const auto& e : tl.events)
        for (const auto& f : e.findings)
          if (f.severity >= opt.show_severity) out << dump(finding_json(tl, e, f)) << "\n";
    for (const auto& d : diags)
      out << dump({{"schema", kSchema}, {"type", "diagnostic"}, {"path", d.file}, {"line", d.line}, {"reason", d.reason},
                   {"level", d.fatal ? "error" : d.warning ? "warning" : "skipped"}})
          << "\n";
  } else {
    print_text(out, timelines, opt.show_severity, opt.verbose);
  }

  if (!opt.export_indicators.empty()) {
    std::string label;
    for (const auto& p : opt.inputs) label += (label.empty() ? "" : ", ") + p;
    std::size_t n = 0;
    std::string text = indicator_text(timelines, label, today(), pack, &n);
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
                         {"max_severity", tl.events.empty() ? json(nullptr) : json(to_string(tl.max_severity()))}});
    }
    out << dump({{"schema", kSchema}, {"type", "summary"}, {"files", files}, {"records", records}, {"skipped", skipped},
                 {"duplicates", analyzer.duplicates()}, {"dropped", analyzer.dropped()},
                 {"tenants", tenants}, {"min_severity", to_string(opt.min_severity)},
                 {"exit_status", exit_status}})
        << "\n";
  } else {
    out << "audit: " << opt.inputs.size() << " file" << (opt.inputs.size() == 1 ? "" : "s") << ", " << records
        << " records, " << skipped << " malformed rows skipped, " << timelines.size() << " tenant"
        << (timelines.size() == 1 ? "" : "s") << "; highest severity " << (any ? to_string(top) : "none")
        << " (threshold " << to_string(opt.min_severity) << "): exit status " << exit_status
        << (exit_status == 2 ? ", an input could not be read" : exit_status == 1 ? ", a finding at or above the threshold" : "")
        << "\n";
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
  cmd->add_flag("-v,--verbose", st->opt.verbose,
                "text: every event and all its evidence, repeated findings not collapsed");
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
