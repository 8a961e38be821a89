// printers.cpp: text, JSON Lines and CSV printers over MessageReport (see printers.hpp).
// Limits: strings are sanitised to UTF-8 here, whatever the report holds; text and CSV
// records are one physical line each. Diagnostics: none (the driver checks the stream).
#include "scanner/printers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "mime/decode.hpp"

namespace hdrscan::scanner {
namespace {

using nlohmann::json;

// ANSI colours (only when PrinterOptions::color).
constexpr const char* kReset = "\x1b[0m";
constexpr const char* kPath = "\x1b[35m";
constexpr const char* kRed = "\x1b[1;31m";
constexpr const char* kYellow = "\x1b[1;33m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kDim = "\x1b[2m";

class TextPrinter : public Printer {
 public:
  TextPrinter(const PrinterOptions& o, std::FILE* out) : Printer(out), opt_(o) {}

  std::string render(const ScanRecord& rec) const override {
    const MessageReport& r = *rec.report;
    const auto v = r.assessment.verdict;
    std::string line;
    line += paint(kPath, clean_text(r.where.to_string()));
    line += "  ";
    const char* vc = r.status == Status::unreadable   ? kRed
                     : r.status == Status::not_mail   ? kDim
                     : v == heuristics::Verdict::campaign     ? kRed
                     : v == heuristics::Verdict::suspicious ? kYellow
                                                            : kGreen;
    line += paint(vc, fmt::format("{:<10}", verdict_word(r)));
    if (r.status == Status::analysed) line += fmt::format(" {:>3}", r.assessment.score);
    else line += "   -";
    std::size_t shown = 0;
    for (const auto& e : r.assessment.evidence) {
      if (shown == opt_.top_signals) break;
      line += shown == 0 ? "  " : ", ";
      line += fmt::format("{}({:+d})", clean_text(e.signal, 80), e.weight);
      ++shown;
    }
    if (r.assessment.evidence.size() > shown)
      line += fmt::format(", +{} more", r.assessment.evidence.size() - shown);
    // A wrapper (a report or a user's forward holding the mail as message/rfc822) has the
    // verdict of a message inside it: say so, or the forwarder looks like the spammer.
    if (r.status == Status::analysed && !r.assessment.nested_from.empty())
      line += "  (verdict from attached message " + clean_text(r.assessment.nested_from, 80) + ")";
    if (!r.errors.empty()) {
      std::string codes;
      for (const auto& e : r.errors) {
        if (!codes.empty()) codes += ",";
        codes += clean_text(e.code, 60);
      }
      line += "  " + paint(r.status == Status::not_mail ? kDim : kRed, "error: " + codes);
      if (r.status != Status::analysed)
        line += paint(kDim, " (" + clean_text(r.errors[0].detail, 200) + ")");
    }
    line += '\n';
    return line;
  }

  void end(const ScanSummary& s) override {
    std::string t;
    t += paint(kDim, "--") + "\n";
    t += fmt::format("messages: {}  unreadable: {}  not_mail: {}  campaign: {}  suspicious: {}  "
                     "clean: {}\n",
                     s.messages, s.unreadable, s.not_mail, s.campaign, s.suspicious, s.clean);
    std::string codes;
    for (const auto& [code, n] : s.error_codes) codes += fmt::format("{}{} {}", codes.empty() ? "" : ", ", code, n);
    t += fmt::format("errors: {} message{}{}", s.with_errors, s.with_errors == 1 ? "" : "s",
                     codes.empty() ? "" : " (" + codes + ")");
    if (s.input_errors) t += fmt::format(", {} unreadable input{}", s.input_errors, s.input_errors == 1 ? "" : "s");
    t += "\n";
    const double secs = s.elapsed_seconds;
    const double rate = secs > 0 ? static_cast<double>(s.messages) / secs : 0;
    t += fmt::format("elapsed: {:.2f} s  {:.0f} msg/s  {}/s  ({} in {} thread{}{})\n", secs, rate,
                     human_bytes(secs > 0 ? static_cast<double>(s.bytes) / secs : 0),
                     human_bytes(static_cast<double>(s.bytes)), s.threads, s.threads == 1 ? "" : "s",
                     s.shard.empty() ? "" : ", shard " + s.shard);
    std::fwrite(t.data(), 1, t.size(), out_);
  }

 private:
  std::string paint(const char* code, const std::string& s) const {
    return opt_.color ? std::string(code) + s + kReset : s;
  }
  PrinterOptions opt_;
};

class JsonlPrinter : public Printer {
 public:
  explicit JsonlPrinter(std::FILE* out) : Printer(out) {}
  std::string render(const ScanRecord& rec) const override {
    std::string line = record_to_jsonl(rec);
    line += '\n';
    return line;
  }
};

class CsvPrinter : public Printer {
 public:
  explicit CsvPrinter(std::FILE* out) : Printer(out) {}
  void begin() override {
    static const char* header =
        "seq,path,index,offset,member,folder,size,sha256,message_id,date,from,subject,verdict,"
        "score,signals,errors,route,nested_from\n";
    std::fputs(header, out_);
  }
  std::string render(const ScanRecord& rec) const override {
    const MessageReport& r = *rec.report;
    std::string signals, errors;
    for (const auto& e : r.assessment.evidence)
      signals += fmt::format("{}{}:{:+d}", signals.empty() ? "" : ";", e.signal, e.weight);
    for (const auto& e : r.errors) errors += (errors.empty() ? "" : ";") + e.code;
    auto num = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string(); };
    const std::string score =
        r.status == Status::analysed ? std::to_string(r.assessment.score) : std::string();
    std::string line = fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", rec.seq, csv_field(r.where.path),
        num(r.where.index), num(r.where.offset), csv_field(r.where.member),
        csv_field(r.where.folder), r.size, r.sha256, csv_field(r.message_id, true),
        csv_field(r.date, true), csv_field(r.from, true), csv_field(r.subject, true),
        verdict_word(r), score, csv_field(signals), csv_field(errors),
        csv_field(r.assessment.route, true), csv_field(r.assessment.nested_from));
    return line;
  }
};

}  // namespace

