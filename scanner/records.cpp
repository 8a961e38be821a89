// records.cpp: a scan record (JSONL line) back into a value (records.hpp).
#include "scanner/records.hpp"

#include <nlohmann/json.hpp>

#include "mime/fields/fields.hpp"
#include "scanner/printers.hpp"

namespace hdrscan::scanner {
namespace {

using nlohmann::json;

struct Bad {
  std::string why;
};

const json& need(const json& o, const char* key, json::value_t type) {
  const auto it = o.find(key);
  if (it == o.end()) throw Bad{std::string("missing field `") + key + "`"};
  const bool ok = it->type() == type || (type == json::value_t::number_integer &&
                                         it->type() == json::value_t::number_unsigned);
  if (!ok) throw Bad{std::string("field `") + key + "` has the wrong type"};
  return *it;
}

std::string str(const json& o, const char* key) {
  return need(o, key, json::value_t::string).get<std::string>();
}

std::string str_or_null(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) throw Bad{std::string("missing field `") + key + "`"};
  if (it->is_null()) return {};
  if (!it->is_string()) throw Bad{std::string("field `") + key + "` has the wrong type"};
  return it->get<std::string>();
}

std::optional<std::uint64_t> uint_or_null(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) throw Bad{std::string("missing field `") + key + "`"};
  if (it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) throw Bad{std::string("field `") + key + "` has the wrong type"};
  return it->get<std::uint64_t>();
}

std::vector<std::string> strings(const json& o, const char* key) {
  std::vector<std::string> out;
  for (const auto& v : need(o, key, json::value_t::array)) {
    if (!v.is_string()) throw Bad{std::string("field `") + key + "` holds a non-string"};
    out.push_back(v.get<std::string>());
  }
  return out;
}

void read_grouping(const json& g, ReadRecord& r) {
  r.has_grouping = true;
  const std::string t = str_or_null(g, "time");
  if (!t.empty()) {
    r.time = parse_iso_utc(t);
    if (!r.time) throw Bad{"field `grouping.time` is not an ISO 8601 UTC time"};
  }
  r.time_source = str_or_null(g, "time_source");
  r.envelope_domain = str(g, "envelope_domain");
  r.from_domain = str(g, "from_domain");
  r.url_hosts = strings(g, "url_hosts");
  r.url_domains = strings(g, "url_domains");
  r.subject = str(g, "subject");
  const json& tp = need(g, "template", json::value_t::object);
  const std::string h = str(tp, "simhash");
  if (h.size() != 16 || h.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Bad{"field `grouping.template.simhash` is not 16 hex digits"};
  r.template_hash = std::stoull(h, nullptr, 16);
  r.template_shingles = need(tp, "shingles", json::value_t::number_unsigned).get<std::size_t>();
  if (g.contains("urls")) r.urls = strings(g, "urls");
  if (const auto it = g.find("recipients"); it != g.end() && !it->is_null()) {
    if (!it->is_object()) throw Bad{"field `recipients` has the wrong type"};
    r.recipient_domains = strings(*it, "domains");
    if (const auto a = it->find("addresses"); a != it->end() && !a->is_null())
      r.recipients = strings(*it, "addresses");
    if (const auto fr = it->find("from_is_recipient"); fr != it->end()) {
      if (!fr->is_boolean()) throw Bad{"field `from_is_recipient` has the wrong type"};
      r.from_is_recipient = fr->get<bool>();
    }
  }
}

}  // namespace

std::optional<std::int64_t> parse_iso_utc(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ exactly (what iso_utc writes)
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z')
    return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
             se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *se > 60)
    return std::nullopt;
  return mime::days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400 +
         *h * 3600 + *mi * 60 + *se;
}

std::optional<ReadRecord> parse_scan_record(std::string_view line, std::string& error) {
  if (line.size() > kMaxRecordLine) {
    error = "record longer than " + std::to_string(kMaxRecordLine) + " bytes";
    return std::nullopt;
  }
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = "not JSON (truncated or damaged line)";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  try {
    const auto sch = j.find("schema");
    if (sch == j.end() || !sch->is_string()) throw Bad{"no `schema`: not an hdrscan scan record"};
    if (*sch != kScanSchema)
      throw Bad{"schema " + sch->get<std::string>() + ", expected " + std::string(kScanSchema)};
    ReadRecord r;
    r.seq = need(j, "seq", json::value_t::number_unsigned).get<std::uint64_t>();
    const json& src = need(j, "source", json::value_t::object);
    r.where.path = str(src, "path");
    r.where.index = uint_or_null(src, "index");
    r.where.offset = uint_or_null(src, "offset");
    r.where.member = str_or_null(src, "member");
    r.where.folder = str_or_null(src, "folder");
    r.sha256 = str(j, "sha256");
    r.from = str(j, "from");
    r.verdict = str(j, "verdict");
    if (const auto it = j.find("score"); it != j.end() && it->is_number_integer())
      r.score = it->get<int>();
    for (const auto& e : need(j, "evidence", json::value_t::array)) {
      if (!e.is_object()) throw Bad{"an `evidence` entry is not an object"};
      r.evidence.push_back(
          {str(e, "signal"), need(e, "weight", json::value_t::number_integer).get<int>()});
    }
    if (const auto it = j.find("connection"); it != j.end() && it->is_object()) {
      RecordConnection c;
      c.ip = str(*it, "ip");
      c.helo = str(*it, "helo");
      c.tenant_id = str(*it, "tenant_id");
      c.source = str(*it, "source");
      if (it->contains("tenant_name")) c.tenant_name = str(*it, "tenant_name");
      r.connection = std::move(c);
    }
    if (const auto it = j.find("grouping"); it != j.end() && it->is_object()) read_grouping(*it, r);
    return r;
  } catch (const Bad& b) {
    error = b.why;
  } catch (const std::exception& e) {  // a number out of range and the like
    error = std::string("bad record: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace hdrscan::scanner
