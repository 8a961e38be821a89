// misp.cpp: waves as one MISP event in MISP's core JSON format (docs/waves.md, "MISP").
//
// Per wave: an `ip-port` object per connector IP (ip-src, to_ids true: the IP a receiver
// blocks; first-seen/last-seen; the message count in text), a `domain-ip` object per URL
// registrable domain that is not a shared service (domain to_ids true, the hosts seen in text),
// a `url` object per listed URL (url, to_ids only as sharing.cpp decides: seen in two or more
// messages, nothing redacted; the campaign's per-message dynamic URLs are context, not IDS
// material; host or ip to_ids false, the why in text), one `email` object with the From
// addresses (email-src, to_ids true) and the lure subjects (email-subject, to_ids false:
// subjects vary and collide with legitimate mail), and with --include-recipients the
// recipient addresses (`to`, email-dst, to_ids false: victims). The abused tenants are event
// attributes with to_ids false (they are victims: a receiver must not block a tenant's
// domain). The TLP word is the event's tag (`tlp:clear` for white, as MISP's taxonomy names
// it now). Recipients are never exported without --include-recipients, bodies never.
// Ids: UUIDv5 over content (as in stix.cpp); `date` and `timestamp` come from the waves, not
// the clock, so the same records give the same bytes.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mime/fields/features.hpp"
#include "mime/net.hpp"
#include "scanner/printers.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kMispNs = "15067226-1095-5c23-a5dd-390d0fe14e9e";

// Template uuids and versions of ../shared/standards/misp/objects (misp-objects @ 54538c6).
struct Template {
  const char* name;
  const char* uuid;
  const char* version;
};
constexpr Template kIpPort{"ip-port", "9f8cea74-16fe-4968-a2b4-026676949ac6", "10"};
constexpr Template kDomainIp{"domain-ip", "43b3b146-77eb-4931-b4cc-b66c60f28734", "11"};
constexpr Template kEmail{"email", "a0c666e0-fc65-4be8-b48f-3423d788b552", "19"};
constexpr Template kUrl{"url", "60efb77b-40b5-4c46-871b-ed1ed999fce5", "10"};

const char* tlp_tag(Tlp t) {
  switch (t) {
    case Tlp::white:
      return "tlp:clear";
    case Tlp::green:
      return "tlp:green";
    case Tlp::red:
      return "tlp:red";
    case Tlp::amber:
      break;
  }
  return "tlp:amber";
}

ojson attribute(const std::string& owner, const char* relation, const char* type,
                const char* category, const std::string& value, bool to_ids) {
  ojson a = {{"uuid", uuid5(kMispNs, owner + "/" + relation + "=" + value)},
             {"type", type},
             {"category", category},
             {"to_ids", to_ids},
             {"value", value}};
  if (relation[0]) a["object_relation"] = relation;
  a["disable_correlation"] = !to_ids;
  return a;
}

ojson object(const Template& t, const std::string& key, const std::string& comment) {
  return {{"name", t.name},
          {"meta-category", "network"},
          {"template_uuid", t.uuid},
          {"template_version", t.version},
          {"uuid", uuid5(kMispNs, std::string(t.name) + ":" + key)},
          {"distribution", "5"},
          {"comment", comment},
          {"Attribute", ojson::array()}};
}

std::string when(const std::optional<std::int64_t>& t) { return t ? iso_utc(*t) : std::string(); }

void seen(ojson& o, const std::string& key, const Wave& w) {
  if (w.first_seen)
    o["Attribute"].push_back(
        attribute(key, "first-seen", "datetime", "Other", when(w.first_seen), false));
  if (w.last_seen)
    o["Attribute"].push_back(
        attribute(key, "last-seen", "datetime", "Other", when(w.last_seen), false));
}

}  // namespace

