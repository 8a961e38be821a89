// render.cpp: waves as text (a summary per wave for a person) and as JSON (schema
// hdrscan.waves/1, docs/waves.md "Output"). Strings come from records (valid UTF-8 already);
// text output replaces control characters so each item stays on its line.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "scanner/printers.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

using ojson = nlohmann::ordered_json;

std::string when(const std::optional<std::int64_t>& t) { return t ? iso_utc(*t) : "unknown"; }

ojson when_json(const std::optional<std::int64_t>& t) {
  return t ? ojson(iso_utc(*t)) : ojson(nullptr);
}

std::string list(const std::vector<Counted>& v, std::size_t max_items, bool quote = false) {
  std::string o;
  std::size_t shown = 0;
  for (const auto& c : v) {
    if (shown == max_items) {
      o += fmt::format(", +{} more", v.size() - shown);
      break;
    }
    if (shown++) o += ", ";
    const std::string val = clean_text(c.value, 120);
    o += quote ? "\"" + val + "\"" : val;
    if (!c.extra.empty()) o += " (" + clean_text(c.extra, 80) + ")";
    o += fmt::format(" x{}", c.messages);
  }
  return o.empty() ? "-" : o;
}

ojson counted_json(const std::vector<Counted>& v, const char* key, const char* extra = nullptr) {
  ojson a = ojson::array();
  for (const auto& c : v) {
    ojson o;
    o[key] = c.value;
    if (extra) o[extra] = c.extra;
    o["messages"] = c.messages;
    a.push_back(std::move(o));
  }
  return a;
}

ojson location_json(const ReadRecord& r) {
  ojson s;
  s["path"] = r.where.path;
  s["index"] = r.where.index ? ojson(*r.where.index) : ojson(nullptr);
  s["offset"] = r.where.offset ? ojson(*r.where.offset) : ojson(nullptr);
  s["member"] = r.where.member.empty() ? ojson(nullptr) : ojson(r.where.member);
  s["folder"] = r.where.folder.empty() ? ojson(nullptr) : ojson(r.where.folder);
  return s;
}

}  // namespace

std::string render_waves_text(const WavesRun& run) {
  std::string o;
  std::size_t in_waves = 0;
  for (std::size_t k = 0; k < run.waves.size(); ++k) {
    const Wave& w = run.waves[k];
    in_waves += w.members.size();
    o += fmt::format("wave {} {}  {} .. {}  {} message{}\n", k + 1, w.id, when(w.first_seen),
                     when(w.last_seen), w.members.size(), w.members.size() == 1 ? "" : "s");
    o += "  tenants:         " + list(w.tenants, 5) + "\n";
    o += "  connector IPs:   " + list(w.connector_ips, 8) + "\n";
    o += "  envelope from:   " + list(w.envelope_domains, 5) + "\n";
    o += "  From domains:    " + list(w.from_domains, 5) + "\n";
    o += "  URL domains:     " + list(w.url_domains, 6) + "\n";
    o += "  URLs:            " + list(w.urls, 3) + "\n";
    o += "  subjects:        " + list(w.subjects, 3, true) + "\n";
    o += "  templates:       " + list(w.templates, 3) + "\n";
    o += "  to domains:      " + list(w.recipient_domains, 5) + "\n";
    if (run.include_recipients) o += "  to addresses:    " + list(w.recipients, 5) + "\n";
    std::string ev;
    for (std::size_t i = 0; i < w.evidence.size() && i < 5; ++i)
      ev += fmt::format("{}{}(+{}) x{}", i ? ", " : "", w.evidence[i].value, w.evidence[i].extra,
                        w.evidence[i].messages);
    o += "  evidence:        " + (ev.empty() ? std::string("-") : ev) + "\n";
    std::string why;
    for (const auto& [kind, n] : w.links)
      why += fmt::format("{}{} {}", why.empty() ? "" : ", ", kind, n);
    o += "  linked by:       " + (why.empty() ? std::string("-") : why) + "\n";
    for (const auto& m : run.matches) {
      if (m.wave != k) continue;
      const AuditTenant& t = run.audit[m.tenant];
      std::string c, r, a;
      for (const auto& x : t.connectors) {
        std::string ips;
        for (const auto& ip : x.ips) ips += (ips.empty() ? "" : " ") + ip;
        c += fmt::format("{}{}{} [{}]", c.empty() ? "" : ", ", clean_text(x.name, 80),
                         x.suspect ? " (suspect)" : "", ips);
      }
      for (const auto& x : t.rules)
        if (x.suspect) r += (r.empty() ? "" : ", ") + clean_text(x.name, 80);
      for (const auto& x : t.apps)
        a += fmt::format("{}{}{}", a.empty() ? "" : ", ", clean_text(x.app, 80),
                         x.suspect ? " (suspect)" : "");
      o += fmt::format(
          "  audit:           tenant {} ({}) by {}: connectors {}; suspect rules {}; "
          "apps {}\n",
          clean_text(t.tenant), clean_text(t.domain), m.why, c.empty() ? "-" : c,
          r.empty() ? "-" : r, a.empty() ? "-" : a);
    }
    const std::string rep = clean_text(record_location(run.records[w.representative].rec));
    o += "  representative:  " + rep + "\n";
  }
  o += "--\n";
  o += fmt::format(
      "waves: {}  messages in waves: {}  flagged ({} and above): {}  not in a wave: {}  "
      "records read: {}  bad records: {}\n",
      run.waves.size(), in_waves, run.min_verdict, run.flagged, run.flagged - in_waves, run.read,
      run.bad);
  return o;
}

