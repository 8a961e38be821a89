// audit_join.cpp: `hdrscan waves --audit AUDIT.jsonl`: the message-to-audit correlation. The
// tenant objects of `hdrscan audit --format jsonl` (docs/audit.md section 5) are read, and a
// wave is joined to an audit tenant when one of its tenants has that tenant id, or one of its
// connector IPs is allowed by one of that tenant's connectors (the audit names what the
// attacker configured; the mail shows who connected). Other object types are passed over.
// Diagnostics: a line that is not JSON, or a tenant object without its keys, becomes
// "FILE:LINE: reason" in `errors`; an unreadable file "FILE: reason".
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

using nlohmann::json;

std::vector<std::string> strings(const json& o, const char* key) {
  std::vector<std::string> v;
  if (const auto it = o.find(key); it != o.end() && it->is_array())
    for (const auto& x : *it)
      if (x.is_string()) v.push_back(x.get<std::string>());
  return v;
}

std::string str(const json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool flag(const json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

bool read_audit(const std::string& path, std::vector<AuditTenant>& out,
                std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(path + ": " + std::strerror(errno));
    return false;
  }
  std::string line;
  std::uint64_t n = 0;
  bool ok = true;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json j = json::parse(line, nullptr, false);
    const std::string where = path + ":" + std::to_string(n);
    if (j.is_discarded() || !j.is_object()) {
      errors.push_back(where + ": not a JSON object (truncated or damaged line)");
      ok = false;
      continue;
    }
    if (str(j, "schema") != "hdrscan.audit/1") {
      errors.push_back(where + ": schema " + str(j, "schema") + ", expected hdrscan.audit/1");
      ok = false;
      continue;
    }
    if (str(j, "type") != "tenant") continue;
    AuditTenant t;
    t.tenant = str(j, "tenant");
    t.domain = str(j, "domain");
    t.source = where;
    if (t.tenant.empty() || !j.contains("connectors")) {
      errors.push_back(where + ": tenant object without `tenant` or `connectors`");
      ok = false;
      continue;
    }
    for (const auto& c : j.value("connectors", json::array()))
      if (c.is_object())
        t.connectors.push_back({str(c, "name"), flag(c, "suspect"), strings(c, "ips")});
    for (const auto& r : j.value("transport_rules", json::array()))
      if (r.is_object())
        t.rules.push_back({str(r, "name"), flag(r, "suspect"), strings(r, "headers")});
    for (const auto& a : j.value("apps", json::array()))
      if (a.is_object()) t.apps.push_back({str(a, "app"), str(a, "role"), flag(a, "suspect")});
    out.push_back(std::move(t));
  }
  if (in.bad()) {
    errors.push_back(path + ": read error");
    ok = false;
  }
  return ok;
}

std::vector<AuditMatch> join_audit(const std::vector<Wave>& waves,
                                   const std::vector<AuditTenant>& audit) {
  std::vector<AuditMatch> out;
  for (std::size_t w = 0; w < waves.size(); ++w) {
    for (std::size_t t = 0; t < audit.size(); ++t) {
      std::string why;
      for (const auto& c : waves[w].tenants)
        if (!c.value.empty() && c.value == audit[t].tenant) why = "tenant id";
      if (why.empty())
        for (const auto& ip : waves[w].connector_ips)
          for (const auto& con : audit[t].connectors)
            for (const auto& a : con.ips)
              if (why.empty() && a == ip.value) why = "connector IP " + ip.value;
      if (!why.empty()) out.push_back({w, t, why});
    }
  }
  return out;
}

}  // namespace hdrscan::scanner
