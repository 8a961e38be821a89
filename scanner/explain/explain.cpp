// explain.cpp: `hdrscan explain FILE [--index N] [--format text|json]`, the forensic view of
// one message for an analyst.
//
// Shows: the message's identity; the Received hops as a table in chronological order (the
// administrative domain of each hop as the heuristics segmented the route, from,
// by, with, time, delay since the previous hop, total transit); the administrative domains
// the heuristics found (Assessment.route); the antispam headers (X-Forefront-Antispam-Report,
// its -Untrusted copy, X-Microsoft-Antispam) decoded key by key next to their raw values,
// with the meanings from Microsoft's "Anti-spam message headers" documentation; the Exchange
// tenant headers (AuthAs, FromEntityHeader, OriginalAttributedTenantConnectingIp...) with
// their meanings (which headers, keys and values, and what they mean, is data:
// corpus/knowledge/header-meanings.tsv, meanings.hpp); Authentication-Results /
// ARC-Authentication-Results / Received-SPF parsed
// next to their raw values; the ARC and DKIM signatures present; every detector's outcome
// (fired or not, and why) and the evidence with weights; then the verdict.
// How: one JSON model of the explanation is built first; `--format json` prints it
// ("hdrscan.explain/1"), the text format renders the same model. The verdict comes from
// scanner::analyze (the path scan and the milter use), so explain never disagrees with them.
// Which message: FILE is a path, or any location `scan` prints (mime::parse_location:
// "q.zip!GUID/x.eml", "box.mbox.gz#12@4096", "outer.zip!inner.tar.gz!a.eml"); an existing
// path is taken as a path even when it looks like a location. Of the messages that match the
// location (member chain, folder, index and offset as far as given), the N-th (--index,
// default 0) is explained; without member or index every message matches, so --index N is
// the N-th message of the input, 0-based.
// Limits: one message; cells are clipped in the text view (the JSON keeps the values, capped
// at 4 KB each).
// Exit status: 0 below --min-verdict (and for an input that is not mail, said on standard
// error), 1 at or above it (default campaign), 2 when the input cannot be read (the reason
// and its error code on standard error), holds no such message, or an option is bad.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "mime/decode.hpp"
#include "mime/fields/fields.hpp"
#include "mime/message.hpp"
#include "mime/sources/sources.hpp"
#include "mime/text.hpp"
#include "scanner/common.hpp"
#include "scanner/explain/explain.hpp"
#include "scanner/explain/meanings.hpp"
#include "scanner/pipeline.hpp"
#include "scanner/printers.hpp"

