// audit_reader.cpp: streaming readers for Microsoft 365 audit exports (see audit_reader.hpp
// for the accepted forms, the limits and the diagnostics).
//
// Structure: a ByteSource (64 KiB buffered FILE* or a memory view) feeds three readers:
// CSV (physical lines assembled into records by a strict RFC 4180 state machine, with
// pushback of the lines after a failed multi-line record), JSON array (a depth-tracking
// splitter that hands one top-level element at a time to the JSON parser) and JSON Lines.
// Each yields a JSON record plus column overrides, which normalize() turns into an
// AuditRecord or a reason for skipping it.
#include "scanner/audit/audit_reader.hpp"

#include "mime/fields/fields.hpp"
#include "mime/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

namespace hdrscan::scanner::audit {
namespace {

using nlohmann::json;

using mime::text::iequals;

// A CSV/JSON value's blanks: space, tab and a CR left by CRLF line ends (a line feed inside
// a quoted field is content).
std::string_view trim(std::string_view s) {
  return mime::text::trim_if(s, [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// ---------------------------------------------------------------------------------------
// ByteSource: buffered bytes from a FILE* or memory.
class ByteSource {
 public:
  explicit ByteSource(std::FILE* f) : file_(f), buf_(64 * 1024) {}
  explicit ByteSource(std::string_view mem) : data_(mem.data()), len_(mem.size()) {}

  int peek() {
    if (pos_ >= len_ && !fill()) return -1;
    return static_cast<unsigned char>(data_[pos_]);
  }
  int get() {
    if (pos_ >= len_ && !fill()) return -1;
    return static_cast<unsigned char>(data_[pos_++]);
  }
  bool read_error() const { return error_; }

  // Reads one physical line without its "\n" (and a trailing "\r"). Keeps at most `max`
  // bytes; a longer line is consumed whole and reported through `too_long`.
  bool read_line(std::string& out, std::size_t max, bool& too_long) {
    out.clear();
    too_long = false;
    bool any = false;
    for (;;) {
      if (pos_ >= len_ && !fill()) break;
      any = true;
      const char* start = data_ + pos_;
      std::size_t avail = len_ - pos_;
      const void* nl = std::memchr(start, '\n', avail);
      std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : avail;
      if (!too_long) {
        if (out.size() + take > max) {
          too_long = true;
          out.clear();
        } else {
          out.append(start, take);
        }
      }
      pos_ += take;
      if (nl) {
        ++pos_;
        break;
      }
    }
    if (!any) return false;
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
  }

 private:
  bool fill() {
    if (!file_ || eof_) return false;
    std::size_t n = std::fread(buf_.data(), 1, buf_.size(), file_);
    if (n == 0) {
      eof_ = true;
      if (std::ferror(file_)) error_ = true;
      return false;
    }
    data_ = buf_.data();
    len_ = n;
    pos_ = 0;
    return true;
  }
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  const char* data_ = nullptr;
  std::size_t len_ = 0, pos_ = 0;
  bool eof_ = false, error_ = false;
};

// ---------------------------------------------------------------------------------------
// Field access that never throws.
std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  if (v.is_number() || v.is_boolean()) return v.dump();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string field(const json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(std::string(key));
  if (it != obj.end()) return as_text(*it);
  for (auto i = obj.begin(); i != obj.end(); ++i)  // exports are not consistent about case
    if (iequals(i.key(), key)) return as_text(i.value());
  return {};
}

const json* member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  for (auto i = obj.begin(); i != obj.end(); ++i)
    if (iequals(i.key(), key)) return &i.value();
  return nullptr;
}

std::string first_field(const json& obj, std::initializer_list<std::string_view> keys) {
  for (auto k : keys) {
    std::string v = field(obj, k);
    if (!v.empty()) return v;
  }
  return {};
}

std::string parse_error_text(const std::exception& e) {
  std::string what = e.what();
  // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> "parse error ..."
  if (auto p = what.find("] "); p != std::string::npos && what.rfind("[json.", 0) == 0)
    what.erase(0, p + 2);
  if (what.size() > 160) what.resize(160);
  return what;
}

// Nesting depth of JSON text (brackets outside strings): deeper records are refused, since
// serializing them would recurse that deep.
constexpr int kMaxDepth = 64;
bool too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (char c : text) {
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// Parses JSON text; on failure returns nullopt and sets `reason`.
std::optional<json> parse_json(std::string_view text, std::string& reason) {
  if (too_deep(text)) {
    reason = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return std::nullopt;
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    reason = parse_error_text(e);
    return std::nullopt;
  }
}

// Values the CSV / CloudAppEvents columns provide when the JSON record lacks them.
struct Overrides {
  std::string time, operation, user, client_ip, user_agent;
  bool operation_wins = false;  // CloudAppEvents: ActionType is the operation name
};

std::string user_agent_of(const json& rec) {
  std::string ua = first_field(rec, {"UserAgent", "User-Agent"});
  if (!ua.empty()) return ua;
  const json* ext = member(rec, "ExtendedProperties");
  if (!ext || !ext->is_array()) return {};
  for (const auto& p : *ext) {
    std::string name = field(p, "Name");
    std::string value = field(p, "Value");
    if (iequals(name, "UserAgent") || iequals(name, "User-Agent")) return value;
    if (iequals(name, "additionalDetails") && !value.empty() && value.front() == '{') {
      if (too_deep(value)) continue;
      json details = json::parse(value, nullptr, false);
      std::string inner = first_field(details, {"User-Agent", "UserAgent"});
      if (!inner.empty()) return inner;
    }
  }
  return {};
}

// Unwraps a wrapper object (AuditData / RawEventData) and fills the record. Returns "" on
// success, else the reason the record is skipped.
std::string normalize(json& in, Overrides ov, AuditRecord& out) {
  if (!in.is_object()) return "record is not a JSON object";
  json* rec = &in;
  json inner;
  if (json* ad = const_cast<json*>(member(in, "AuditData"))) {
    if (ov.time.empty()) ov.time = first_field(in, {"CreationDate", "CreationTime"});
    if (ov.operation.empty()) ov.operation = first_field(in, {"Operations", "Operation"});
    if (ov.user.empty()) ov.user = first_field(in, {"UserIds", "UserId"});
    if (ad->is_string()) {
      std::string why;
      auto parsed = parse_json(ad->get<std::string>(), why);
      if (!parsed) return "AuditData is not valid JSON: " + why;
      inner = std::move(*parsed);
      rec = &inner;
    } else {
      rec = ad;
    }
  } else if (json* raw = const_cast<json*>(member(in, "RawEventData"))) {
    ov.time = first_field(in, {"Timestamp"});
    ov.operation = first_field(in, {"ActionType"});
    ov.operation_wins = true;
    ov.user = first_field(in, {"AccountDisplayName", "AccountObjectId"});
    ov.client_ip = first_field(in, {"IPAddress"});
    ov.user_agent = first_field(in, {"UserAgent"});
    if (raw->is_string()) {
      std::string why;
      auto parsed = parse_json(raw->get<std::string>(), why);
      if (!parsed) return "RawEventData is not valid JSON: " + why;
      inner = std::move(*parsed);
      rec = &inner;
    } else {
      rec = raw;
    }
  }
  if (!rec->is_object()) return "audit record is not a JSON object";

  out.id = field(*rec, "Id");
  out.time = field(*rec, "CreationTime");
  if (out.time.empty()) out.time = ov.time;
  if (out.time.empty()) return "record has no CreationTime";
  if (!parse_time(out.time, out.epoch)) {
    if (ov.time.empty() || !parse_time(ov.time, out.epoch))
      return "record has an unreadable CreationTime '" + out.time.substr(0, 40) + "'";
    out.time = ov.time;
  }
  std::string op = field(*rec, "Operation");
  out.operation = (ov.operation_wins && !ov.operation.empty()) || op.empty() ? ov.operation : op;
  out.operation = std::string(trim(out.operation));
  if (out.operation.empty()) return "record has no Operation";
  out.organization_id = first_field(*rec, {"OrganizationId", "TenantId"});
  out.user_id = first_field(*rec, {"UserId", "UserKey"});
  if (out.user_id.empty()) out.user_id = ov.user;
  out.client_ip = first_field(*rec, {"ClientIP", "ClientIPAddress", "ActorIpAddress"});
  if (out.client_ip.empty()) out.client_ip = ov.client_ip;
  out.app_id = first_field(*rec, {"AppId", "ApplicationId", "ClientAppId"});
  out.user_agent = user_agent_of(*rec);
  if (out.user_agent.empty()) out.user_agent = ov.user_agent;
  out.result_status = field(*rec, "ResultStatus");
  out.workload = field(*rec, "Workload");
  out.object_id = field(*rec, "ObjectId");
  out.record_type = -1;
  if (const json* rt = member(*rec, "RecordType")) {
    if (rt->is_number_integer()) out.record_type = rt->get<int>();
    else if (rt->is_string()) {
      const std::string& s = rt->get_ref<const std::string&>();
      if (!s.empty() && s.size() < 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        out.record_type = std::stoi(s);
    }
  }
  out.parameters.clear();
  if (const json* params = member(*rec, "Parameters")) {
    if (!params->is_array()) return "Parameters is not an array";
    for (const auto& p : *params) {
      if (!p.is_object()) continue;
      out.parameters.push_back({field(p, "Name"), field(p, "Value")});
    }
  }
  out.data = std::move(*rec);
  return {};
}

// ---------------------------------------------------------------------------------------
// CSV: a strict RFC 4180 record parser over text joined from physical lines.
enum class CsvState { complete, incomplete, error };

CsvState parse_csv(std::string_view text, std::vector<std::string>& fields, std::string& reason) {
  fields.clear();
  enum { start, unquoted, quoted, after_quote } st = start;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (st) {
      case start:
        if (c == '"') st = quoted;
        else if (c == ',') fields.emplace_back();
        else { cur.push_back(c); st = unquoted; }
        break;
      case unquoted:
        if (c == ',') { fields.push_back(std::move(cur)); cur.clear(); st = start; }
        else cur.push_back(c);
        break;
      case quoted:
        if (c == '"') st = after_quote;
        else cur.push_back(c);
        break;
      case after_quote:
        if (c == '"') { cur.push_back('"'); st = quoted; }
        else if (c == ',') { fields.push_back(std::move(cur)); cur.clear(); st = start; }
        else {
          reason = "CSV: unexpected character after a closing quote in field " +
                   std::to_string(fields.size() + 1);
          return CsvState::error;
        }
        break;
    }
  }
  if (st == quoted) return CsvState::incomplete;
  fields.push_back(std::move(cur));
  return CsvState::complete;
}

struct Line {
  std::size_t number = 0;
  std::string text;
  bool too_long = false;
};

class Reader {
 public:
  Reader(ByteSource& src, std::string label, const RecordSink& on_record, const DiagSink& on_diag,
         const ReadLimits& limits)
      : src_(src), label_(std::move(label)), on_record_(on_record), on_diag_(on_diag), limits_(limits) {}

  ReadSummary run() {
    skip_bom();
    int c = skip_space();
    if (c < 0) {
      if (src_.read_error()) fatal("read error: " + std::string(std::strerror(errno)));
      else diag(0, "empty file: no audit records", false);
      return summary_;
    }
    if (c == '[') {
      summary_.format = InputFormat::json_array;
      read_json_array();
    } else if (c == '{') {
      summary_.format = InputFormat::jsonl;
      read_jsonl();
    } else {
      read_csv();
    }
    if (src_.read_error()) fatal("read error after line " + std::to_string(line_no_));
    summary_.lines = line_no_;
    return summary_;
  }

 private:
  void diag(std::size_t line, std::string reason, bool warning) {
    Diagnostic d{label_, line, std::move(reason), false, warning};
    if (on_diag_) on_diag_(d);
  }
  void skip(std::size_t line, std::string reason) {
    ++summary_.skipped;
    diag(line, std::move(reason), false);
  }
  void fatal(std::string reason) {
    summary_.fatal = true;
    Diagnostic d{label_, 0, std::move(reason), true, false};
    if (on_diag_) on_diag_(d);
  }
  void deliver(json& j, const Overrides& ov, std::size_t line) {
    AuditRecord rec;
    rec.file = label_;
    rec.line = line;
    rec.format = summary_.format;
    std::string why = normalize(j, ov, rec);
    if (!why.empty()) {
      skip(line, why);
      return;
    }
    ++summary_.records;
    if (on_record_) on_record_(rec);
  }
  void repair(std::string& text, std::size_t line) {
    if (std::size_t n = repair_utf8(text))
      diag(line, std::to_string(n) + " invalid UTF-8 byte sequence(s) replaced with U+FFFD", true);
  }

  void skip_bom() {
    if (src_.peek() == 0xEF) {
      src_.get();
      if (src_.peek() == 0xBB) src_.get();
      if (src_.peek() == 0xBF) src_.get();
    }
  }
  // Skips whitespace (counting lines) and returns the next byte without consuming it.
  int skip_space() {
    for (;;) {
      int c = src_.peek();
      if (c == '\n') { ++line_no_; src_.get(); continue; }
      if (c == ' ' || c == '\t' || c == '\r') { src_.get(); continue; }
      return c;
    }
  }

  // ---- JSON Lines ----
  void read_jsonl() {
    std::string text;
    bool too_long = false;
    while (src_.read_line(text, limits_.max_record_bytes, too_long)) {
      std::size_t line = ++line_no_;
      if (too_long) { skip(line, "line longer than " + std::to_string(limits_.max_record_bytes) + " bytes"); continue; }
      if (trim(text).empty()) continue;
      repair(text, line);
      std::string reason;
      auto j = parse_json(text, reason);
      if (!j) { skip(line, "bad JSON: " + reason); continue; }
      deliver(*j, {}, line);
    }
  }

  // ---- JSON array ----
  void read_json_array() {
    ++line_no_;  // lines are 1-based; skip_space counted the newlines before '['
    src_.get();  // '['
    std::string elem;
    for (;;) {
      // between elements
      int c;
      for (;;) {
        c = src_.get();
        if (c == '\n') ++line_no_;
        else if (c == ' ' || c == '\t' || c == '\r' || c == ',') continue;
        else break;
      }
      if (c < 0) { skip(line_no_, "JSON array not closed at end of file (truncated?)"); return; }
      if (c == ']') return;
      std::size_t start_line = line_no_;
      elem.clear();
      bool too_long = false;
      auto put = [&](int ch) {
        if (too_long) return;
        if (elem.size() >= limits_.max_record_bytes) { too_long = true; elem.clear(); return; }
        elem.push_back(static_cast<char>(ch));
      };
      int depth = 0;
      bool in_string = false, escape = false, done = false, eof = false;
      put(c);
      if (c == '{' || c == '[') depth = 1;
      else if (c == '"') in_string = true;
      while (!done) {
        if (depth == 0 && !in_string) {  // scalar element: read to a delimiter
          int p = src_.peek();
          if (p < 0 || p == ',' || p == ']' || p == '\n' || p == ' ' || p == '\t' || p == '\r') break;
        }
        int ch = src_.get();
        if (ch < 0) { eof = true; break; }
        if (ch == '\n') ++line_no_;
        put(ch);
        if (in_string) {
          if (escape) escape = false;
          else if (ch == '\\') escape = true;
          else if (ch == '"') { in_string = false; if (depth == 0) done = true; }
        } else if (ch == '"') {
          in_string = true;
        } else if (ch == '{' || ch == '[') {
          ++depth;
        } else if (ch == '}' || ch == ']') {
          if (--depth == 0) done = true;
        }
      }
      if (eof && (depth > 0 || in_string)) {
        skip(start_line, "JSON array element not closed at end of file (truncated?)");
        return;
      }
      if (too_long) { skip(start_line, "JSON element longer than " + std::to_string(limits_.max_record_bytes) + " bytes"); continue; }
      repair(elem, start_line);
      std::string reason;
      auto j = parse_json(elem, reason);
      if (!j) { skip(start_line, "bad JSON: " + reason); continue; }
      deliver(*j, {}, start_line);
      if (eof) { skip(line_no_, "JSON array not closed at end of file (truncated?)"); return; }
    }
  }

  // ---- CSV ----
  bool next_line(Line& out) {
    if (!pending_.empty()) {
      out = std::move(pending_.front());
      pending_.pop_front();
      return true;
    }
    if (!src_.read_line(out.text, limits_.max_record_bytes, out.too_long)) return false;
    out.number = ++line_no_;
    if (!out.too_long) repair(out.text, out.number);
    return true;
  }

  void read_csv() {
    Line header;
    if (!next_line(header) || header.too_long) { fatal("not an audit export: unreadable first line"); return; }
    std::vector<std::string> cols;
    std::string reason;
    if (parse_csv(header.text, cols, reason) != CsvState::complete) {
      fatal("not an audit export: first line is neither JSON nor a CSV header");
      return;
    }
    auto find = [&](std::string_view name) -> int {
      for (std::size_t i = 0; i < cols.size(); ++i)
        if (iequals(trim(cols[i]), name)) return static_cast<int>(i);
      return -1;
    };
    int audit_data = find("AuditData"), raw = find("RawEventData");
    if (audit_data >= 0) {
      summary_.format = InputFormat::purview_csv;
    } else if (raw >= 0 && find("ActionType") >= 0) {
      summary_.format = InputFormat::cloudapp_csv;
    } else {
      fatal("not an audit export: CSV header names neither AuditData nor ActionType+RawEventData");
      return;
    }
    const int c_time = summary_.format == InputFormat::purview_csv ? find("CreationDate") : find("Timestamp");
    const int c_op = summary_.format == InputFormat::purview_csv
                         ? std::max(find("Operations"), find("Operation"))
                         : find("ActionType");
    const int c_user = summary_.format == InputFormat::purview_csv
                           ? std::max(find("UserIds"), find("UserId"))
                           : std::max(find("AccountDisplayName"), find("AccountObjectId"));
    const int c_ip = find("IPAddress"), c_ua = find("UserAgent");
    const int c_json = summary_.format == InputFormat::purview_csv ? audit_data : raw;

    std::vector<Line> used;
    std::vector<std::string> fields;
    Line line;
    while (next_line(line)) {
      if (line.too_long) { skip(line.number, "line longer than " + std::to_string(limits_.max_record_bytes) + " bytes"); continue; }
      if (trim(line.text).empty()) continue;
      used.clear();
      std::string text = line.text;
      used.push_back(std::move(line));
      std::string fail;
      for (;;) {
        CsvState st = parse_csv(text, fields, reason);
        if (st == CsvState::complete) break;
        if (st == CsvState::error) {
          fail = used.size() == 1 ? reason
                                  : "CSV: quoted field not closed at the end of the line (truncated row?): it runs into line " +
                                        std::to_string(used.back().number) + " and breaks there";
          break;
        }
        Line more;
        if (used.size() >= limits_.max_record_lines || text.size() >= limits_.max_record_bytes) {
          fail = "CSV: quoted field not closed within " + std::to_string(used.size()) + " lines";
          break;
        }
        if (!next_line(more)) { fail = "CSV: quoted field not closed at end of file (truncated row?)"; break; }
        if (more.too_long) { pending_.push_front(std::move(more)); fail = "CSV: quoted field not closed before an oversized line"; break; }
        text += '\n';
        text += more.text;
        used.push_back(std::move(more));
      }
      if (fail.empty() && fields.size() != cols.size())
        fail = "CSV: " + std::to_string(fields.size()) + " columns, header has " + std::to_string(cols.size());
      std::optional<json> j;
      if (fail.empty()) {
        const std::string& jt = fields[static_cast<std::size_t>(c_json)];
        std::string why;
        if (trim(jt).empty()) fail = std::string(summary_.format == InputFormat::purview_csv ? "AuditData" : "RawEventData") + " is empty";
        else if (!(j = parse_json(jt, why)))
          fail = std::string(summary_.format == InputFormat::purview_csv ? "AuditData" : "RawEventData") + " is not valid JSON: " + why;
      }
      const std::size_t start = used.front().number;
      if (!fail.empty()) {
        skip(start, fail);
        // the lines after the first may be good rows swallowed by an unclosed quote
        for (std::size_t i = used.size(); i-- > 1;) pending_.push_front(std::move(used[i]));
        continue;
      }
      auto col = [&](int i) { return i >= 0 ? fields[static_cast<std::size_t>(i)] : std::string(); };
      Overrides ov;
      ov.time = col(c_time);
      ov.operation = col(c_op);
      ov.user = col(c_user);
      if (summary_.format == InputFormat::cloudapp_csv) {
        ov.operation_wins = true;
        ov.client_ip = col(c_ip);
        ov.user_agent = col(c_ua);
      }
      deliver_csv(*j, ov, start);
    }
  }

  void deliver_csv(json& j, const Overrides& ov, std::size_t line) {
    AuditRecord rec;
    rec.file = label_;
    rec.line = line;
    rec.format = summary_.format;
    // In a CSV the JSON column is the record itself (never a wrapper).
    std::string why;
    if (!j.is_object()) why = "JSON column is not an object";
    else why = normalize_plain(j, ov, rec);
    if (!why.empty()) { skip(line, why); return; }
    ++summary_.records;
    if (on_record_) on_record_(rec);
  }
  static std::string normalize_plain(json& j, const Overrides& ov, AuditRecord& rec) {
    // A CSV's JSON column is the record itself: a member named AuditData / RawEventData in it
    // is data, not a wrapper.
    for (auto it = j.begin(); it != j.end();) {
      if (iequals(it.key(), "AuditData") || iequals(it.key(), "RawEventData")) it = j.erase(it);
      else ++it;
    }
    return normalize(j, ov, rec);
  }

  ByteSource& src_;
  std::string label_;
  const RecordSink& on_record_;
  const DiagSink& on_diag_;
  ReadLimits limits_;
  ReadSummary summary_;
  std::size_t line_no_ = 0;
  std::deque<Line> pending_;
};


}  // namespace

std::string_view to_string(InputFormat f) {
  switch (f) {
    case InputFormat::purview_csv: return "purview-csv";
    case InputFormat::cloudapp_csv: return "cloudappevents-csv";
    case InputFormat::json_array: return "json";
    case InputFormat::jsonl: return "jsonl";
    case InputFormat::unknown: break;
  }
  return "unknown";
}

const AuditParam* AuditRecord::param(std::string_view name) const {
  for (const auto& p : parameters)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::string Diagnostic::to_string() const {
  std::string s = file;
  if (line) s += ":" + std::to_string(line);
  s += ": ";
  s += reason;
  return s;
}

bool parse_time(std::string_view t, std::int64_t& epoch) {
  t = trim(t);
  auto num = [&](std::size_t pos, std::size_t len, int& v) {
    if (pos + len > t.size()) return false;
    v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, y) || t.size() < 19 || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' ||
      !num(8, 2, d) || (t[10] != 'T' && t[10] != ' ') || !num(11, 2, h) || t[13] != ':' ||
      !num(14, 2, mi) || t[16] != ':' || !num(17, 2, s))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  }
  std::int64_t offset = 0;
  if (i < t.size()) {
    if (t[i] == 'Z' || t[i] == 'z') {
      ++i;
    } else if (t[i] == '+' || t[i] == '-') {
      int oh, om;
      if (!num(i + 1, 2, oh) || i + 3 >= t.size() || t[i + 3] != ':' || !num(i + 4, 2, om)) return false;
      offset = (oh * 3600 + om * 60) * (t[i] == '+' ? 1 : -1);
      i += 6;
    }
  }
  if (i != t.size()) return false;
  epoch = mime::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
          mi * 60 + s - offset;
  return true;
}

std::string format_time(std::int64_t epoch) {
  std::int64_t days = epoch >= 0 ? epoch / 86400 : (epoch - 86399) / 86400;
  std::int64_t secs = epoch - days * 86400;
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

std::size_t repair_utf8(std::string& s) {
  std::size_t bad = 0;
  std::string out;
  bool copying = false;
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) ok = false;
    if (ok && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) ok = false;  // overlong, surrogate
    } else if (ok && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) ok = false;
    }
    if (ok) {
      if (copying) out.append(s, i, len);
      i += len;
      continue;
    }
    if (!copying) {
      out.assign(s, 0, i);
      copying = true;
    }
    out += "\xEF\xBF\xBD";
    ++bad;
    ++i;
  }
  if (copying) s = std::move(out);
  return bad;
}

ReadSummary read_audit_buffer(std::string_view bytes, const std::string& label,
                              const RecordSink& on_record, const DiagSink& on_diag,
                              const ReadLimits& limits) {
  ByteSource src(bytes);
  return Reader(src, label, on_record, on_diag, limits).run();
}

ReadSummary read_audit_file(const std::string& path, const RecordSink& on_record,
                            const DiagSink& on_diag, const ReadLimits& limits) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    ReadSummary s;
    s.fatal = true;
    if (on_diag) on_diag({path, 0, std::string("cannot open: ") + std::strerror(errno), true, false});
    return s;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, path == "-" ? [](std::FILE*) { return 0; } : &std::fclose);
  ByteSource src(f);
  return Reader(src, path, on_record, on_diag, limits).run();
}

}  // namespace hdrscan::scanner::audit