void Printer::message(const ScanRecord& rec) {
  const std::string line = render(rec);
  std::fwrite(line.data(), 1, line.size(), out_);
}

SummaryItem SummaryItem::of(const MessageReport& r) {
  SummaryItem m;
  m.size = r.size;
  m.status = r.status;
  m.verdict = r.assessment.verdict;
  m.failed = r.failed;
  for (const auto& e : r.errors)
    if (std::find(m.error_codes.begin(), m.error_codes.end(), e.code) == m.error_codes.end())
      m.error_codes.push_back(e.code);
  return m;
}

void ScanSummary::add(const SummaryItem& m, heuristics::Verdict min_verdict_v) {
  ++messages;
  bytes += m.size;
  if (m.status == Status::unreadable) {
    ++unreadable;
  } else if (m.status == Status::not_mail) {
    ++not_mail;
  } else {
    switch (m.verdict) {
      case heuristics::Verdict::clean: ++clean; break;
      case heuristics::Verdict::suspicious: ++suspicious; break;
      case heuristics::Verdict::campaign: ++campaign; break;
    }
    if (m.verdict >= min_verdict_v) ++flagged;
  }
  if (!m.error_codes.empty()) ++with_errors;
  if (m.failed) ++failed;
  for (const auto& c : m.error_codes) {
    std::string key = mime::sanitize_utf8(c);
    if (error_codes.size() < 1000 || error_codes.count(key)) ++error_codes[std::move(key)];
  }
}

nlohmann::json ScanSummary::to_json() const {
  json codes = json::object();
  for (const auto& [k, v] : error_codes) codes[k] = v;
  return {{"schema", kSummarySchema},
          {"messages", messages},
          {"verdicts", {{"unreadable", unreadable}, {"not_mail", not_mail}, {"clean", clean},
                        {"suspicious", suspicious}, {"campaign", campaign}}},
          {"min_verdict", min_verdict},
          {"flagged", flagged},
          {"messages_with_errors", with_errors},
          {"failed", failed},
          {"input_errors", input_errors},
          {"error_codes", codes},
          {"bytes", bytes},
          {"elapsed_seconds", elapsed_seconds},
          {"threads", threads},
          {"shard", shard.empty() ? json(nullptr) : json(shard)}};
}