namespace hdrscan::scanner {
namespace {

using json = nlohmann::ordered_json;

struct ExplainOptions {
  std::string path;  // a path or a location
  std::uint64_t index = 0;
  std::string format = "text";
  std::string min_verdict = "campaign";
  std::string color = "auto";
  std::string nested;  // --nested PATH ("nested[0].nested[1]"), "outer"; "" = the verdict's
  bool wide = false;   // --wide: full values, nothing wrapped
  AnalysisOptions analysis;
  InputOptions input;
};

// JSON values are never cut (issue 18): header values are already bounded by the parser's
// limits (--max-header-line); only control characters and invalid UTF-8 are cleaned.
std::string full(std::string_view s) { return clean_text(s); }

using mime::text::iequals;

std::string iso_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return std::to_string(t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string duration(std::int64_t s) {
  const char* sign = s < 0 ? "-" : "";
  std::uint64_t a = static_cast<std::uint64_t>(s < 0 ? -s : s);
  if (a < 60) return fmt::format("{}{}s", sign, a);
  if (a < 3600) return fmt::format("{}{}m{:02}s", sign, a / 60, a % 60);
  if (a < 86400) return fmt::format("{}{}h{:02}m", sign, a / 3600, a / 60 % 60);
  return fmt::format("{}{}d{:02}h", sign, a / 86400, a / 3600 % 24);
}

// ---- the header meanings (data: corpus/knowledge/header-meanings.tsv, meanings.hpp)

std::string meaning_of(std::string_view key, std::string_view value) {
  const auto& m = HeaderMeanings::builtin();
  const std::string key_text(m.key_meaning(key));
  const std::string value_text(m.value_meaning(key, value));
  if (key_text.empty() && value_text.empty()) return "(not in the decoder table)";
  if (value_text.empty()) return key_text;
  if (key_text.empty()) return value_text;
  return key_text + ": " + value_text;
}

// ---- the model

// `zones`: Analyzer::hop_zones (field index -> administrative domain), or empty.
json hops_json(const mime::ParsedMessage& msg, const std::vector<std::pair<std::size_t, const char*>>& zones) {
  auto fields = msg.headers.all("Received");
  json hops = json::array();
  std::optional<std::int64_t> prev, first;
  std::optional<std::int64_t> last;
  // Topmost is the latest: walk from the bottom for chronological order.
  for (std::size_t k = fields.size(); k-- > 0;) {
    const mime::HeaderField* f = fields[k];
    mime::ReceivedHop h = mime::parse_received(f->value);
    json j = {{"hop", hops.size() + 1},
              {"header_index", k},
              {"ok", h.ok},
              {"reason", full(h.reason)},
              {"from", full(h.from_host)},
              {"from_rdns", full(h.from_rdns)},
              {"from_ip", h.from_ip ? json(h.from_ip->to_string()) : json(nullptr)},
              {"by", full(h.by_host)},
              {"by_ip", h.by_ip ? json(h.by_ip->to_string()) : json(nullptr)},
              {"with", full(h.with)},
              {"id", full(h.id)},
              {"for", full(h.for_addr)},
              {"via", full(h.via)},
              {"date_text", full(h.date_text)},
              {"time", h.time ? json(iso_time(*h.time)) : json(nullptr)},
              {"unix_time", h.time ? json(*h.time) : json(nullptr)},
              {"delay_seconds", nullptr},
              {"zone", nullptr},
              {"raw", full(f->value)}};
    const std::size_t field_index = static_cast<std::size_t>(f - msg.headers.fields.data());
    for (const auto& [fi, z] : zones)
      if (fi == field_index) j["zone"] = z;
    if (h.time) {
      if (prev) j["delay_seconds"] = *h.time - *prev;
      prev = h.time;
      if (!first) first = h.time;
      last = h.time;
    }
    hops.push_back(std::move(j));
  }
  return {{"hops", hops}, {"transit_seconds", first && last ? json(*last - *first) : json(nullptr)}};
}

json antispam_json(const mime::ParsedMessage& msg) {
  json out = json::array();
  for (const std::string& name : HeaderMeanings::builtin().antispam_headers) {
    auto fields = msg.headers.all(name);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      auto kv = mime::parse_key_value_list(fields[i]->value);
      json items = json::array();
      for (const auto& [k, v] : kv.items)
        items.push_back({{"key", full(k)}, {"value", full(v)}, {"meaning", meaning_of(k, v)}});
      out.push_back({{"header", name},
                     {"index", i},
                     {"ok", kv.ok},
                     {"reason", full(kv.reason)},
                     {"fields", items},
                     {"raw", full(fields[i]->value)}});
    }
  }
  return out;
}

json tenant_json(const mime::ParsedMessage& msg) {
  const auto& m = HeaderMeanings::builtin();
  json out = json::array();
  for (std::size_t i = 0; i < msg.headers.fields.size(); ++i) {
    const auto& f = msg.headers.fields[i];
    const std::string_view meaning = m.header_meaning(f.name);
    if (meaning.empty() && !m.exchange_family(f.name)) continue;
    json j = {{"header", full(f.name)},
              {"position", i},
              {"value", full(f.value)},
              {"meaning", meaning},
              {"value_meaning", m.exchange_value(f.name, f.value)}};
    if (iequals(f.name, "X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp")) {
      auto t = mime::parse_tenant_connecting_ip(f.value);
      j["parsed"] = {{"ok", t.ok},
                     {"reason", full(t.reason)},
                     {"tenant_id", full(t.tenant_id)},
                     {"ip", t.ip ? json(t.ip->to_string()) : json(full(t.ip_text))},
                     {"helo", full(t.helo)}};
    }
    out.push_back(std::move(j));
  }
  return out;
}

json auth_json(const mime::ParsedMessage& msg) {
  json out = json::array();
  for (const char* name : {"Authentication-Results", "ARC-Authentication-Results"}) {
    auto fields = msg.headers.all(name);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      auto ar = mime::parse_authentication_results(fields[i]->value);
      json results = json::array();
      for (const auto& r : ar.results) {
        json props = json::object();
        for (const auto& [k, v] : r.props) props[full(k)] = full(v);
        std::string note;
        if (iequals(r.method, "compauth")) {
          std::string reason = r.reason;
          const auto p = reason.find("reason=");
          if (p != std::string::npos) reason = reason.substr(p + 7);
          note = HeaderMeanings::builtin().compauth(reason.empty() ? r.prop("reason") : reason);
        }
        results.push_back({{"method", full(r.method)},
                           {"result", full(r.result)},
                           {"reason", full(r.reason)},
                           {"props", props},
                           {"note", note}});
      }
      out.push_back({{"header", name},
                     {"index", i},
                     {"ok", ar.ok},
                     {"reason", full(ar.reason)},
                     {"authserv_id", full(ar.authserv_id)},
                     {"instance", ar.instance ? json(*ar.instance) : json(nullptr)},
                     {"results", results},
                     {"raw", full(fields[i]->value)}});
    }
  }
  auto spf = msg.headers.all("Received-SPF");
  for (std::size_t i = 0; i < spf.size(); ++i) {
    auto s = mime::parse_received_spf(spf[i]->value);
    json props = json::object();
    for (const auto& [k, v] : s.props) props[full(k)] = full(v);
    out.push_back({{"header", "Received-SPF"},
                   {"index", i},
                   {"ok", s.ok},
                   {"reason", ""},
                   {"authserv_id", ""},
                   {"instance", nullptr},
                   {"results", json::array({{{"method", "spf"}, {"result", full(s.result)}, {"reason", ""}, {"props", props}, {"note", ""}}})},
                   {"raw", full(spf[i]->value)}});
  }
  return out;
}

json signatures_json(const mime::ParsedMessage& msg) {
  json out = json::array();
  for (const char* name : {"ARC-Seal", "ARC-Message-Signature", "DKIM-Signature"}) {
    auto fields = msg.headers.all(name);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      auto t = mime::parse_tag_list(fields[i]->value);
      auto get = [&](const char* tag) { auto v = t.get(tag); return v ? json(full(*v)) : json(nullptr); };
      json h = json::array();
      for (const auto& n : t.header_list()) h.push_back(full(n));
      out.push_back({{"header", name}, {"index", i}, {"ok", t.ok}, {"reason", full(t.reason)},
                     {"i", get("i")}, {"d", get("d")}, {"s", get("s")}, {"a", get("a")}, {"cv", get("cv")},
                     {"t", get("t")}, {"signed_headers", h}});
    }
  }
  return out;
}

