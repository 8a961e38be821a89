// report.cpp: the self-contained HTML report (see report.hpp for what it shows and its limits).
// The page is a fixed template (inline CSS + JS, no external resource, CSP default-src 'none')
// plus one JSON data block; all rendering happens in the page's script with DOM APIs.
// Diagnostics: write() reports file errors; a script error in the page is recorded on the
// <html> element as data-js-error (and the page then lacks data-rendered="ok").
#include "scanner/scan/report.hpp"

#include <fmt/format.h>

#include <algorithm>
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
  if (a.connection && a.verdict != heuristics::Verdict::clean) {
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
          {"undated", undated_},
          {"flagged_min_verdict", heuristics::to_string(opt_.min_verdict)},
          {"flagged_total", flagged_total_},
          {"flagged", flagged_}};
}

std::string HtmlReport::render(const ScanSummary& s) const {
  std::string page;
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  page += "<title>" + html_escape(opt_.title) + "</title>\n";
  page += kPageHead;
  page += "<script id=\"hdrscan-data\" type=\"application/json\">";
  page += script_safe(dump_line(data(s)));
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
</style>
</head>
<body>
<header><h1 id="title">hdrscan scan report</h1><div class="mute" id="meta"></div></header>
<section><div class="cards" id="verdicts"></div></section>
<section class="grid">
<div><h2>Score histogram</h2><div id="histogram"></div></div>
<div><h2>Messages over time (Date header, UTC)</h2><div id="timeline"></div></div>
</section>
<section><h2>Top signals</h2><div id="signals"></div></section>
<section class="grid">
<div><h2>Top connecting IPs</h2><div id="ips"></div></div>
<div><h2>Top sending tenants</h2><div id="tenants"></div></div>
</section>
<section><h2>Errors</h2><div id="errors"></div></section>
<section><h2 id="flagged-title">Flagged messages</h2><div id="flagged"></div></section>
<footer class="mute" style="margin-top:32px">Generated by hdrscan; self-contained page, no network access.</footer>
<script>window.addEventListener('error',function(e){document.documentElement.setAttribute('data-js-error',String(e.message||e));});</script>
)HTML";

