// report.cpp: the self-contained HTML report (see report.hpp for what it shows and its limits).
// The page is rendered here, whole (inline CSS and SVG, every value HTML-escaped, no external
// resource, CSP default-src 'none'), so it is complete without JavaScript; its one script only
// adds sorting and filtering. The data also travel as one JSON block ("hdrscan.report/1") for
// tools.
// Diagnostics: write() reports file errors; a script error in the page is recorded on the
// <html> element as data-js-error (and the page then lacks data-rendered="ok").
#include "scanner/scan/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "mime/decode.hpp"
#include "mime/fields/fields.hpp"
#include "mime/net.hpp"
#include "mime/text.hpp"

namespace hdrscan::scanner {
namespace {

using nlohmann::json;

json top_json(const std::map<std::string, std::uint64_t>& counts, std::size_t n) {
  std::vector<std::pair<std::string, std::uint64_t>> v(counts.begin(), counts.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > n) v.resize(n);
  json a = json::array();
  for (auto& [k, c] : v) a.push_back({{"key", k}, {"count", c}});
  return a;
}

std::string day_string(std::int64_t day) {
  std::time_t t = static_cast<std::time_t>(day * 86400);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// Makes JSON safe inside <script>: '<', '>' and '&' only occur inside JSON strings, where
// their \u escapes mean the same characters.
std::string script_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 64);
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// ---- the page, rendered here (complete without JavaScript; the script only adds sorting and
// filtering)

std::string num(std::uint64_t n) {  // 12,345
  std::string d = std::to_string(n), out;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

std::string pct(std::uint64_t n, std::uint64_t d) {
  return d ? fmt::format("{:.1f} %", 100.0 * static_cast<double>(n) / static_cast<double>(d)) : "0 %";
}

std::string u(const json& j) { return num(j.get<std::uint64_t>()); }
std::string e(const json& j) { return html_escape(j.is_string() ? j.get<std::string>() : j.dump()); }

// A table with sortable headers; `rows` are whole <tr> elements. "none" when empty.
std::string table_html(const std::vector<std::pair<std::string, bool>>& head, const std::string& rows,
                       const std::string& attrs = "") {
  if (rows.empty()) return "<p class=\"empty\">none</p>";
  std::string t = "<table class=\"sortable\"" + attrs + "><thead><tr>";
  for (const auto& [h, numeric] : head) t += std::string("<th") + (numeric ? " class=\"num\"" : "") + ">" + h + "</th>";
  return t + "</tr></thead><tbody>" + rows + "</tbody></table>";
}

std::string histogram_svg(const json& D) {
  const double W = 560, H = 200, pad = 28, bw = (W - pad) / 10;
  std::uint64_t max = 1, sum = 0;
  for (const auto& c : D["histogram"]) max = std::max(max, c.get<std::uint64_t>());
  const int sus = D["thresholds"]["suspicious"], camp = D["thresholds"]["campaign"];
  std::string bars;
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t c = D["histogram"][i];
    sum += c;
    const double h = std::round((H - 16) * static_cast<double>(c) / static_cast<double>(max));
    const char* color = i * 10 >= camp ? "campaign" : i * 10 + 9 >= sus ? "suspicious" : "clean";
    bars += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"bin\" "
                        "style=\"fill:var(--{})\" data-bin=\"{}\" data-count=\"{}\"><title>{}-{}: {}</title></rect>",
                        pad + i * bw + 2, H - h, bw - 4, h, color, i, c, i * 10, i == 9 ? 100 : i * 10 + 9, c);
    bars += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>", pad + i * bw + bw / 2,
                        H + 14, i * 10);
    if (c > 0)
      bars += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>", pad + i * bw + bw / 2,
                          H - h - 3, c);
  }
  return fmt::format("<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" id=\"histogram-svg\" data-sum=\"{}\">",
                     W, H + 20, sum) + bars + "</svg>";
}