json breakdown_json(const heuristics::Assessment& a) {
  json out = json::array();
  for (const auto& f : a.breakdown)
    out.push_back({{"family", f.family}, {"raw", f.raw}, {"cap", f.cap}, {"points", f.points}});
  return out;
}

json build_model(const mime::RawMessage& raw, const MessageReport& rep, const mime::ParsedMessage& msg,
                 const heuristics::Analyzer& analyzer) {
  const auto& a = rep.assessment;
  json checks = json::array();
  // A header block alone (Get-QuarantineMessageHeader, a clipboard): the checks that read the
  // body (body.*, the DKIM body hash) could not be evaluated; they are shown so, not as
  // "not fired". Decided here from the signal ids, which are a published contract.
  const bool headers_only = std::any_of(msg.defects.begin(), msg.defects.end(),
                                        [](const mime::Defect& d) { return d.code == "headers_only"; });
  for (const auto& c : a.checks) {
    // A wrapper's checks are named "nested[0]:signal", its evidence signal + message.
    const std::size_t colon = c.signal.rfind(':');
    const std::string_view sig = colon == std::string::npos ? std::string_view(c.signal)
                                                            : std::string_view(c.signal).substr(colon + 1);
    const std::string_view where = colon == std::string::npos ? std::string_view()
                                                              : std::string_view(c.signal).substr(0, colon);
    int weight = 0;
    for (const auto& e : a.evidence)
      if (e.signal == sig && e.message == where) weight += e.weight;
    const bool needs_body = sig.rfind("body.", 0) == 0 || sig == "integrity.body_hash_mismatch";
    const bool evaluated = !(headers_only && where.empty() && needs_body && !c.fired);
    checks.push_back({{"signal", full(c.signal)},
                      {"fired", c.fired},
                      {"evaluated", evaluated},
                      {"weight", weight},
                      {"why", evaluated ? full(c.why)
                                        : std::string("not evaluated: the input is a header "
                                                      "block without a body")}});
  }
  const json rec = json::parse(record_to_jsonl(ScanRecord{raw.where.index.value_or(0), &rep}));
  json received = hops_json(msg, analyzer.hop_zones(msg));  // the hops shown are msg's own
  return {{"schema", "hdrscan.explain/1"},
          {"source", rec["source"]},
          {"location", clean_text(rep.where.to_string())},
          {"size", rep.size},
          {"sha256", rep.sha256},
          {"message_id", rec["message_id"]},
          {"date", rec["date"]},
          {"from", rec["from"]},
          {"subject", rec["subject"]},
          {"received", received["hops"]},
          {"transit_seconds", received["transit_seconds"]},
          {"route", rec["route"]},
          {"antispam", antispam_json(msg)},
          {"tenant_headers", tenant_json(msg)},
          {"authentication", auth_json(msg)},
          {"signatures", signatures_json(msg)},
          {"checks", checks},
          {"evidence", rec["evidence"]},
          {"errors", rec["errors"]},
          {"defects", rec["defects"]},
          {"verdict", rec["verdict"]},
          {"score", rec["score"]},
          {"thresholds", {{"suspicious", analyzer.thresholds().suspicious}, {"campaign", analyzer.thresholds().campaign}}},
          {"nested_from", rec["nested_from"]},
          {"score_breakdown", breakdown_json(a)},
          {"gate", {{"open", a.gate.open()}, {"relay", a.gate.relay}, {"ioc", a.gate.ioc}, {"tamper", a.gate.tamper},
                    {"two_artefacts", a.gate.both}, {"why", a.gate.why()}}},
          {"exo_time", a.exo_time ? json(iso_utc(*a.exo_time)) : json(nullptr)},
          {"exo_time_source", a.exo_time_source},
          {"untrusted_copies", a.untrusted_copies},
          {"nested_messages", json::array()},  // filled for the message explained (run_explain)
          {"nested", nullptr}};
}

// ---- text rendering