std::string render_misp(const WavesRun& run, Tlp tlp) {
  std::string wave_ids;
  std::optional<std::int64_t> first, last;
  std::size_t messages = 0;
  for (const auto& w : run.waves) {
    wave_ids += w.id + " ";
    messages += w.members.size();
    if (w.first_seen && (!first || *w.first_seen < *first)) first = w.first_seen;
    if (w.last_seen && (!last || *w.last_seen > *last)) last = w.last_seen;
  }
  ojson attributes = ojson::array();
  ojson objects = ojson::array();
  for (const Wave& w : run.waves) {
    const std::string of = "hdrscan wave " + w.id;
    for (const auto& t : w.tenants) {
      const std::string c = of + ": abused (victim) tenant, " + std::to_string(t.messages) +
                            " messages; not an indicator";
      ojson id = attribute(of, "", "text", "Other", "Microsoft 365 tenant id " + t.value, false);
      id["comment"] = c;
      attributes.push_back(std::move(id));
      if (!t.extra.empty()) {
        ojson d = attribute(of, "", "domain", "Network activity", t.extra, false);
        d["comment"] = c;
        attributes.push_back(std::move(d));
      }
    }
    for (const auto& ip : w.connector_ips) {
      const auto a = mime::parse_ip(ip.value);
      if (!a || a->is_private()) continue;
      const std::string key = w.id + "/ip/" + a->to_string();
      ojson o = object(kIpPort, key, of + ": connector IP into the tenant");
      o["Attribute"].push_back(
          attribute(key, "ip-src", "ip-src", "Network activity", a->to_string(), true));
      seen(o, key, w);
      o["Attribute"].push_back(attribute(key, "text", "text", "Other",
                                         fmt::format("{} messages of {}", ip.messages, of), false));
      objects.push_back(std::move(o));
    }
    for (const auto& d : w.url_domains) {
      if (shared_service(run, d.value)) continue;
      const std::string key = w.id + "/domain/" + d.value;
      ojson o = object(kDomainIp, key, of + ": URL domain in the message bodies");
      o["Attribute"].push_back(
          attribute(key, "domain", "domain", "Network activity", d.value, true));
      seen(o, key, w);
      std::string hosts;
      for (const auto& h : w.url_hosts)
        if (h.value == d.value ||
            (h.value.size() > d.value.size() &&
             h.value.compare(h.value.size() - d.value.size(), d.value.size(), d.value) == 0 &&
             h.value[h.value.size() - d.value.size() - 1] == '.'))
          hosts += (hosts.empty() ? "" : ", ") + h.value;
      o["Attribute"].push_back(attribute(key, "text", "text", "Other",
                                         fmt::format("{} messages of {}{}", d.messages, of,
                                                     hosts.empty() ? "" : "; hosts: " + hosts),
                                         false));
      objects.push_back(std::move(o));
    }
    for (const auto& u : w.urls) {
      if (shared_service(run, url_domain(u.value))) continue;
      const std::string key = w.id + "/url/" + u.value;
      ojson o = object(kUrl, key, of + ": URL in the message bodies");
      o["Attribute"].push_back(
          attribute(key, "url", "url", "Network activity", u.value, url_for_ids(run, u)));
      const std::string host = mime::url_host(u.value);
      if (const auto ip = mime::parse_ip(host))
        o["Attribute"].push_back(
            attribute(key, "ip", "ip-dst", "Network activity", ip->to_string(), false));
      else if (!host.empty())
        o["Attribute"].push_back(attribute(key, "host", "hostname", "Network activity", host, false));
      o["Attribute"].push_back(attribute(
          key, "text", "text", "Other",
          fmt::format("{} message{} of {}: {}", u.messages, u.messages == 1 ? "" : "s", of,
                      url_note(run, u)),
          false));
      objects.push_back(std::move(o));
    }
    const bool to = run.include_recipients && !w.recipients.empty();
    if (!w.from_addresses.empty() || !w.subjects.empty() || to) {
      const std::string key = w.id + "/email";
      ojson o = object(kEmail, key,
                       of + (to ? ": sender addresses, lure subjects and recipients"
                                : ": sender addresses and lure subjects"));
      for (const auto& f : w.from_addresses)
        o["Attribute"].push_back(
            attribute(key, "from", "email-src", "Payload delivery", f.value, true));
      for (const auto& s : w.subjects)
        o["Attribute"].push_back(attribute(key, "subject", "email-subject", "Payload delivery",
                                           clean_text(s.value, 500), false));
      if (to)
        for (const auto& r : w.recipients)
          o["Attribute"].push_back(
              attribute(key, "to", "email-dst", "Payload delivery", r.value, false));
      objects.push_back(std::move(o));
    }
  }
  std::string date = first ? iso_utc(*first).substr(0, 10) : std::string("1970-01-01");
  ojson event = {
      {"uuid", uuid5(kMispNs, "event:" + std::string(tlp_tag(tlp)) + ":" + wave_ids)},
      {"info", fmt::format("hdrscan waves: {} wave{}, {} messages relayed through "
                           "Exchange Online tenants",
                           run.waves.size(), run.waves.size() == 1 ? "" : "s", messages)},
      {"date", date},
      {"threat_level_id", "2"},
      {"analysis", "2"},
      {"distribution", "0"},
      {"published", false},
      {"timestamp", std::to_string(last.value_or(0))},
      {"Tag", ojson::array({{{"name", tlp_tag(tlp)}}})},
      {"Attribute", attributes},
      {"Object", objects}};
  ojson doc = {{"Event", event}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hdrscan::scanner
