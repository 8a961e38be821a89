// stix.cpp: waves as a STIX 2.1 bundle (docs/waves.md, "STIX 2.1").
//
// Objects: an `identity` for the producer (hdrscan), the TLP `marking-definition` STIX 2.1
// predefines (its fixed id and content), per wave a `campaign` (first/last seen, the abused
// tenants and counts in its description), `indicator`s with STIX patterns for what a receiver
// can block (connector IPs: ipv4-addr/ipv6-addr; URL registrable domains that are not shared
// services: domain-name; URLs seen in two or more messages of a wave, nothing redacted: url,
// as sharing.cpp decides; From addresses: email-message:from_ref.value), each `indicates` the
// campaign (`relationship`), and a `sighting` per indicator and wave with the message count
// and first/last seen.
// With --include-recipients (and records that carry them), per wave and listed recipient an
// `email-addr`, an `email-message` whose `to_refs` names it, and an `observed-data` holding
// both (number_observed: that recipient's messages), and a `sighting` of the campaign that
// points at them (observed_data_refs); without it no recipient address is written.
// Not exported: the abused tenants as indicators (they are victims: named in the description
// only), the per-message dynamic URLs (no indicator matches them again), bodies.
// Ids are UUIDv5 over content (namespace kHdrscanNs): an indicator's over its pattern, a
// campaign's over the wave id, so a re-run gives the same ids and a TIP merges instead of
// duplicating; an email-addr's is STIX's deterministic id (kStixScoNs over {"value":...}).
// Timestamps come from the waves (created = first seen, modified = last seen), never from
// the clock, so the same records give the same bytes.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "mime/net.hpp"
#include "scanner/printers.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kHdrscanNs =
    "15067226-1095-5c23-a5dd-390d0fe14e9e";  // uuid5(URL, urn:hdrscan:waves)
constexpr std::string_view kStixScoNs =
    "00abedb4-aa42-466c-9c01-fed23315a9b7";  // STIX 2.1 section 2.9: deterministic SCO ids
constexpr std::string_view kEpoch = "1970-01-01T00:00:00.000Z";

struct TlpDef {
  const char* id;
  const char* name;
  const char* word;
};