struct Style {
  bool color = false;
  std::size_t width = 100;  // columns the text fits in (cells and values wrap); 0 = --wide
  std::string b(const std::string& s) const { return color ? "\x1b[1m" + s + "\x1b[0m" : s; }
  std::string c(const char* code, const std::string& s) const { return color ? std::string(code) + s + "\x1b[0m" : s; }
};

std::size_t width(std::string_view s) {  // display columns, counting UTF-8 code points
  std::size_t w = 0;
  for (char ch : s)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++w;
  return w;
}

std::size_t utf8_len(unsigned char lead) {
  return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// `s` in lines of at most `w` columns (w == 0: one line). A line breaks after a space, else one
// of ";,/&.:=]", when one lies in its second half (header values are lists, host names have
// labels), else between code points, so nothing is cut: every byte of `s` is in some line.
std::vector<std::string> wrap(std::string_view s, std::size_t w) {
  std::vector<std::string> out;
  if (w == 0 || width(s) <= w) {
    out.emplace_back(s);
    return out;
  }
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t cols = 0, j = i, space = std::string_view::npos, brk = space;
    while (j < s.size() && cols < w) {
      const std::size_t len = std::min(utf8_len(static_cast<unsigned char>(s[j])), s.size() - j);
      const char ch = s[j];
      j += len;
      ++cols;
      if (len == 1 && ch == ' ' && cols > w / 2) space = j;
      else if (len == 1 && ch != 0 && cols > w / 2 && std::strchr(";,/&.:=]", ch)) brk = j;
    }
    if (space != std::string_view::npos) brk = space;  // words first
    const std::size_t end = j >= s.size() ? j : brk != std::string_view::npos ? brk : j;
    std::string line(s.substr(i, end - i));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.push_back(std::move(line));
    i = end;
    while (i < s.size() && s[i] == ' ') ++i;
  }
  if (out.empty()) out.emplace_back();
  return out;
}

// `text` after `lead` ("  Subject:    "), continued under it when it wraps.
void para(std::string& out, const std::string& lead, std::string_view text, const Style& st) {
  const std::size_t lw = width(lead);
  const std::size_t room = st.width == 0 ? 0 : st.width > lw + 20 ? st.width - lw : 20;
  const auto lines = wrap(clean_text(text), room);
  for (std::size_t k = 0; k < lines.size(); ++k)
    out += (k == 0 ? lead : std::string(lw, ' ')) + lines[k] + "\n";
}

std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  return j.dump();
}

// A table fitted to st.width: columns keep their natural width while the row fits; otherwise
// the widest column gives up a column at a time (columns of 24 or less only when that is not
// enough; none below its header or 10 columns) and its cells wrap onto continuation lines. With --wide (width 0) nothing wraps.
void table(std::string& out, const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
           const Style& st) {
  const std::size_t n = head.size();
  std::vector<std::size_t> w(n);
  for (std::size_t c = 0; c < n; ++c) w[c] = width(head[c]);
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    std::vector<std::string> cr;
    for (std::size_t c = 0; c < n; ++c) {
      cr.push_back(clean_text(c < r.size() ? r[c] : ""));
      w[c] = std::max(w[c], width(cr.back()));
    }
    cells.push_back(std::move(cr));
  }
  if (st.width) {
    std::size_t total = 2 * n;  // "  " before each cell
    for (std::size_t c = 0; c < n; ++c) total += w[c];
    // First only the long columns give way (a time or a zone name stays on one line), then any.
    for (const std::size_t keep_short : {std::size_t{24}, std::size_t{0}}) {
      std::vector<std::size_t> floor(n);
      for (std::size_t c = 0; c < n; ++c)
        floor[c] = w[c] <= keep_short ? w[c] : std::min(w[c], std::max<std::size_t>(width(head[c]), 10));
      while (total > st.width) {
        std::size_t best = n;
        for (std::size_t c = 0; c < n; ++c)
          if (w[c] > floor[c] && (best == n || w[c] > w[best])) best = c;
        if (best == n) break;  // cannot fit: the row runs over rather than lose text
        --w[best];
        --total;
      }
    }
  }
  auto emit = [&](const std::vector<std::string>& r) {
    std::vector<std::vector<std::string>> parts(n);
    std::size_t lines = 1;
    for (std::size_t c = 0; c < n; ++c) {
      parts[c] = wrap(r[c], st.width ? w[c] : 0);
      lines = std::max(lines, parts[c].size());
    }
    for (std::size_t k = 0; k < lines; ++k) {
      std::string l = " ";
      for (std::size_t c = 0; c < n; ++c) {
        const std::string& p = k < parts[c].size() ? parts[c][k] : std::string();
        l += " " + p;
        if (c + 1 < n) l += std::string(w[c] - std::min(w[c], width(p)) + 1, ' ');
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    }
  };
  emit(head);
  std::vector<std::string> rule;
  for (auto x : w) rule.push_back(std::string(x, '-'));
  emit(rule);
  for (const auto& r : cells) emit(r);
}