// Per day, or per month when the span is over 120 days.
std::string timeline_html(const json& D) {
  struct Bucket { std::string key; std::uint64_t n[3] = {0, 0, 0}; };
  std::vector<Bucket> buckets;
  bool monthly = false;
  if (D.contains("day_span")) monthly = D["day_span"].get<std::int64_t>() > 120;
  std::uint64_t dated = 0;
  for (const auto& d : D["days"]) {
    const std::string day = d["day"];
    const std::string key = monthly ? day.substr(0, 7) : day;
    if (buckets.empty() || buckets.back().key != key) buckets.push_back({key});
    int k = 0;
    for (const char* v : {"clean", "suspicious", "campaign"}) {
      buckets.back().n[k++] += d[v].get<std::uint64_t>();
      dated += d[v].get<std::uint64_t>();
    }
  }
  const std::uint64_t undated = D["undated"];
  std::string o = fmt::format("<div id=\"timeline\" data-dated=\"{}\" data-undated=\"{}\" data-total=\"{}\" "
                              "data-granularity=\"{}\">",
                              dated, undated, dated + undated, monthly ? "month" : "day");
  if (buckets.empty()) {
    o += "<p class=\"empty\">no dated messages</p>";
  } else {
    double W = 560;
    const double H = 200, pad = 28, bw = std::max(2.0, (W - pad) / static_cast<double>(buckets.size()));
    W = std::max(W, pad + bw * static_cast<double>(buckets.size()));
    std::uint64_t max = 1;
    for (const auto& b : buckets) max = std::max(max, b.n[0] + b.n[1] + b.n[2]);
    o += fmt::format("<svg viewBox=\"0 0 {:.1f} {}\" width=\"100%\" role=\"img\">", W, H + 20);
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      const auto& b = buckets[i];
      double y = H;
      int k = 0;
      for (const char* v : {"clean", "suspicious", "campaign"}) {
        const double h = (H - 10) * static_cast<double>(b.n[k++]) / static_cast<double>(max);
        if (h <= 0) continue;
        y -= h;
        o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" style=\"fill:var(--{})\"></rect>",
                         pad + static_cast<double>(i) * bw + 0.5, y, std::max(1.0, bw - 1), h, v);
      }
      o += fmt::format("<rect x=\"{:.1f}\" y=\"0\" width=\"{:.1f}\" height=\"{}\" fill=\"transparent\" class=\"bucket\" "
                       "data-key=\"{}\" data-count=\"{}\"><title>{}: {} campaign, {} suspicious, {} clean</title></rect>",
                       pad + static_cast<double>(i) * bw, bw, H, html_escape(b.key), b.n[0] + b.n[1] + b.n[2],
                       html_escape(b.key), b.n[2], b.n[1], b.n[0]);
    }
    o += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", pad, H + 14, html_escape(buckets.front().key));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"end\">{}</text></svg>", W, H + 14,
                     html_escape(buckets.back().key));
  }
  return o + "<p class=\"mute\">" + num(undated) + " messages without a usable Date header</p></div>";
}

std::string top_html(const char* id, const json& rows, const char* label) {
  std::string r;
  for (const auto& x : rows)
    r += "<tr class=\"top\" data-key=\"" + e(x["key"]) + "\" data-count=\"" + e(x["count"]) +
         "\"><td class=\"mono\">" + e(x["key"]) + "</td><td class=\"num\">" + u(x["count"]) + "</td></tr>";
  return std::string("<div id=\"") + id + "\">" + table_html({{label, false}, {"messages", true}}, r) + "</div>";
}