namespace {

// A JSON string of valid UTF-8, escaped exactly as nlohmann::json::dump(-1, ' ', false)
// escapes it (", \\, \b \f \n \r \t, other bytes below 0x20 as \u00xx; DEL and non-ASCII
// as they are), so a record re-serialised by nlohmann is byte-identical (tests check it).
void append_json_string(std::string& o, std::string_view v) {
  o += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    o.append(v.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\b': o += "\\b"; break;
      case '\f': o += "\\f"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default: {
        static const char* kHex = "0123456789abcdef";
        o += "\\u00";
        o += kHex[c >> 4];
        o += kHex[c & 15];
      }
    }
  }
  o.append(v.data() + run, v.size() - run);
  o += '"';
}

// A value that is valid UTF-8 already (nearly all) is escaped as it is, not copied first.
void append_json_text(std::string& o, std::string_view v) {
  if (mime::is_valid_utf8(v))
    append_json_string(o, v);
  else
    append_json_string(o, mime::sanitize_utf8(v));
}

void append_key(std::string& o, const char* key) {
  o += '"';
  o += key;
  o += "\":";
}

void append_defects(std::string& o, const std::vector<mime::Defect>& ds) {
  o += '[';
  for (std::size_t i = 0; i < ds.size(); ++i) {
    if (i) o += ',';
    o += "{\"code\":";
    append_json_text(o, ds[i].code);
    o += ",\"detail\":";
    append_json_text(o, ds[i].detail);
    o += '}';
  }
  o += ']';
}

void append_strings(std::string& o, const std::vector<std::string>& v) {
  o += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) o += ',';
    append_json_text(o, v[i]);
  }
  o += ']';
}

// What `hdrscan waves` groups by (docs/output.md, "grouping"): null without features.
void append_grouping(std::string& o, const MessageReport& r) {
  if (!r.features) {
    o += "null";
    return;
  }
  const mime::MessageFeatures& f = *r.features;
  const auto& exo = r.assessment.exo_time;
  o += "{\"time\":";
  if (exo || f.date) append_json_string(o, iso_utc(exo ? *exo : *f.date));
  else o += "null";
  o += ",\"time_source\":";
  o += exo ? "\"exchange\"" : f.date ? "\"date\"" : "null";
  o += ",\"envelope_domain\":";
  append_json_text(o, f.envelope_domain);
  o += ",\"from_domain\":";
  append_json_text(o, f.from_domain);
  o += ",\"url_hosts\":";
  append_strings(o, f.url_hosts);
  o += ",\"url_domains\":";
  append_strings(o, f.url_domains);
  o += ",\"subject\":";
  append_json_text(o, f.subject);
  o += ",\"template\":{\"simhash\":";
  append_json_string(o, fmt::format("{:016x}", f.template_hash));
  o += ",\"shingles\":" + std::to_string(f.template_shingles) + "}";
  o += ",\"urls\":";
  append_strings(o, f.urls);
  o += ",\"recipients\":{\"domains\":";
  append_strings(o, f.recipient_domains);
  o += ",\"addresses\":";
  if (f.recipients) append_strings(o, *f.recipients);
  else o += "null";
  o += ",\"from_is_recipient\":";
  o += f.from_is_recipient ? "true" : "false";
  o += "}}";
}

}  // namespace