void identity(std::string& o, const json& m, const Style& st) {
  std::string where = str(m["location"]);
  if (!m["source"]["index"].is_null()) where += fmt::format("  (message #{})", m["source"]["index"].get<std::uint64_t>());
  if (m.contains("nested_path")) where += "  attached message " + str(m["nested_path"]);
  std::string title;
  para(title, "hdrscan explain  ", where, st);
  o += st.b("hdrscan explain") + title.substr(15);
  para(o, "  Message-ID: ", str(m["message_id"]), st);
  para(o, "  Date:       ", str(m["date"]), st);
  para(o, "  From:       ", str(m["from"]), st);
  para(o, "  Subject:    ", str(m["subject"]), st);
  o += fmt::format("  Size:       {} bytes\n  SHA-256:    {}\n", m["size"].get<std::uint64_t>(), str(m["sha256"]));
}

std::string render_text(const json& m, const Style& st) {
  std::string o;
  auto section = [&](const std::string& t) { o += "\n" + st.b("== " + t) + "\n"; };
  identity(o, m, st);

  section("Received hops (oldest first)");
  if (m["received"].empty()) o += "  (no Received headers)\n";
  else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : m["received"]) {
      std::string from = str(h["from"]);
      if (!h["from_ip"].is_null()) from += " [" + str(h["from_ip"]) + "]";
      if (!h["from_rdns"].get<std::string>().empty() && h["from_rdns"] != h["from"]) from += " (" + str(h["from_rdns"]) + ")";
      std::string with = str(h["with"]);
      if (!h["via"].get<std::string>().empty()) with += " via " + str(h["via"]);
      std::string delay = h["delay_seconds"].is_null() ? "" : duration(h["delay_seconds"].get<std::int64_t>());
      if (!h["delay_seconds"].is_null() && h["delay_seconds"].get<std::int64_t>() < 0) delay += " (clock skew)";
      std::string time = h["time"].is_null() ? (h["date_text"].get<std::string>().empty() ? "-" : "? " + str(h["date_text"])) : str(h["time"]);
      if (!h["ok"].get<bool>()) from = "(unparsed: " + str(h["reason"]) + ") " + str(h["raw"]);
      rows.push_back({std::to_string(h["hop"].get<int>()), h["zone"].is_null() ? "-" : str(h["zone"]), from,
                      str(h["by"]), with, time, delay});
    }
    table(o, {"#", "domain", "from", "by", "with", "time (UTC)", "delay"}, rows, st);
    if (!m["transit_seconds"].is_null()) o += "  total transit: " + duration(m["transit_seconds"].get<std::int64_t>()) + "\n";
  }

  section("Administrative domains");
  para(o, "  ", str(m["route"]).empty() ? std::string("(none found)") : str(m["route"]), st);
  if (!str(m["nested_from"]).empty())  // the wrapper's own view (--nested outer)
    para(o, "  ",
         "(the route of the attached message " + str(m["nested_from"]) +
             ", which gave the verdict; the wrapper's own hops above are not segmented)",
         st);

  section("Antispam verdicts (decoded | raw)");
  if (m["antispam"].empty()) o += "  (no X-Forefront-Antispam-Report / X-Microsoft-Antispam(-Mailbox-Delivery) headers)\n";
  for (const auto& a : m["antispam"]) {
    o += fmt::format("  {}[{}]\n", str(a["header"]), a["index"].get<int>());
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : a["fields"]) rows.push_back({str(f["key"]), str(f["value"]), str(f["meaning"])});
    table(o, {"key", "value", "meaning"}, rows, st);
    para(o, "    raw: ", str(a["raw"]), st);
  }

  section("Exchange tenant headers");
  if (m["tenant_headers"].empty()) o += "  (none)\n";
  else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : m["tenant_headers"]) {
      std::string meaning = str(t["meaning"]);
      if (!t["value_meaning"].get<std::string>().empty()) meaning += (meaning.empty() ? "" : ": ") + str(t["value_meaning"]);
      if (t.contains("parsed")) {
        const auto& p = t["parsed"];
        meaning += p["ok"].get<bool>() ? " (tenant " + str(p["tenant_id"]) + ", ip " + str(p["ip"]) + ", helo " + str(p["helo"]) + ")"
                                       : " (unparsed: " + str(p["reason"]) + ")";
      }
      rows.push_back({str(t["header"]), str(t["value"]), meaning});
    }
    table(o, {"header", "value", "meaning"}, rows, st);
  }

  section("Authentication (parsed | raw)");
  if (m["authentication"].empty()) o += "  (no Authentication-Results / ARC-Authentication-Results / Received-SPF)\n";
  for (const auto& a : m["authentication"]) {
    std::string head = fmt::format("{}[{}]", str(a["header"]), a["index"].get<int>());
    if (!a["instance"].is_null()) head += fmt::format(" i={}", a["instance"].get<int>());
    if (!str(a["authserv_id"]).empty()) head += " by " + str(a["authserv_id"]);
    if (!a["ok"].get<bool>() && !str(a["reason"]).empty()) head += "  (parse problem: " + str(a["reason"]) + ")";
    para(o, "  ", head, st);
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : a["results"]) {
      std::string props;
      for (auto it = r["props"].begin(); it != r["props"].end(); ++it)
        props += (props.empty() ? "" : " ") + it.key() + "=" + str(it.value());
      std::string reason = str(r["reason"]);
      if (!str(r["note"]).empty()) reason += (reason.empty() ? "" : " — ") + str(r["note"]);
      rows.push_back({str(r["method"]), str(r["result"]), reason, props});
    }
    table(o, {"method", "result", "reason", "properties"}, rows, st);
    para(o, "    raw: ", str(a["raw"]), st);
  }

  section("ARC and DKIM signatures");
  if (m["signatures"].empty()) o += "  (none)\n";
  else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : m["signatures"]) {
      std::string h;
      for (const auto& n : s["signed_headers"]) h += (h.empty() ? "" : ":") + str(n);
      rows.push_back({fmt::format("{}[{}]", str(s["header"]), s["index"].get<int>()), str(s["i"]), str(s["d"]), str(s["s"]),
                      str(s["cv"]), str(s["a"]), h});
    }
    table(o, {"header", "i", "d", "s", "cv", "a", "h="}, rows, st);
  }

  section("Signals (every detector, fired or not)");
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : m["checks"]) {
      const bool fired = c["fired"].get<bool>();
      const char* mark = fired ? "FIRED" : c["evaluated"].get<bool>() ? "-" : "n/e";
      rows.push_back({mark, str(c["signal"]), fired ? fmt::format("{:+d}", c["weight"].get<int>()) : "",
                      str(c["why"])});
    }
    if (rows.empty()) o += "  (no detector outcomes recorded)\n";
    else table(o, {"", "signal", "weight", "why"}, rows, st);
  }
  if (!m["evidence"].empty()) {
    o += "\n  " + st.b("Evidence") + "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : m["evidence"])
      rows.push_back({str(e["signal"]), fmt::format("{:+d}", e["weight"].get<int>()),
                      (str(e["message"]).empty() ? "" : str(e["message"]) + " ") + str(e["where"]), str(e["excerpt"])});
    table(o, {"signal", "weight", "where", "excerpt"}, rows, st);
  }
  if (!m["errors"].empty() || !m["defects"].empty()) {
    section("Errors and defects");
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : m["errors"]) rows.push_back({"error", str(e["code"]), str(e["detail"])});
    for (const auto& e : m["defects"]) rows.push_back({"defect", str(e["code"]), str(e["detail"])});
    table(o, {"kind", "code", "detail"}, rows, st);
  }

  section("Verdict");
  const std::string v = str(m["verdict"]);
  const char* code = v == "campaign" ? "\x1b[1;31m" : v == "suspicious" ? "\x1b[1;33m" : "\x1b[32m";
  o += fmt::format("  {}  score {} / 100  (suspicious at {}, campaign at {})\n", st.c(code, v), m["score"].get<int>(),
                   m["thresholds"]["suspicious"].get<int>(), m["thresholds"]["campaign"].get<int>());
  if (!str(m["nested_from"]).empty()) o += "  verdict taken from " + clean_text(str(m["nested_from"])) + "\n";
  {
    std::string fams;
    for (const auto& f : m["score_breakdown"]) {
      fams += (fams.empty() ? "" : " + ") + fmt::format("{} {}", str(f["family"]), f["points"].get<int>());
      if (f["raw"].get<int>() > f["cap"].get<int>()) fams += fmt::format(" (sum {}, capped)", f["raw"].get<int>());
    }
    if (!fams.empty()) para(o, "  score = ", fams, st);
  }
  para(o, "  campaign gate: ", str(m["gate"]["why"]), st);
  if (!m["exo_time"].is_null())
    para(o, "  Exchange Online time: ", str(m["exo_time"]) + " (" + str(m["exo_time_source"]) + ")", st);
  for (const auto& u : m["untrusted_copies"]) para(o, "  not trusted: ", str(u), st);
  return o;
}