const char* const kPageScript = R"JS(
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hdrscan-data').textContent);
  var SVG = 'http://www.w3.org/2000/svg';
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    return e;
  }
  function fmtN(n) { return Number(n).toLocaleString('en-US'); }
  function pct(n, d) { return d > 0 ? (100 * n / d).toFixed(1) + ' %' : '0 %'; }
  function table(id, headers, rows, attrs) {
    var box = document.getElementById(id);
    if (!rows.length) { box.appendChild(el('p', {'class': 'empty', text: 'none'})); return null; }
    var t = el('table', attrs || {});
    t.appendChild(el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', {'class': h.num ? 'num' : '', text: h.t}); }))]));
    var tb = el('tbody');
    rows.forEach(function (r) { tb.appendChild(r); });
    t.appendChild(tb);
    box.appendChild(t);
    return t;
  }

  var S = D.summary || {};
  document.getElementById('title').textContent = D.title;
  document.title = D.title;
  var total = D.messages;
  var meta = document.getElementById('meta');
  meta.textContent = 'Inputs: ' + D.inputs.join(', ') + ' \u2014 ' + fmtN(total) + ' messages' +
      (S.shard ? ', shard ' + S.shard : '') + ', ' + fmtN(S.messages_with_errors || 0) + ' with errors' +
      (S.elapsed_seconds != null ? ', ' + Number(S.elapsed_seconds).toFixed(2) + ' s' : '');
  document.body.setAttribute('data-total', String(total));
  document.body.setAttribute('data-errors', String(S.messages_with_errors || 0));

  // Verdict cards.
  var cards = document.getElementById('verdicts');
  cards.appendChild(el('div', {'class': 'card', 'id': 'card-total', 'data-count': String(total)},
      [el('div', {'class': 'n', text: fmtN(total)}), el('div', {'class': 'mute', text: 'messages'})]));
  ['unreadable', 'not_mail', 'campaign', 'suspicious', 'clean'].forEach(function (v) {
    var n = D.verdicts[v];
    cards.appendChild(el('div', {'class': 'card ' + v, 'id': 'card-' + v, 'data-count': String(n)},
        [el('div', {'class': 'n', text: fmtN(n)}), el('div', {'class': 'mute', text: v + ' (' + pct(n, total) + ')'})]));
  });

  // Score histogram (10 bins of 10 points; the last holds 90-100).
  (function () {
    var W = 560, H = 200, pad = 28, bw = (W - pad) / 10;
    var max = Math.max.apply(null, D.histogram.concat([1]));
    var svg = sv('svg', {viewBox: '0 0 ' + W + ' ' + (H + 20), width: '100%', role: 'img', 'id': 'histogram-svg'});
    var sum = 0;
    D.histogram.forEach(function (c, i) {
      sum += c;
      var h = Math.round((H - 16) * c / max);
      var T = D.thresholds || {suspicious: 35, campaign: 70};
      var color = i * 10 >= T.campaign ? 'var(--campaign)' : i * 10 + 9 >= T.suspicious ? 'var(--suspicious)' : 'var(--clean)';
      var r = sv('rect', {x: pad + i * bw + 2, y: H - h, width: bw - 4, height: h, fill: color,
                          'class': 'bin', 'data-bin': String(i), 'data-count': String(c)});
      r.appendChild(sv('title', {text: (i * 10) + '-' + (i === 9 ? 100 : i * 10 + 9) + ': ' + c}));
      svg.appendChild(r);
      svg.appendChild(sv('text', {x: pad + i * bw + bw / 2, y: H + 14, 'text-anchor': 'middle', text: String(i * 10)}));
      if (c > 0) svg.appendChild(sv('text', {x: pad + i * bw + bw / 2, y: H - h - 3, 'text-anchor': 'middle', text: String(c)}));
    });
    svg.setAttribute('data-sum', String(sum));
    document.getElementById('histogram').appendChild(svg);
  })();

  // Messages over time: per day, or per month when the span is long.
  (function () {
    var box = document.getElementById('timeline');
    var buckets = [], byKey = {};
    var monthly = false;
    if (D.days.length > 1) {
      var first = Date.parse(D.days[0].day), last = Date.parse(D.days[D.days.length - 1].day);
      monthly = (last - first) / 86400000 > 120;
    }
    D.days.forEach(function (d) {
      var key = monthly ? d.day.slice(0, 7) : d.day;
      if (!byKey[key]) { byKey[key] = {key: key, clean: 0, suspicious: 0, campaign: 0}; buckets.push(byKey[key]); }
      byKey[key].clean += d.clean; byKey[key].suspicious += d.suspicious; byKey[key].campaign += d.campaign;
    });
    var dated = 0;
    buckets.forEach(function (b) { dated += b.clean + b.suspicious + b.campaign; });
    box.setAttribute('data-dated', String(dated));
    box.setAttribute('data-undated', String(D.undated));
    box.setAttribute('data-total', String(dated + D.undated));
    box.setAttribute('data-granularity', monthly ? 'month' : 'day');
    if (!buckets.length) { box.appendChild(el('p', {'class': 'empty', text: 'no dated messages'})); }
    else {
      var W = 560, H = 200, pad = 28, bw = Math.max(2, (W - pad) / buckets.length);
      W = Math.max(W, pad + bw * buckets.length);
      var max = 1;
      buckets.forEach(function (b) { max = Math.max(max, b.clean + b.suspicious + b.campaign); });
      var svg = sv('svg', {viewBox: '0 0 ' + W + ' ' + (H + 20), width: '100%', role: 'img'});
      buckets.forEach(function (b, i) {
        var y = H;
        ['clean', 'suspicious', 'campaign'].forEach(function (v) {
          var h = (H - 10) * b[v] / max;
          if (h > 0) { y -= h; svg.appendChild(sv('rect', {x: pad + i * bw + 0.5, y: y, width: Math.max(1, bw - 1), height: h, fill: 'var(--' + v + ')'})); }
        });
        var t = sv('rect', {x: pad + i * bw, y: 0, width: bw, height: H, fill: 'transparent', 'class': 'bucket',
                            'data-key': b.key, 'data-count': String(b.clean + b.suspicious + b.campaign)});
        t.appendChild(sv('title', {text: b.key + ': ' + b.campaign + ' campaign, ' + b.suspicious + ' suspicious, ' + b.clean + ' clean'}));
        svg.appendChild(t);
      });
      svg.appendChild(sv('text', {x: pad, y: H + 14, text: buckets[0].key}));
      svg.appendChild(sv('text', {x: W, y: H + 14, 'text-anchor': 'end', text: buckets[buckets.length - 1].key}));
      box.appendChild(svg);
    }
    box.appendChild(el('p', {'class': 'mute', text: fmtN(D.undated) + ' messages without a usable Date header'}));
  })();

  // Top signals.
  table('signals', [{t: 'signal'}, {t: 'messages', num: 1}, {t: 'share', num: 1}, {t: 'total weight', num: 1}],
      D.signals.map(function (s) {
        return el('tr', {'class': 'signal', 'data-signal': s.key, 'data-count': String(s.count)},
            [el('td', {'class': 'mono', text: s.key}), el('td', {'class': 'num', text: fmtN(s.count)}),
             el('td', {'class': 'num', text: pct(s.count, total)}), el('td', {'class': 'num', text: String(s.weight)})]);
      }));

  function topTable(id, rows, label) {
    table(id, [{t: label}, {t: 'messages', num: 1}], rows.map(function (r) {
      return el('tr', {'class': 'top', 'data-key': r.key, 'data-count': String(r.count)},
          [el('td', {'class': 'mono', text: r.key}), el('td', {'class': 'num', text: fmtN(r.count)})]);
    }));
  }
  topTable('ips', D.ips, 'IP that connected to the sending tenant (flagged mail)');
  topTable('tenants', D.tenants, 'sending tenant: id or onmicrosoft.com HELO (flagged mail)');
  topTable('errors', D.error_codes, 'error code');

  // Flagged messages with their evidence.
  (function () {
    var shown = D.flagged.length;
    document.getElementById('flagged-title').textContent = 'Flagged messages (' + D.flagged_min_verdict + ' or worse): ' +
        fmtN(D.flagged_total) + (shown < D.flagged_total ? ', first ' + fmtN(shown) + ' shown' : '');
    var t = table('flagged', [{t: '#', num: 1}, {t: 'message'}, {t: 'verdict'}, {t: 'score', num: 1}, {t: 'evidence'}],
        D.flagged.map(function (m) {
          var ev = el('table', {'class': 'ev'});
          m.evidence.forEach(function (e) {
            ev.appendChild(el('tr', {}, [el('td', {'class': 'mono', text: e.signal}), el('td', {'class': 'num', text: (e.weight > 0 ? '+' : '') + e.weight}),
                el('td', {'class': 'mono', text: (e.message ? e.message + ' ' : '') + e.where}), el('td', {'class': 'mono', text: e.excerpt})]));
          });
          var desc = el('div', {}, [el('div', {'class': 'mono', text: m.location}),
              el('div', {text: 'Subject: ' + m.subject}), el('div', {'class': 'mute', text: 'From: ' + m.from + ' \u2014 ' + m.date}),
              m.route ? el('div', {'class': 'mute', text: 'Route: ' + m.route}) : null,
              m.nested_from ? el('div', {text: 'Verdict from attached message ' + m.nested_from}) : null,
              m.errors.length ? el('div', {'class': 'v-campaign', text: 'errors: ' + m.errors.join(', ')}) : null]);
          return el('tr', {'class': 'flagged', 'data-seq': String(m.seq), 'data-verdict': m.verdict, 'data-score': String(m.score)},
              [el('td', {'class': 'num', text: String(m.seq)}), el('td', {}, [desc]), el('td', {'class': 'v-' + m.verdict, text: m.verdict}),
               el('td', {'class': 'num', text: String(m.score)}),
               el('td', {}, [el('details', {}, [el('summary', {text: m.evidence.length + ' signals'}), ev])])]);
        }));
    document.getElementById('flagged').setAttribute('data-rows', String(shown));
    document.getElementById('flagged').setAttribute('data-total', String(D.flagged_total));
  })();

  document.documentElement.setAttribute('data-rendered', 'ok');
})();
)JS";

}  // namespace

}  // namespace hdrscan::scanner