std::string body_html(const json& D, const ScanSummary& S) {
  const std::uint64_t total = D["messages"];
  std::string o = fmt::format("<body data-total=\"{}\" data-errors=\"{}\">\n", total, S.with_errors);
  std::string inputs;
  for (const auto& p : D["inputs"]) inputs += (inputs.empty() ? "" : ", ") + p.get<std::string>();
  std::string meta = "Inputs: " + inputs + " \u2014 " + num(total) + " messages";
  if (!S.shard.empty()) meta += ", shard " + S.shard;
  meta += ", " + num(S.with_errors) + " with errors";
  meta += fmt::format(", {:.2f} s", S.elapsed_seconds);
  const std::string mv = D["flagged_min_verdict"];
  o += "<header><h1 id=\"title\">" + e(D["title"]) + "</h1><div class=\"mute\" id=\"meta\">" + html_escape(meta) +
       "</div>\n<p id=\"flagged-definition\" data-min-verdict=\"" + html_escape(mv) + "\" data-flagged=\"" +
       e(D["flagged_total"]) + "\"><b>Flagged</b> = an analysed message whose verdict is <b>" + html_escape(mv) +
       "</b>" + (mv == "campaign" ? "" : " or worse") + " (<code>--min-verdict " + html_escape(mv) + "</code>): " +
       u(D["flagged_total"]) +
       " here. The same count is <code>flagged</code> in <code>--summary-json</code>, and the scan's exit status "
       "is 1 when it is not 0 (2 when anything was unreadable). The flagged table, the IPs and the tenants below "
       "are those of flagged messages.</p></header>\n";
  o += "<noscript><p class=\"mute\">JavaScript is off: every number and table is on the page; sorting and "
       "filtering need JavaScript.</p></noscript>\n";

  o += "<section><div class=\"cards\" id=\"verdicts\">";
  o += fmt::format("<div class=\"card\" id=\"card-total\" data-count=\"{}\"><div class=\"n\">{}</div>"
                   "<div class=\"mute\">messages</div></div>", total, num(total));
  for (const char* v : {"unreadable", "not_mail", "campaign", "suspicious", "clean"}) {
    const std::uint64_t n = D["verdicts"][v];
    o += fmt::format("<div class=\"card {0}\" id=\"card-{0}\" data-count=\"{1}\"><div class=\"n\">{2}</div>"
                     "<div class=\"mute\">{0} ({3})</div></div>", v, n, num(n), pct(n, total));
  }
  o += "</div></section>\n";
  o += "<section class=\"grid\">\n<div><h2>Score histogram</h2><div id=\"histogram\">" + histogram_svg(D) +
       "</div></div>\n<div><h2>Messages over time (Date header, UTC)</h2>" + timeline_html(D) +
       "</div>\n</section>\n";

  std::string sig;
  for (const auto& s : D["signals"])
    sig += "<tr class=\"signal\" data-signal=\"" + e(s["key"]) + "\" data-count=\"" + e(s["count"]) +
           "\"><td class=\"mono\">" + e(s["key"]) + "</td><td class=\"num\">" + u(s["count"]) + "</td><td class=\"num\">" +
           pct(s["count"], total) + "</td><td class=\"num\">" + e(s["weight"]) + "</td></tr>";
  o += "<section><h2>Top signals</h2><div id=\"signals\">" +
       table_html({{"signal", false}, {"messages", true}, {"share", true}, {"total weight", true}}, sig) +
       "</div></section>\n";
  o += "<section class=\"grid\">\n<div><h2>Top connecting IPs</h2>" +
       top_html("ips", D["ips"], "IP that connected to the sending tenant (flagged mail)") +
       "</div>\n<div><h2>Top sending tenants</h2>" +
       top_html("tenants", D["tenants"], "sending tenant: id or onmicrosoft.com HELO (flagged mail)") +
       "</div>\n</section>\n";
  o += "<section><h2>Errors</h2>" + top_html("errors", D["error_codes"], "error code") + "</section>\n";

  const std::size_t shown = D["flagged"].size();
  const std::uint64_t ftotal = D["flagged_total"];
  std::string rows;
  for (const auto& m : D["flagged"]) {
    std::string ev;
    for (const auto& x : m["evidence"]) {
      const int w = x["weight"];
      const std::string msg = x["message"];
      ev += "<tr><td class=\"mono\">" + e(x["signal"]) + "</td><td class=\"num\">" + (w > 0 ? "+" : "") +
            std::to_string(w) + "</td><td class=\"mono\">" + html_escape(msg.empty() ? "" : msg + " ") + e(x["where"]) +
            "</td><td class=\"mono\">" + e(x["excerpt"]) + "</td></tr>";
    }
    std::string desc = "<div class=\"mono\">" + e(m["location"]) + "</div><div>Subject: " + e(m["subject"]) +
                       "</div><div class=\"mute\">From: " + e(m["from"]) + " \u2014 " + e(m["date"]) + "</div>";
    if (!m["route"].get<std::string>().empty()) desc += "<div class=\"mute\">Route: " + e(m["route"]) + "</div>";
    if (!m["nested_from"].get<std::string>().empty())
      desc += "<div>Verdict from attached message " + e(m["nested_from"]) + "</div>";
    if (!m["errors"].empty()) {
      std::string errs;
      for (const auto& x : m["errors"]) errs += (errs.empty() ? "" : ", ") + x.get<std::string>();
      desc += "<div class=\"v-campaign\">errors: " + html_escape(errs) + "</div>";
    }
    const std::string v = m["verdict"];
    rows += "<tr class=\"flagged\" data-seq=\"" + e(m["seq"]) + "\" data-verdict=\"" + html_escape(v) +
            "\" data-score=\"" + e(m["score"]) + "\"><td class=\"num\">" + e(m["seq"]) + "</td><td>" + desc +
            "</td><td class=\"v-" + html_escape(v) + "\">" + html_escape(v) + "</td><td class=\"num\">" + e(m["score"]) +
            "</td><td><details><summary>" + std::to_string(m["evidence"].size()) +
            " signals</summary><table class=\"ev\">" + ev + "</table></details></td></tr>";
  }
  o += "<section><h2 id=\"flagged-title\">Flagged messages (" + html_escape(mv) + (mv == "campaign" ? "" : " or worse") +
       "): " + num(ftotal) + (shown < ftotal ? ", first " + num(shown) + " shown" : "") + "</h2>" +
       fmt::format("<div id=\"flagged\" data-rows=\"{}\" data-total=\"{}\">", shown, ftotal) +
       table_html({{"#", true}, {"message", false}, {"verdict", false}, {"score", true}, {"evidence", false}}, rows,
                  " id=\"flagged-table\"") +
       "</div></section>\n";
  o += "<footer class=\"mute\" style=\"margin-top:32px\">Generated by hdrscan; self-contained page, no network "
       "access; complete without JavaScript.</footer>\n";
  return o;
}