// A wrapper (a report or export holding the mail as message/rfc822) briefly, then the full
// view of the attached message chosen (the one that gave the verdict, or --nested PATH).
std::string render_wrapper(const json& m, const Style& st) {
  std::string o;
  identity(o, m, st);
  const json& n = m["nested"];
  o += fmt::format("  Wrapper:    {} Received hop(s) of its own; {} attached message(s):\n", m["received"].size(),
                   m["nested_messages"].size());
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : m["nested_messages"])
    rows.push_back({x["path"] == n["path"] ? ">" : "", str(x["path"]), str(x["verdict"]),
                    x["score"].is_null() ? "-" : str(x["score"]), str(x["subject"])});
  table(o, {"", "attached", "verdict", "score", "subject (each scored on its own)"}, rows, st);
  std::string verdict = fmt::format("{}, score {}", str(m["verdict"]), m["score"].get<int>());
  if (!str(m["nested_from"]).empty()) verdict += ", taken from the attached message " + str(m["nested_from"]);
  para(o, "  Verdict:    ", verdict, st);
  para(o, "  Shown:      ",
       fmt::format("{} ({}); --nested PATH shows another attached message, --nested outer the "
                   "wrapper's own full view",
                   str(n["path"]), n["chosen_by"] == "verdict" ? "it gave the verdict" : "chosen by --nested"),
       st);
  o += "\n" + st.b("=== attached message " + str(n["path"]) + " ===") + "\n";
  o += render_text(n["view"], st);
  return o;
}