std::string iso_utc(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string record_to_jsonl(const ScanRecord& rec) {
  const MessageReport& r = *rec.report;
  const auto& a = r.assessment;
  std::string o;
  o.reserve(1024 + 256 * a.evidence.size());
  o += "{\"schema\":";
  append_json_string(o, kScanSchema);
  o += ",\"seq\":" + std::to_string(rec.seq);
  o += ",\"source\":{\"path\":";
  append_json_text(o, r.where.path);
  o += ",\"index\":" + (r.where.index ? std::to_string(*r.where.index) : std::string("null"));
  o += ",\"offset\":" + (r.where.offset ? std::to_string(*r.where.offset) : std::string("null"));
  o += ",\"member\":";
  if (r.where.member.empty()) o += "null";
  else append_json_text(o, r.where.member);
  o += ",\"folder\":";
  if (r.where.folder.empty()) o += "null";
  else append_json_text(o, r.where.folder);
  o += "},\"size\":" + std::to_string(r.size);
  o += ",\"sha256\":";
  append_json_string(o, r.sha256);
  const std::pair<const char*, const std::string*> texts[] = {
      {"message_id", &r.message_id}, {"date", &r.date}, {"from", &r.from}, {"subject", &r.subject}};
  for (const auto& [k, v] : texts) {
    o += ',';
    append_key(o, k);
    append_json_text(o, *v);
  }
  o += ",\"verdict\":";
  append_json_string(o, verdict_word(r));
  o += ",\"score\":";
  o += r.status == Status::analysed ? std::to_string(std::clamp(a.score, 0, 100)) : "null";
  o += ",\"evidence\":[";
  for (std::size_t i = 0; i < a.evidence.size(); ++i) {
    const auto& e = a.evidence[i];
    if (i) o += ',';
    o += "{\"signal\":";
    append_json_text(o, e.signal);
    o += ",\"weight\":" + std::to_string(e.weight);
    o += ",\"where\":";
    append_json_text(o, e.where);
    o += ",\"excerpt\":";
    append_json_text(o, e.excerpt);
    o += ",\"message\":";
    append_json_text(o, e.message);
    o += '}';
  }
  o += "],\"errors\":";
  append_defects(o, r.errors);
  o += ",\"defects\":";
  append_defects(o, r.defects);
  o += ",\"failed\":";
  o += r.failed ? "true" : "false";
  o += ",\"route\":";
  append_json_text(o, a.route);
  o += ",\"nested_from\":";
  append_json_text(o, a.nested_from);
  o += ",\"connection\":";
  if (!a.connection) {
    o += "null";
  } else {
    o += "{\"ip\":";
    append_json_text(o, a.connection->ip);
    o += ",\"helo\":";
    append_json_text(o, a.connection->helo);
    o += ",\"tenant_id\":";
    append_json_text(o, a.connection->tenant_id);
    o += ",\"source\":";
    append_json_text(o, a.connection->source);
    o += ",\"tenant_name\":";
    append_json_text(o, r.tenant_name);
    o += '}';
  }
  // Score arithmetic: per family the raw sum, the cap, the points; their sum before the
  // clamp to 0..100 is `score` for an analysed message. The gate: each condition.
  o += ",\"score_breakdown\":[";
  for (std::size_t i = 0; i < a.breakdown.size(); ++i) {
    const auto& f = a.breakdown[i];
    if (i) o += ',';
    o += "{\"family\":";
    append_json_string(o, f.family);
    o += ",\"raw\":" + std::to_string(f.raw) + ",\"cap\":" + std::to_string(f.cap) +
         ",\"points\":" + std::to_string(f.points) + '}';
  }
  const auto& g = a.gate;
  o += "],\"gate\":{\"open\":";
  o += g.open() ? "true" : "false";
  o += ",\"relay\":";
  o += g.relay ? "true" : "false";
  o += ",\"ioc\":";
  o += g.ioc ? "true" : "false";
  o += ",\"tamper\":";
  o += g.tamper ? "true" : "false";
  o += ",\"two_artefacts\":";
  o += g.both ? "true" : "false";
  o += "},\"exo_time\":";
  if (a.exo_time) append_json_string(o, iso_utc(*a.exo_time));
  else o += "null";
  o += ",\"grouping\":";
  append_grouping(o, r);
  o += '}';
  return o;
}

std::string dump_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string clean_text(std::string_view s, std::size_t max_bytes) {
  std::string u = mime::sanitize_utf8(s);
  for (char& c : u) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) c = ' ';
  }
  if (u.size() > max_bytes) {
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(u[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    u.resize(cut);
    u += "…";
  }
  return u;
}

std::string csv_field(std::string_view s, bool defuse_formula) {
  std::string v = clean_text(s);
  if (defuse_formula && !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@'))
    v.insert(v.begin(), '\'');
  if (v.find_first_of(",\"") == std::string::npos && (v.empty() || (v.front() != ' ' && v.back() != ' ')))
    return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::unique_ptr<Printer> make_printer(const PrinterOptions& opt, std::FILE* out) {
  switch (opt.format) {
    case OutputFormat::jsonl: return std::make_unique<JsonlPrinter>(out);
    case OutputFormat::csv: return std::make_unique<CsvPrinter>(out);
    case OutputFormat::text: break;
  }
  return std::make_unique<TextPrinter>(opt, out);
}

std::string human_bytes(double b) {
  static const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

}  // namespace hdrscan::scanner
