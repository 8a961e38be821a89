// html.cpp: waves as one static HTML page (--html FILE): a timeline with one lane per wave
// (a bar from first to last seen, a tick per message, placed by CSS percentages over the span
// of all waves: no JavaScript, no external resource), then per wave its tenants, connector
// IPs, domains, subjects, evidence and members. Every string from the records is escaped.
#include <fmt/format.h>

#include <algorithm>

#include "scanner/printers.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

std::string esc(std::string_view s) {
  std::string o;
  for (const char c : clean_text(s)) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string items(const std::vector<Counted>& v) {
  if (v.empty()) return "-";
  std::string o;
  for (const auto& c : v) {
    if (!o.empty()) o += ", ";
    o += "<code>" + esc(c.value) + "</code>";
    if (!c.extra.empty()) o += " (" + esc(c.extra) + ")";
    o += fmt::format(" &times;{}", c.messages);
  }
  return o;
}

}  // namespace

std::string render_waves_html(const WavesRun& run) {
  std::optional<std::int64_t> lo, hi;
  for (const auto& w : run.waves) {
    if (w.first_seen && (!lo || *w.first_seen < *lo)) lo = w.first_seen;
    if (w.last_seen && (!hi || *w.last_seen > *hi)) hi = w.last_seen;
  }
  const double span = lo && hi && *hi > *lo ? static_cast<double>(*hi - *lo) : 1.0;
  auto pos = [&](std::int64_t t) { return lo ? 100.0 * static_cast<double>(t - *lo) / span : 0.0; };
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>hdrscan waves</title><style>"
      "body{font-family:sans-serif;margin:1.5em;color:#222}"
      ".lane{position:relative;height:22px;background:#f3f3f3;margin:3px 0 3px 12em}"
      ".name{position:absolute;left:-12em;width:11.5em;font-size:12px;line-height:22px;"
      "overflow:hidden;white-space:nowrap}"
      ".bar{position:absolute;top:6px;height:10px;background:#c0392b;min-width:2px}"
      ".tick{position:absolute;top:2px;width:1px;height:18px;background:#222}"
      "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
      "padding:3px 6px;text-align:left;vertical-align:top;font-size:13px}"
      "code{font-size:12px}</style></head><body>\n";
  std::size_t in_waves = 0;
  for (const auto& w : run.waves) in_waves += w.members.size();
  o += fmt::format(
      "<h1>hdrscan waves</h1><p>{} wave{}, {} messages in waves; {} flagged records ({} and "
      "above) of {} read; {} bad record{}.",
      run.waves.size(), run.waves.size() == 1 ? "" : "s", in_waves, run.flagged,
      esc(run.min_verdict), run.read, run.bad, run.bad == 1 ? "" : "s");
  if (lo && hi) o += " From " + iso_utc(*lo) + " to " + iso_utc(*hi) + ".";
  o += "</p>\n<h2>Timeline</h2>\n";
  for (std::size_t k = 0; k < run.waves.size(); ++k) {
    const Wave& w = run.waves[k];
    o += fmt::format(
        "<div class=\"lane\"><span class=\"name\"><a href=\"#{}\">{} {}</a> "
        "({})</span>",
        esc(w.id), k + 1, esc(w.id), w.members.size());
    if (w.first_seen && w.last_seen)
      o += fmt::format(
          "<span class=\"bar\" style=\"left:{:.2f}%;width:{:.2f}%\" title=\"{} .. "
          "{}\"></span>",
          pos(*w.first_seen), pos(*w.last_seen) - pos(*w.first_seen), iso_utc(*w.first_seen),
          iso_utc(*w.last_seen));
    for (const std::size_t i : w.members)
      if (const auto& t = run.records[i].rec.time)
        o += fmt::format("<span class=\"tick\" style=\"left:{:.2f}%\" title=\"{}\"></span>",
                         pos(*t), esc(record_location(run.records[i].rec)));
    o += "</div>\n";
  }
  for (std::size_t k = 0; k < run.waves.size(); ++k) {
    const Wave& w = run.waves[k];
    o += fmt::format("<h2 id=\"{}\">Wave {}: {}</h2>\n<table>", esc(w.id), k + 1, esc(w.id));
    auto row = [&](const char* name, const std::string& html) {
      o += std::string("<tr><th>") + name + "</th><td>" + html + "</td></tr>";
    };
    row("seen", (w.first_seen ? iso_utc(*w.first_seen) : "?") + " .. " +
                    (w.last_seen ? iso_utc(*w.last_seen) : "?") +
                    fmt::format(", {} messages", w.members.size()));
    row("tenants", items(w.tenants));
    row("connector IPs", items(w.connector_ips));
    row("envelope domains", items(w.envelope_domains));
    row("From domains", items(w.from_domains));
    row("URL domains", items(w.url_domains));
    row("URLs", items(w.urls));
    row("subjects", items(w.subjects));
    row("recipient domains", items(w.recipient_domains));
    if (run.include_recipients) row("recipients", items(w.recipients));
    std::string ev, links;
    for (const auto& e : w.evidence)
      ev += fmt::format("{}<code>{}</code> (+{}) &times;{}", ev.empty() ? "" : ", ", esc(e.value),
                        esc(e.extra), e.messages);
    for (const auto& [kind, n] : w.links)
      links += fmt::format("{}{} {}", links.empty() ? "" : ", ", kind, n);
    row("evidence", ev.empty() ? "-" : ev);
    row("linked by", links.empty() ? "-" : links);
    row("representative", "<code>hdrscan explain '" +
                              esc(record_location(run.records[w.representative].rec)) + "'</code>");
    std::string members;
    for (const std::size_t i : w.members) {
      const ReadRecord& r = run.records[i].rec;
      members += fmt::format("{}<code>{}</code> {}", members.empty() ? "" : "<br>",
                             esc(record_location(r)), r.time ? iso_utc(*r.time) : "");
    }
    row("members", members);
    o += "</table>\n";
  }
  o += "</body></html>\n";
  return o;
}

}  // namespace hdrscan::scanner