// Columns to fit: $COLUMNS when set to a number, else the terminal's width when standard
// output is one, else 100.
std::size_t output_width() {
  if (const char* c = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long v = std::strtol(c, &end, 10);
    if (end != c && *end == '\0' && v > 0) return static_cast<std::size_t>(std::max(v, 40L));
  }
  struct winsize ws {};
  if (stdout_is_terminal() && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return std::max<std::size_t>(ws.ws_col, 40);
  return 100;
}

// "nested[0].nested[1]" -> that message inside `root`; nullptr when the path is malformed or
// names no attached message.
const mime::ParsedMessage* find_nested(const mime::ParsedMessage& root, std::string_view path) {
  const mime::ParsedMessage* m = &root;
  while (!path.empty()) {
    if (path.rfind("nested[", 0) != 0) return nullptr;
    path.remove_prefix(7);
    std::size_t i = 0, k = 0;
    while (k < path.size() && k < 6 && path[k] >= '0' && path[k] <= '9') i = i * 10 + static_cast<std::size_t>(path[k++] - '0');
    if (k == 0 || k >= path.size() || path[k] != ']' || i >= m->nested.size()) return nullptr;
    m = &m->nested[i];
    path.remove_prefix(k + 1);
    if (!path.empty()) {
      if (path[0] != '.') return nullptr;
      path.remove_prefix(1);
    }
  }
  return m;
}

// Every attached message, depth first, as {path, message} (the analyzer looks 8 levels deep).
void nested_paths(const mime::ParsedMessage& m, const std::string& prefix, int depth,
                  std::vector<std::pair<std::string, const mime::ParsedMessage*>>& out) {
  if (depth >= 8) return;
  for (std::size_t i = 0; i < m.nested.size(); ++i) {
    const std::string p = (prefix.empty() ? "" : prefix + ".") + "nested[" + std::to_string(i) + "]";
    out.emplace_back(p, &m.nested[i]);
    nested_paths(m.nested[i], p, depth + 1, out);
  }
}

// build_model of the message, plus its attached messages: each listed with the verdict it gets
// on its own; the one that gave the verdict (or `nested`: a path, "outer" for none) explained
// in full, analysed as the message it is. nullopt, with `error`, when `nested` names none.
std::optional<json> whole_model(const mime::RawMessage& raw, const MessageReport& rep,
                                const mime::ParsedMessage& msg, const heuristics::Analyzer& analyzer,
                                const mime::Limits& limits, const std::string& nested, std::string& error) {
  json model = build_model(raw, rep, msg, analyzer);
  std::vector<std::pair<std::string, const mime::ParsedMessage*>> subs;
  nested_paths(msg, "", 0, subs);
  auto alone = [&](const mime::ParsedMessage& sm) {
    mime::RawMessage r;
    r.where = raw.where;
    r.bytes.assign(sm.raw);
    return r;
  };
  std::string known;
  for (const auto& [p, sm] : subs) {
    const MessageReport sr = analyze(alone(*sm), analyzer, limits, Digest::skip);
    const bool ok = sr.status == Status::analysed;
    model["nested_messages"].push_back({{"path", p},
                                        {"subject", sr.subject},
                                        {"verdict", verdict_word(sr)},
                                        {"score", ok ? json(sr.assessment.score) : json(nullptr)}});
    known += (known.empty() ? "" : ", ") + p;
  }
  const std::string path = nested == "outer" ? std::string() : nested.empty() ? rep.assessment.nested_from : nested;
  if (!path.empty()) {
    const mime::ParsedMessage* sm = find_nested(msg, path);
    if (!sm) {
      error = raw.where.to_string() + ": no attached message " + path + " (attached: " +
              (known.empty() ? "none" : known) + ")";
      return std::nullopt;
    }
    const mime::RawMessage nraw = alone(*sm);
    const MessageReport nrep = analyze(nraw, analyzer, limits);
    const mime::ParsedMessage nmsg = mime::parse_message(nraw.bytes, limits);
    json view = build_model(nraw, nrep, nmsg, analyzer);
    view["nested_path"] = path;
    model["nested"] = {{"path", path}, {"chosen_by", nested.empty() ? "verdict" : "option"}, {"view", std::move(view)}};
  }
  return model;
}

int run_explain(ExplainOptions& o) {
  const auto analyzer_ptr = o.analysis.make_analyzer_or_report();
  if (!analyzer_ptr) return 2;
  const heuristics::Analyzer& analyzer = *analyzer_ptr;
  const auto min_verdict = heuristics::parse_verdict(o.min_verdict).value_or(heuristics::Verdict::campaign);

  mime::ReaderOptions ropt = o.analysis.reader_options();
  if (!o.input.apply(ropt)) return 2;
  // A path as given when it exists (or "-"), else a location as scan prints it.
  mime::SourceLocation want;
  want.path = o.path;
  struct stat st {};
  if (o.path != "-" && ::stat(o.path.c_str(), &st) != 0) {
    if (auto loc = mime::parse_location(o.path)) want = *loc;
  }
  auto matches = [&want](const mime::SourceLocation& w) {
    return w.member == want.member && w.folder == want.folder &&
           (!want.index || w.index == want.index) && (!want.offset || w.offset == want.offset);
  };
  std::unique_ptr<mime::MessageSource> src;
  try {
    src = mime::open_source(want.path, ropt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hdrscan: %s: %s\n", o.path.c_str(), e.what());
    return 2;
  }
  mime::RawMessage raw;
  std::uint64_t n = 0, seen = 0;
  bool found = false;
  const bool located = !want.member.empty() || !want.folder.empty() || want.index;
  while (src && src->next(raw)) {
    ++seen;
    if (located && !matches(raw.where)) continue;
    if (n++ == o.index) { found = true; break; }
    raw = mime::RawMessage{};
  }
  if (!found) {
    std::fprintf(stderr, "hdrscan: %s: no message #%llu there (%llu matching, %llu read)\n",
                 o.path.c_str(), static_cast<unsigned long long>(o.index),
                 static_cast<unsigned long long>(n), static_cast<unsigned long long>(seen));
    return 2;
  }
  src.reset();  // a pipe or an archive is not read further
  if (!raw.error.empty() && (raw.bytes.empty() || mime::is_fatal_read_error(raw.error_code))) {
    std::fprintf(stderr, "hdrscan: %s: unreadable (%s): %s\n", raw.where.to_string().c_str(),
                 raw.error_code.c_str(), raw.error.c_str());
    return 2;
  }
  if (!raw.not_mail.empty()) {
    std::fprintf(stderr, "hdrscan: %s: not_mail: %s\n", raw.where.to_string().c_str(),
                 raw.not_mail.c_str());
    return 0;
  }
  const MessageReport rep = analyze(raw, analyzer, o.analysis.limits);
  const mime::ParsedMessage msg = mime::parse_message(raw.bytes, o.analysis.limits);
  std::string error;
  const std::optional<json> built = whole_model(raw, rep, msg, analyzer, o.analysis.limits, o.nested, error);
  if (!built) {
    std::fprintf(stderr, "hdrscan: %s\n", error.c_str());
    return 2;
  }
  const json& model = *built;

  std::string text;
  if (o.format == "json") {
    text = model.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  } else {
    Style st;
    st.color = use_color(o.color, stdout_is_terminal());
    st.width = o.wide ? 0 : output_width();
    text = model["nested"].is_null() ? render_text(model, st) : render_wrapper(model, st);
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "hdrscan: error writing output\n");
    return 2;
  }
  return rep.assessment.verdict >= min_verdict ? 1 : 0;
}

}  // namespace