// STIX 2.1 section 7.2.1.4: the predefined TLP marking definitions.
TlpDef tlp_def(Tlp t) {
  switch (t) {
    case Tlp::white:
      return {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"};
    case Tlp::green:
      return {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"};
    case Tlp::red:
      return {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"};
    case Tlp::amber:
      break;
  }
  return {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"};
}

std::string stamp(const std::optional<std::int64_t>& t) {
  if (!t) return std::string(kEpoch);
  std::string s = iso_utc(*t);  // ...SSZ
  s.insert(s.size() - 1, ".000");
  return s;
}

// A STIX pattern string literal: ' and \ escaped.
std::string literal(std::string_view v) {
  std::string o = "'";
  for (const char c : v) {
    if (c == '\'' || c == '\\') o += '\\';
    o += c;
  }
  return o + "'";
}

struct Ioc {
  std::string pattern, name, kind;
  std::optional<std::int64_t> first, last;
  std::vector<std::pair<std::size_t, std::size_t>> waves;  // wave index, messages
};

}  // namespace

std::string uuid5(std::string_view ns, std::string_view name) {
  unsigned char bytes[16] = {};
  std::size_t k = 0;
  for (std::size_t i = 0; i < ns.size() && k < 32; ++i) {
    const char c = ns[i];
    if (c == '-') continue;
    const int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c - 'A' + 10;
    bytes[k / 2] = static_cast<unsigned char>(bytes[k / 2] | (k % 2 ? v : v << 4));
    ++k;
  }
  std::string data(reinterpret_cast<const char*>(bytes), 16);
  data.append(name);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string render_stix(const WavesRun& run, Tlp tlp) {
  const TlpDef def = tlp_def(tlp);
  const std::string identity = "identity--" + uuid5(kHdrscanNs, "identity:hdrscan");
  ojson objects = ojson::array();
  objects.push_back({{"type", "marking-definition"},
                     {"spec_version", "2.1"},
                     {"id", def.id},
                     {"created", "2017-01-20T00:00:00.000Z"},
                     {"definition_type", "tlp"},
                     {"name", def.name},
                     {"definition", {{"tlp", def.word}}}});
  const ojson marks = ojson::array({def.id});
  objects.push_back({{"type", "identity"},
                     {"spec_version", "2.1"},
                     {"id", identity},
                     {"created", kEpoch},
                     {"modified", kEpoch},
                     {"name", "hdrscan"},
                     {"description",
                      "hdrscan waves: campaign waves grouped from email header "
                      "forensics (Exchange Online connector relay)"},
                     {"identity_class", "system"},
                     {"object_marking_refs", marks}});

  std::map<std::string, Ioc> iocs;  // by pattern: one indicator for every wave it occurs in
  auto add = [&](std::size_t wi, const Wave& w, std::string pattern, std::string name,
                 const char* kind, std::size_t messages) {
    Ioc& i = iocs[pattern];
    i.pattern = std::move(pattern);
    i.name = std::move(name);
    i.kind = kind;
    if (w.first_seen && (!i.first || *w.first_seen < *i.first)) i.first = w.first_seen;
    if (w.last_seen && (!i.last || *w.last_seen > *i.last)) i.last = w.last_seen;
    i.waves.emplace_back(wi, messages);
  };
  std::vector<std::string> campaigns;
  for (std::size_t wi = 0; wi < run.waves.size(); ++wi) {
    const Wave& w = run.waves[wi];
    const std::string cid = "campaign--" + uuid5(kHdrscanNs, "campaign:" + w.id);
    campaigns.push_back(cid);
    std::string desc =
        fmt::format("{} messages relayed through Exchange Online tenants", w.members.size());
    std::string tenants;
    for (const auto& t : w.tenants)
      tenants += fmt::format("{}{}{} ({} messages)", tenants.empty() ? "" : ", ", t.value,
                             t.extra.empty() ? "" : " " + t.extra, t.messages);
    if (!tenants.empty()) desc += "; abused tenants (victims, not indicators): " + tenants;
    if (!w.subjects.empty()) desc += "; lure subject: " + clean_text(w.subjects.front().value, 200);
    ojson c = {{"type", "campaign"},
               {"spec_version", "2.1"},
               {"id", cid},
               {"created_by_ref", identity},
               {"created", stamp(w.first_seen)},
               {"modified", stamp(w.last_seen ? w.last_seen : w.first_seen)},
               {"name", "hdrscan wave " + w.id},
               {"description", desc},
               {"object_marking_refs", marks}};
    if (w.first_seen) c["first_seen"] = stamp(w.first_seen);
    if (w.last_seen) c["last_seen"] = stamp(w.last_seen);
    objects.push_back(std::move(c));
    for (const auto& ip : w.connector_ips) {
      const auto a = mime::parse_ip(ip.value);
      if (!a || a->is_private()) continue;
      add(wi, w,
          fmt::format("[{}:value = {}]", a->v6 ? "ipv6-addr" : "ipv4-addr",
                      literal(a->to_string())),
          "connector IP " + a->to_string(), "ip", ip.messages);
    }
    for (const auto& d : w.url_domains)
      if (!shared_service(run, d.value))
        add(wi, w, "[domain-name:value = " + literal(d.value) + "]", "URL domain " + d.value,
            "url", d.messages);
    for (const auto& u : w.urls)
      if (url_for_ids(run, u))
        add(wi, w, "[url:value = " + literal(u.value) + "]", "URL " + clean_text(u.value, 200),
            "full-url", u.messages);
    for (const auto& f : w.from_addresses)
      add(wi, w, "[email-message:from_ref.value = " + literal(f.value) + "]", "From " + f.value,
          "from", f.messages);
  }
  for (const auto& [pattern, i] : iocs) {
    const std::string iid = "indicator--" + uuid5(kHdrscanNs, "indicator:" + pattern);
    objects.push_back({{"type", "indicator"},
                       {"spec_version", "2.1"},
                       {"id", iid},
                       {"created_by_ref", identity},
                       {"created", stamp(i.first)},
                       {"modified", stamp(i.last ? i.last : i.first)},
                       {"name", i.name},
                       {"indicator_types", ojson::array({"malicious-activity"})},
                       {"pattern", i.pattern},
                       {"pattern_type", "stix"},
                       {"pattern_version", "2.1"},
                       {"valid_from", stamp(i.first)},
                       {"labels", ojson::array({"hdrscan-" + i.kind})},
                       {"object_marking_refs", marks}});
    for (const auto& [wi, messages] : i.waves) {
      const Wave& w = run.waves[wi];
      const std::string& cid = campaigns[wi];
      objects.push_back({{"type", "relationship"},
                         {"spec_version", "2.1"},
                         {"id", "relationship--" + uuid5(kHdrscanNs, iid + " indicates " + cid)},
                         {"created_by_ref", identity},
                         {"created", stamp(w.first_seen)},
                         {"modified", stamp(w.last_seen ? w.last_seen : w.first_seen)},
                         {"relationship_type", "indicates"},
                         {"source_ref", iid},
                         {"target_ref", cid},
                         {"object_marking_refs", marks}});
      ojson s = {{"type", "sighting"},
                 {"spec_version", "2.1"},
                 {"id", "sighting--" + uuid5(kHdrscanNs, iid + " sighted in " + w.id)},
                 {"created_by_ref", identity},
                 {"created", stamp(w.first_seen)},
                 {"modified", stamp(w.last_seen ? w.last_seen : w.first_seen)},
                 {"count", messages},
                 {"sighting_of_ref", iid},
                 {"where_sighted_refs", ojson::array({identity})},
                 {"description", "messages of hdrscan wave " + w.id},
                 {"object_marking_refs", marks}};
      if (w.first_seen) s["first_seen"] = stamp(w.first_seen);
      if (w.last_seen) s["last_seen"] = stamp(w.last_seen);
      objects.push_back(std::move(s));
    }
  }
  std::set<std::string> addresses;  // email-addr objects written (one per address)
  if (run.include_recipients)
    for (std::size_t wi = 0; wi < run.waves.size(); ++wi) {
      const Wave& w = run.waves[wi];
      if (w.recipients.empty()) continue;
      const std::string created = stamp(w.first_seen);
      const std::string modified = stamp(w.last_seen ? w.last_seen : w.first_seen);
      ojson observed = ojson::array();
      for (const auto& r : w.recipients) {
        const std::string addr =
            "email-addr--" + uuid5(kStixScoNs, ojson({{"value", r.value}}).dump());
        const std::string msg =
            "email-message--" + uuid5(kHdrscanNs, "email-message:" + w.id + " to " + r.value);
        const std::string od =
            "observed-data--" + uuid5(kHdrscanNs, "observed-data:" + w.id + " to " + r.value);
        if (addresses.insert(addr).second)
          objects.push_back({{"type", "email-addr"},
                             {"spec_version", "2.1"},
                             {"id", addr},
                             {"value", r.value},
                             {"object_marking_refs", marks}});
        objects.push_back({{"type", "email-message"},
                           {"spec_version", "2.1"},
                           {"id", msg},
                           {"is_multipart", false},
                           {"to_refs", ojson::array({addr})},
                           {"object_marking_refs", marks}});
        objects.push_back({{"type", "observed-data"},
                           {"spec_version", "2.1"},
                           {"id", od},
                           {"created_by_ref", identity},
                           {"created", created},
                           {"modified", modified},
                           {"first_observed", created},
                           {"last_observed", modified},
                           {"number_observed", r.messages},
                           {"object_refs", ojson::array({msg, addr})},
                           {"object_marking_refs", marks}});
        observed.push_back(od);
      }
      objects.push_back({{"type", "sighting"},
                         {"spec_version", "2.1"},
                         {"id", "sighting--" + uuid5(kHdrscanNs, "recipients of " + w.id)},
                         {"created_by_ref", identity},
                         {"created", created},
                         {"modified", modified},
                         {"first_seen", created},
                         {"last_seen", modified},
                         {"count", w.members.size()},
                         {"sighting_of_ref", campaigns[wi]},
                         {"observed_data_refs", observed},
                         {"where_sighted_refs", ojson::array({identity})},
                         {"description", "recipients of hdrscan wave " + w.id},
                         {"object_marking_refs", marks}});
    }
  std::string wave_ids;
  for (const auto& w : run.waves) wave_ids += w.id + " ";
  ojson bundle = {
      {"type", "bundle"},
      {"id", "bundle--" + uuid5(kHdrscanNs, "bundle:" + std::string(def.word) + ":" + wave_ids)},
      {"objects", objects}};
  return bundle.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hdrscan::scanner