extern const char* const kPageHead;
extern const char* const kPageScript;

}  // namespace

void HtmlReport::Counter::add(const std::string& key, std::size_t cap) {
  auto it = counts.find(key);
  if (it != counts.end()) ++it->second;
  else if (counts.size() < cap) counts.emplace(key, 1);
  else ++other;
}

HtmlReport::HtmlReport(ReportOptions opt) : opt_(std::move(opt)) {}

void HtmlReport::add(const ScanRecord& rec) {
  const MessageReport& r = *rec.report;
  const auto& a = r.assessment;
  ++messages_;
  if (r.status != Status::analysed) {  // no score, no date: counted, and its error codes
    ++(r.status == Status::unreadable ? unreadable_ : not_mail_);
    ++undated_;
    std::set<std::string> codes;
    for (const auto& e : r.errors)
      if (codes.insert(e.code).second) error_codes_.add(mime::sanitize_utf8(e.code), opt_.max_keys);
    return;
  }
  const int v = static_cast<int>(a.verdict);
  if (v >= 0 && v < 3) ++verdicts_[v];
  const int score = std::clamp(a.score, 0, 100);
  ++histogram_[std::min(score / 10, 9)];

  std::set<std::string> sigs, ips, tenants;
  for (const auto& e : a.evidence) {
    const std::string sig = mime::sanitize_utf8(e.signal);
    if (sigs.insert(sig).second) signals_.add(sig, opt_.max_keys);
    if (signal_weight_.size() < opt_.max_keys || signal_weight_.count(sig)) signal_weight_[sig] += e.weight;
  }
  // Infrastructure of flagged mail: who connected to the sending tenant, and which tenant
  // (Assessment::connection, the analyzer's own reading of the route).
  if (a.connection && a.verdict >= opt_.min_verdict) {  // flagged mail only
    const auto& c = *a.connection;
    if (auto ip = mime::parse_ip(c.ip); ip && !ip->is_private()) ips.insert(ip->to_string());
    if (!c.tenant_id.empty()) tenants.insert(mime::sanitize_utf8(c.tenant_id));
    if (mime::text::iends_with(c.helo, ".onmicrosoft.com"))  // the tenant's own name as HELO
      tenants.insert(mime::sanitize_utf8(mime::text::lower(c.helo)));
  }
  for (const auto& ip : ips) ips_.add(ip, opt_.max_keys);
  for (const auto& t : tenants) tenants_.add(t, opt_.max_keys);
  std::set<std::string> codes;
  for (const auto& e : r.errors)
    if (codes.insert(e.code).second) error_codes_.add(mime::sanitize_utf8(e.code), opt_.max_keys);

  std::optional<std::int64_t> when;
  if (!r.date.empty()) when = mime::parse_rfc5322_date(r.date);
  constexpr std::int64_t kMinDay = 7305, kMaxDay = 47482;  // 1990-01-01 .. 2100-01-01
  std::int64_t day = when ? (*when >= 0 ? *when / 86400 : (*when - 86399) / 86400) : -1;
  if (when && day >= kMinDay && day < kMaxDay) {
    auto& d = days_[day];
    if (v >= 0 && v < 3) ++d[v];
  } else {
    ++undated_;
  }

  if (a.verdict >= opt_.min_verdict) {
    ++flagged_total_;
    if (flagged_.size() < opt_.max_flagged_rows) {
      json ev = json::array();
      for (const auto& e : a.evidence)
        ev.push_back({{"signal", clean_text(e.signal, 120)},
                      {"weight", e.weight},
                      {"where", clean_text(e.where, 160)},
                      {"excerpt", clean_text(e.excerpt, 300)},
                      {"message", clean_text(e.message, 60)}});
      json errs = json::array();
      for (const auto& e : r.errors) errs.push_back(clean_text(e.code, 60));
      flagged_.push_back({{"seq", rec.seq},
                          {"location", clean_text(r.where.to_string(), 400)},
                          {"verdict", heuristics::to_string(a.verdict)},
                          {"score", score},
                          {"date", clean_text(r.date, 80)},
                          {"from", clean_text(r.from, 200)},
                          {"subject", clean_text(r.subject, 300)},
                          {"route", clean_text(a.route, 300)},
                          {"nested_from", clean_text(a.nested_from, 60)},
                          {"evidence", ev},
                          {"errors", errs}});
    }
  }
}