nlohmann::ordered_json explain_model(const mime::RawMessage& raw,
                                     const heuristics::Analyzer& analyzer,
                                     const mime::Limits& limits) {
  const MessageReport rep = analyze(raw, analyzer, limits);
  const mime::ParsedMessage msg = mime::parse_message(raw.bytes, limits);
  std::string error;  // only a --nested path that names nothing fails: none is given here
  return whole_model(raw, rep, msg, analyzer, limits, "", error).value_or(build_model(raw, rep, msg, analyzer));
}

void add_explain_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "Forensic view of one message: hops, domains, decoded headers, every signal");
  cmd->add_option("FILE", o->path,
                  "Message file (.eml, mbox, archive, Maildir file; - for stdin), or a location "
                  "as scan prints it (x.zip!member, x.mbox.gz#12@4096)")
      ->required();
  cmd->add_option("-n,--index", o->index,
                  "Which of the messages at FILE (0-based; for an mbox, as scan numbers them)")
      ->capture_default_str();
  cmd->add_option("--format", o->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--min-verdict", o->min_verdict, "Verdict that makes the exit status 1")
      ->capture_default_str()
      ->check(CLI::IsMember({"suspicious", "campaign"}));
  cmd->add_option("--nested", o->nested,
                  "Which attached message to explain in full: nested[0], nested[0].nested[1] (as the "
                  "evidence names them); outer = the wrapper itself (default: the one that gave the "
                  "verdict)")
      ->type_name("PATH");
  cmd->add_flag("--wide", o->wide, "Text format: full values on long lines, nothing wrapped "
                                   "(default: fit $COLUMNS or the terminal, else 100 columns)");
  cmd->add_option("--color", o->color, "auto, always, never")->capture_default_str()->check(CLI::IsMember({"auto", "always", "never"}));
  o->input.add_to(*cmd);
  o->analysis.add_to(*cmd);
  // An exception escaping run_explain is reported by main() as "hdrscan: error: ..." with status 2.
  cmd->callback([o, &exit_code] { exit_code = run_explain(*o); });
}

}  // namespace hdrscan::scanner
