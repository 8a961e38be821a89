// grouping.cpp: flagged scan records -> campaign waves (docs/waves.md, "Algorithm").
//
// A graph over the records: two records are linked when they are within the time window of
// each other and share the sending tenant, the connector IP, a URL registrable domain (one not
// in the ignore list), or have template fingerprints within the template distance; a wave is a
// connected component with at least min_messages records. Linking is near-linear: records are
// taken in time order; for each shared key (tenant, IP, URL domain) a record is linked to the
// previous record holding that key when it is within the window, which gives the same
// components as linking every pair (within one key, pairs within the window are chained by the
// records between them). Template links use locality-sensitive banding: the 64 bits cut into
// 8 bands of 8, so two fingerprints within 7 bits agree on at least one band; only records in a
// common band within the window are compared, at most kBandCompare back.
// Records without a time link by key and template to any record (the window cannot apply).
// Limits: memory is the kept records plus per-key indices. Pure, no I/O.
#include <algorithm>
#include <numeric>
#include <set>
#include <unordered_map>

#include "mime/fields/features.hpp"
#include "mime/fields/fields.hpp"
#include "mime/net.hpp"
#include "mime/text.hpp"
#include "scanner/waves/waves.hpp"

namespace hdrscan::scanner {
namespace {

constexpr std::size_t kBandCompare = 32;
constexpr std::size_t kListed = 20;  // values listed per wave field

struct UnionFind {
  std::vector<std::size_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  bool unite(std::size_t a, std::size_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    if (a > b) std::swap(a, b);
    parent[b] = a;
    return true;
  }
};

bool within(const std::optional<std::int64_t>& a, const std::optional<std::int64_t>& b,
            std::int64_t window) {
  if (!a || !b) return true;
  const std::int64_t d = *a > *b ? *a - *b : *b - *a;
  return d <= window;
}

// An IP that says nothing about the sender: private, loopback, link-local.
bool linkable_ip(const std::string& ip) {
  const auto a = mime::parse_ip(ip);
  return a && !a->is_private();
}

std::vector<Counted> counted(const std::map<std::string, std::size_t>& m,
                             const std::map<std::string, std::string>& extra = {}) {
  std::vector<Counted> v;
  for (const auto& [k, n] : m) {
    const auto e = extra.find(k);
    v.push_back({k, n, e == extra.end() ? std::string() : e->second});
  }
  std::stable_sort(v.begin(), v.end(),
                   [](const Counted& a, const Counted& b) { return a.messages > b.messages; });
  if (v.size() > kListed) v.resize(kListed);
  return v;
}

std::string tenant_key(const ReadRecord& r) {
  if (!r.connection) return {};
  return !r.connection->tenant_id.empty() ? r.connection->tenant_id : r.connection->tenant_name;
}

std::string hex(std::uint64_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kHex[v & 15];
  return s;
}

Wave describe(const std::vector<WaveRecord>& recs, std::vector<std::size_t> members) {
  Wave w;
  std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
    const auto& ta = recs[a].rec.time;
    const auto& tb = recs[b].rec.time;
    if (ta && tb && *ta != *tb) return *ta < *tb;
    if (ta.has_value() != tb.has_value()) return ta.has_value();
    return recs[a].rec.sha256 < recs[b].rec.sha256;
  });
  w.members = members;
  std::map<std::string, std::size_t> tenants, ips, helos, env, from, addr, urld, urlh, urls, subj,
      tmpl, ev, rdom, rcpt;
  std::map<std::string, std::string> tenant_names, ev_weight;
  std::map<std::string, int> ev_max;
  int best = -1;
  for (const std::size_t i : members) {
    const ReadRecord& r = recs[i].rec;
    if (r.time) {
      if (!w.first_seen || *r.time < *w.first_seen) w.first_seen = r.time;
      if (!w.last_seen || *r.time > *w.last_seen) w.last_seen = r.time;
    }
    if (const std::string t = tenant_key(r); !t.empty()) {
      ++tenants[t];
      if (!r.connection->tenant_name.empty()) tenant_names[t] = r.connection->tenant_name;
    }
    if (r.connection && !r.connection->ip.empty()) ++ips[r.connection->ip];
    if (r.connection && !r.connection->helo.empty()) ++helos[r.connection->helo];
    if (!r.envelope_domain.empty()) ++env[r.envelope_domain];
    if (!r.from_domain.empty()) ++from[r.from_domain];
    // A From that is one of the recipients (spoofed "from yourself") is the victim's address,
    // not the sender's: never listed as a sender.
    if (const std::string a = mime::extract_address(r.from); !a.empty() && !r.from_is_recipient)
      ++addr[mime::text::lower(a)];
    for (const auto& d : r.url_domains) ++urld[d];
    for (const auto& h : r.url_hosts) ++urlh[h];
    for (const auto& u : r.urls) ++urls[u];
    for (const auto& d : r.recipient_domains) ++rdom[d];
    if (r.recipients)
      for (const auto& a : *r.recipients) ++rcpt[a];
    if (!r.subject.empty()) ++subj[r.subject];
    if (r.template_shingles) ++tmpl[hex(r.template_hash, 16)];
    std::set<std::string> seen;
    for (const auto& e : r.evidence) {
      if (e.weight <= 0 || !seen.insert(e.signal).second) continue;
      ++ev[e.signal];
      ev_max[e.signal] = std::max(ev_max[e.signal], e.weight);
    }
    const int score = r.score.value_or(0);
    if (score > best) {
      best = score;
      w.representative = i;
    }
  }
  for (const auto& [s, m] : ev_max) ev_weight[s] = std::to_string(m);
  w.tenants = counted(tenants, tenant_names);
  w.connector_ips = counted(ips);
  w.helos = counted(helos);
  w.envelope_domains = counted(env);
  w.from_domains = counted(from);
  w.from_addresses = counted(addr);
  w.url_domains = counted(urld);
  w.url_hosts = counted(urlh);
  w.urls = counted(urls);
  w.recipient_domains = counted(rdom);
  w.recipients = counted(rcpt);
  w.subjects = counted(subj);
  w.templates = counted(tmpl);
  // strongest evidence: by weight, then by how many members show it
  std::vector<Counted> e;
  for (const auto& [s, n] : ev) e.push_back({s, n, ev_weight[s]});
  std::stable_sort(e.begin(), e.end(), [&](const Counted& a, const Counted& b) {
    if (ev_max[a.value] != ev_max[b.value]) return ev_max[a.value] > ev_max[b.value];
    return a.messages > b.messages;
  });
  if (e.size() > kListed) e.resize(kListed);
  w.evidence = std::move(e);
  // The id: the earliest member's SHA-256 (ties broken by hash order above), so a re-run over
  // the same records, or over more records arriving later, keeps it.
  const std::string& anchor = recs[w.members.front()].rec.sha256;
  w.id = "w-" + (anchor.size() >= 12 ? anchor.substr(0, 12) : anchor);
  return w;
}

}  // namespace