nlohmann::json HtmlReport::data(const ScanSummary& s) const {
  json hist = json::array();
  for (auto c : histogram_) hist.push_back(c);
  json sigs = json::array();
  {
    std::vector<std::pair<std::string, std::uint64_t>> v(signals_.counts.begin(), signals_.counts.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (v.size() > opt_.top_n) v.resize(opt_.top_n);
    for (auto& [k, c] : v) {
      auto w = signal_weight_.find(k);
      sigs.push_back({{"key", k}, {"count", c}, {"weight", w == signal_weight_.end() ? 0 : w->second}});
    }
  }
  json days = json::array();
  for (const auto& [d, c] : days_) days.push_back({{"day", day_string(d)}, {"clean", c[0]}, {"suspicious", c[1]}, {"campaign", c[2]}});
  json inputs = json::array();
  for (const auto& p : opt_.inputs) inputs.push_back(clean_text(p, 400));
  return {{"schema", "hdrscan.report/1"},
          {"title", opt_.title},
          {"inputs", inputs},
          {"summary", s.to_json()},
          {"messages", messages_},
          {"verdicts", {{"unreadable", unreadable_}, {"not_mail", not_mail_}, {"clean", verdicts_[0]},
                        {"suspicious", verdicts_[1]}, {"campaign", verdicts_[2]}}},
          {"histogram", hist},
          {"thresholds", {{"suspicious", opt_.thresholds.suspicious}, {"campaign", opt_.thresholds.campaign}}},
          {"signals", sigs},
          {"signals_distinct", signals_.counts.size()},
          {"ips", top_json(ips_.counts, opt_.top_n)},
          {"ips_distinct", ips_.counts.size()},
          {"tenants", top_json(tenants_.counts, opt_.top_n)},
          {"tenants_distinct", tenants_.counts.size()},
          {"error_codes", top_json(error_codes_.counts, opt_.top_n)},
          {"days", days},
          // Days from the first dated message to the last (the timeline goes monthly over 120).
          {"day_span", days_.empty() ? 0 : days_.rbegin()->first - days_.begin()->first},
          {"undated", undated_},
          {"flagged_min_verdict", heuristics::to_string(opt_.min_verdict)},
          {"flagged_total", flagged_total_},
          {"flagged", flagged_}};
}

std::string HtmlReport::render(const ScanSummary& s) const {
  const json D = data(s);
  std::string page;
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  page += "<title>" + html_escape(opt_.title) + "</title>\n";
  page += kPageHead;
  page += body_html(D, s);
  page += "<script>window.addEventListener('error',function(e){document.documentElement.setAttribute("
          "'data-js-error',String(e.message||e));});</script>\n";
  page += "<script id=\"hdrscan-data\" type=\"application/json\">";
  page += script_safe(dump_line(D));
  page += "</script>\n<script>";
  page += kPageScript;
  page += "</script>\n</body>\n</html>\n";
  return page;
}

bool HtmlReport::write(const std::string& path, const ScanSummary& s, std::string& error) const {
  const std::string page = render(s);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = fmt::format("cannot create {}: {}", path, std::strerror(errno));
    return false;
  }
  const bool ok = std::fwrite(page.data(), 1, page.size(), f) == page.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    error = fmt::format("error writing {}: {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

namespace {

const char* const kPageHead = R"HTML(<style>
:root{--bg:#fff;--fg:#1d2330;--mute:#667085;--line:#e4e7ec;--clean:#2e7d32;--suspicious:#c77700;--campaign:#c62828;--bar:#3b6fd8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:24px 32px;max-width:1280px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.mute{color:var(--mute)}.cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:140px}
.card .n{font-size:26px;font-weight:600}.card.clean .n{color:var(--clean)}.card.suspicious .n{color:var(--suspicious)}.card.campaign .n{color:var(--campaign)}.card.unreadable .n{color:var(--campaign)}.card.not_mail .n{color:var(--mute)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:#f6f7f9}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:24px}@media(max-width:900px){.grid{grid-template-columns:1fr}}
.v-campaign{color:var(--campaign);font-weight:600}.v-suspicious{color:var(--suspicious);font-weight:600}.v-clean{color:var(--clean)}
svg text{font:11px system-ui,sans-serif;fill:var(--mute)}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
details summary{cursor:pointer}.ev td{font-size:12px}.empty{color:var(--mute);font-style:italic}
th[data-sort=asc]::after{content:" \25B2"}th[data-sort=desc]::after{content:" \25BC"}
#flagged-filter{width:100%;max-width:640px;margin:4px 0 8px;padding:4px 8px;font:inherit}
</style>
</head>
)HTML";

const char* const kPageScript = R"JS(
(function () {
  'use strict';
  // Everything is rendered by hdrscan; this only adds sorting (click a column header) and a
  // filter over the flagged messages.
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };
  function key(td) {
    var t = td ? td.textContent.trim() : '';
    var n = Number(t.replace(/[,+%\s]/g, ''));
    return t !== '' && !isNaN(n) ? n : t.toLowerCase();
  }
  each(document.querySelectorAll('table.sortable'), function (table) {
    var ths = table.tHead.rows[0].cells;
    each(ths, function (th, col) {
      th.style.cursor = 'pointer';
      th.title = 'sort by ' + th.textContent;
      th.addEventListener('click', function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('data-sort') === 'asc' ? -1 : 1;
        each(ths, function (h) { h.removeAttribute('data-sort'); });
        th.setAttribute('data-sort', dir === 1 ? 'asc' : 'desc');
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          return (x < y ? -1 : x > y ? 1 : 0) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var ft = document.getElementById('flagged-table');
  if (ft) {
    var box = document.createElement('input');
    box.type = 'search';
    box.id = 'flagged-filter';
    box.placeholder = 'filter the flagged messages (location, subject, signal, verdict...)';
    box.addEventListener('input', function () {
      var q = box.value.toLowerCase();
      each(ft.tBodies[0].rows, function (r) {
        r.style.display = !q || r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
    ft.parentNode.insertBefore(box, ft);
  }
  document.documentElement.setAttribute('data-rendered', 'ok');
})();
)JS";

}  // namespace

}  // namespace hdrscan::scanner