std::string render_waves_json(const WavesRun& run) {
  ojson j;
  j["schema"] = kWavesSchema;
  const WaveOptions& p = run.options;
  std::vector<std::string> linkby;
  if (p.link_tenant) linkby.push_back("tenant");
  if (p.link_ip) linkby.push_back("ip");
  if (p.link_url) linkby.push_back("url");
  if (p.link_template) linkby.push_back("template");
  j["parameters"] = {{"min_verdict", run.min_verdict},
                     {"window_seconds", p.window},
                     {"template_distance", p.template_distance},
                     {"template_min_shingles", p.template_min_shingles},
                     {"min_messages", p.min_messages},
                     {"link", linkby},
                     {"ignore_domains", p.ignore_domains}};
  std::size_t in_waves = 0;
  for (const auto& w : run.waves) in_waves += w.members.size();
  j["records"] = {{"read", run.read},
                  {"flagged", run.flagged},
                  {"in_waves", in_waves},
                  {"bad", run.bad},
                  {"with_recipients", run.with_recipients}};
  ojson waves = ojson::array();
  for (std::size_t k = 0; k < run.waves.size(); ++k) {
    const Wave& w = run.waves[k];
    ojson o;
    o["id"] = w.id;
    o["first_seen"] = when_json(w.first_seen);
    o["last_seen"] = when_json(w.last_seen);
    o["messages"] = w.members.size();
    o["tenants"] = counted_json(w.tenants, "id", "name");
    o["connector_ips"] = counted_json(w.connector_ips, "ip");
    o["helos"] = counted_json(w.helos, "helo");
    o["envelope_domains"] = counted_json(w.envelope_domains, "domain");
    o["from_domains"] = counted_json(w.from_domains, "domain");
    o["from_addresses"] = counted_json(w.from_addresses, "address");
    o["url_domains"] = counted_json(w.url_domains, "domain");
    o["url_hosts"] = counted_json(w.url_hosts, "host");
    ojson urls = counted_json(w.urls, "url");
    for (std::size_t i = 0; i < urls.size(); ++i) urls[i]["to_ids"] = url_for_ids(run, w.urls[i]);
    o["urls"] = urls;
    o["subjects"] = counted_json(w.subjects, "subject");
    o["templates"] = counted_json(w.templates, "simhash");
    o["recipient_domains"] = counted_json(w.recipient_domains, "domain");
    o["recipients"] =
        run.include_recipients ? counted_json(w.recipients, "address") : ojson(nullptr);
    ojson ev = ojson::array();
    for (const auto& e : w.evidence)
      ev.push_back({{"signal", e.value}, {"weight", std::stoi(e.extra)}, {"messages", e.messages}});
    o["evidence"] = ev;
    o["links"] = w.links;
    ojson audit = ojson::array();
    for (const auto& m : run.matches) {
      if (m.wave != k) continue;
      const AuditTenant& t = run.audit[m.tenant];
      ojson cs = ojson::array(), rs = ojson::array(), as = ojson::array();
      for (const auto& x : t.connectors)
        cs.push_back({{"name", x.name}, {"suspect", x.suspect}, {"ips", x.ips}});
      for (const auto& x : t.rules)
        rs.push_back({{"name", x.name}, {"suspect", x.suspect}, {"headers", x.headers}});
      for (const auto& x : t.apps)
        as.push_back({{"app", x.app}, {"role", x.role}, {"suspect", x.suspect}});
      audit.push_back({{"tenant", t.tenant},
                       {"domain", t.domain},
                       {"matched_by", m.why},
                       {"record", t.source},
                       {"connectors", cs},
                       {"transport_rules", rs},
                       {"apps", as}});
    }
    o["audit"] = audit;
    const ReadRecord& rep = run.records[w.representative].rec;
    o["representative"] = {
        {"location", record_location(rep)}, {"source", location_json(rep)}, {"sha256", rep.sha256}};
    ojson members = ojson::array();
    for (const std::size_t i : w.members) {
      const WaveRecord& m = run.records[i];
      members.push_back({{"location", record_location(m.rec)},
                         {"source", location_json(m.rec)},
                         {"seq", m.rec.seq},
                         {"sha256", m.rec.sha256},
                         {"time", when_json(m.rec.time)},
                         {"verdict", m.rec.verdict},
                         {"score", m.rec.score ? ojson(*m.rec.score) : ojson(nullptr)},
                         {"record", m.file + ":" + std::to_string(m.line)}});
    }
    o["members"] = members;
    waves.push_back(std::move(o));
  }
  j["waves"] = waves;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hdrscan::scanner