std::vector<std::string> default_ignore_domains() {
  return {
      "outlook.com",           "office.com",     "office365.com", "microsoft.com",  "live.com",
      "windows.net",           "sharepoint.com", "google.com",    "googleapis.com", "gstatic.com",
      "googleusercontent.com", "w3.org",         "facebook.com",  "twitter.com",    "x.com",
      "instagram.com",         "linkedin.com",   "youtube.com",   "apple.com",      "amazonaws.com",
      "cloudfront.net",        "akamaihd.net"};
}

std::string record_location(const ReadRecord& r) { return r.where.to_string(); }

std::vector<Wave> group_waves(const std::vector<WaveRecord>& recs, const WaveOptions& opt) {
  const std::size_t n = recs.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& ta = recs[a].rec.time;
    const auto& tb = recs[b].rec.time;
    if (ta && tb) return *ta < *tb;
    return ta.has_value() && !tb.has_value();
  });
  const std::set<std::string> ignored(opt.ignore_domains.begin(), opt.ignore_domains.end());
  UnionFind uf(n);
  std::vector<std::pair<std::size_t, const char*>> joins;  // (record, link kind) per union
  std::unordered_map<std::string, std::size_t> last;       // key -> the latest record holding it
  std::unordered_map<std::uint32_t, std::vector<std::size_t>> bands;
  for (const std::size_t i : order) {
    const ReadRecord& r = recs[i].rec;
    std::vector<std::pair<const char*, std::string>> keys;
    if (opt.link_tenant)
      if (std::string t = tenant_key(r); !t.empty()) keys.emplace_back("tenant", "t:" + t);
    if (opt.link_ip && r.connection && linkable_ip(r.connection->ip))
      keys.emplace_back("ip", "i:" + r.connection->ip);
    if (opt.link_url)
      for (const auto& d : r.url_domains)
        if (!ignored.count(d)) keys.emplace_back("url", "u:" + d);
    for (const auto& [kind, key] : keys) {
      const auto it = last.find(key);
      if (it != last.end() && within(recs[it->second].rec.time, r.time, opt.window) &&
          uf.unite(it->second, i))
        joins.emplace_back(i, kind);
      last[key] = i;
    }
    if (opt.link_template && r.template_shingles >= opt.template_min_shingles) {
      for (std::uint32_t b = 0; b < 8; ++b) {
        const std::uint32_t key =
            (b << 8) | static_cast<std::uint32_t>((r.template_hash >> (8 * b)) & 0xff);
        auto& list = bands[key];
        std::size_t looked = 0;
        for (std::size_t k = list.size(); k-- > 0 && looked < kBandCompare; ++looked) {
          const ReadRecord& o = recs[list[k]].rec;
          if (!within(o.time, r.time, opt.window)) {
            if (o.time && r.time) break;  // older ones are further away still
            continue;
          }
          if (mime::hamming(o.template_hash, r.template_hash) <= opt.template_distance &&
              uf.unite(list[k], i))
            joins.emplace_back(i, "template");
        }
        list.push_back(i);
      }
    }
  }
  std::map<std::size_t, std::vector<std::size_t>> comps;
  for (std::size_t i = 0; i < n; ++i) comps[uf.find(i)].push_back(i);
  std::map<std::size_t, std::map<std::string, std::size_t>> links;  // root -> kind -> joins
  for (const auto& [i, kind] : joins) ++links[uf.find(i)][kind];
  std::vector<Wave> waves;
  for (auto& [root, members] : comps) {
    if (members.size() < std::max<std::size_t>(opt.min_messages, 1)) continue;
    waves.push_back(describe(recs, std::move(members)));
    waves.back().links = links[root];
  }
  std::stable_sort(waves.begin(), waves.end(), [](const Wave& a, const Wave& b) {
    if (a.first_seen != b.first_seen) {
      if (!a.first_seen || !b.first_seen) return a.first_seen.has_value();
      return *a.first_seen < *b.first_seen;
    }
    return a.id < b.id;
  });
  return waves;
}

}  // namespace hdrscan::scanner
