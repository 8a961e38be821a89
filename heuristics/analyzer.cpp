// analyzer.cpp: runs every detector over a parsed message and combines the evidence.
//
// Scoring: the sum of fired weights, each family capped (signals.cpp; the stripping family has
// a lower cap when no relay evidence fired), clamped to 0..100. The weights are fitted by
// tools/fit-weights on the model computed here; change one and the other together.
// Verdict:
//   campaign   score >= thresholds.campaign AND the campaign gate holds: the mail entered an
//              Exchange Online tenant by a connector relay AND one of: a campaign connector IP
//              connected to the tenant inside the campaign's window (ioc), part of a set
//              Exchange Online writes whole is missing (tamper), or two of the tenant's three
//              artefacts (ARC set, verdict, X-Microsoft-Antispam) are missing (both). One missing artefact alone never opens it
//              (legitimate routes lose one: on-premises egress, old mail, gateways), nor does
//              any single weak signal or whole family.
//   suspicious score >= thresholds.suspicious (the technique or part of it).
//   clean      otherwise.
// Wrappers (a report or quarantine export holding the mail as message/rfc822) get the verdict
// of the worst message inside, with the evidence located in the nested message.
// A detector that throws is contained: the failure becomes a check and the others still run.
#include <algorithm>
#include <map>

#include "heuristics/detectors.hpp"
#include "heuristics/signals.hpp"
#include "mime/text.hpp"

namespace hdrscan::heuristics {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::campaign: return "campaign";
    case Verdict::suspicious: return "suspicious";
    case Verdict::clean: return "clean";
  }
  return "clean";
}

std::optional<Verdict> parse_verdict(std::string_view w) {
  if (w == "campaign") return Verdict::campaign;
  if (w == "suspicious") return Verdict::suspicious;
  if (w == "clean") return Verdict::clean;
  return std::nullopt;
}

std::string GateState::why() const {
  if (open())
    return std::string("open: connector relay and ") +
           (ioc ? "a campaign connector IP in the window" : tamper ? "a partly removed ARC set or signed header"
                                                               : "two of the tenant's artefacts (ARC set, verdict, X-Microsoft-Antispam) missing");
  if (!relay) return "closed: no connector-relay evidence (the campaign's mail enters the tenant through one)";
  return "closed: relay without a campaign connector IP, a partly removed set, or two of the tenant's "
         "artefacts missing (one missing artefact is how some legitimate routes look)";
}

Analyzer::Analyzer(std::shared_ptr<const IndicatorPack> pack, Thresholds thresholds)
    : pack_(std::move(pack)), thresholds_(thresholds) {}

namespace {

Assessment assess_one(const mime::ParsedMessage& msg, const IndicatorPack& pack, const Thresholds& th) {
  Assessment a;
  Route route = analyze_route(msg, pack);
  a.route = route.describe();
  if (const auto& c = route.tenant.connecting; route.tenant.connecting_field && c.ok && (c.ip || !c.tenant_id.empty())) {
    a.connection = TenantConnection{c.ip ? c.ip->to_string() : std::string(), c.helo, mime::text::lower(c.tenant_id),
                                    "connecting-ip-header"};
  } else if (route.entry_ip) {
    a.connection = TenantConnection{route.entry_ip->to_string(), route.entry_helo, "", "received-hop"};
  }
  DetectorInput in{msg, pack, route};
  Findings f;
  using Detector = void (*)(const DetectorInput&, Findings&);
  static const std::pair<const char*, Detector> detectors[] = {
      {"connector_relay", detect_connector_relay}, {"known_ips", detect_known_ips},
      {"stripping", detect_stripping},             {"body", detect_body},
      {"sender", detect_sender},                   {"bulk", detect_bulk},
      {"integrity", detect_integrity},             {"header_rules", detect_header_rules},
  };
  for (const auto& [name, fn] : detectors) {
    try {
      fn(in, f);
    } catch (const std::exception& e) {
      f.pass(std::string("error.") + name, std::string("detector failed: ") + e.what());
    } catch (...) {
      f.pass(std::string("error.") + name, "detector failed");
    }
  }
  // Family-capped sum and the gate.
  std::map<Family, int> per_family;
  GateState& g = a.gate;
  for (const auto& e : f.evidence) {
    const SignalSpec* s = find_signal(e.signal);
    Family fam = s ? s->family : Family::rule;
    per_family[fam] += e.weight;
    switch (s ? s->gate : GateRole::none) {
      case GateRole::relay: g.relay = true; break;
      case GateRole::ioc: g.relay = g.ioc = true; break;
      case GateRole::strip_tamper: g.tamper = true; break;
      case GateRole::strip_both: g.both = true; break;
      case GateRole::strip_one: case GateRole::none: break;
    }
  }
  int score = 0;
  for (const auto& [fam, sum] : per_family) {
    int cap = family_cap(fam, g.relay);
    int pts = std::min(sum, cap);
    score += pts;
    a.breakdown.push_back({std::string(to_string(fam)), sum, cap, pts});
  }
  a.score = std::clamp(score, 0, 100);
  if (a.score >= th.campaign && g.open())
    a.verdict = Verdict::campaign;
  else if (a.score >= th.suspicious)
    a.verdict = Verdict::suspicious;
  else
    a.verdict = Verdict::clean;
  a.exo_time = route.exo_time;
  a.exo_time_source = route.exo_time_source;
  a.untrusted_copies = route.rejected_copies;
  for (auto& x : f.rejected) a.untrusted_copies.push_back(std::move(x));
  a.evidence = std::move(f.evidence);
  std::stable_sort(a.evidence.begin(), a.evidence.end(),
                   [](const Evidence& x, const Evidence& y) { return x.weight > y.weight; });
  a.checks = std::move(f.checks);
  return a;
}

Assessment assess_tree(const mime::ParsedMessage& msg, const IndicatorPack& pack, const Thresholds& th,
                       const std::string& path, int depth) {
  Assessment a = assess_one(msg, pack, th);
  if (depth >= 8) return a;
  for (std::size_t i = 0; i < msg.nested.size(); ++i) {
    std::string sub = (path.empty() ? "" : path + ".") + "nested[" + std::to_string(i) + "]";
    Assessment n = assess_tree(msg.nested[i], pack, th, sub, depth + 1);
    bool worse = n.verdict > a.verdict || (n.verdict == a.verdict && n.score > a.score);
    if (worse) {
      for (auto& e : n.evidence)
        if (e.message.empty()) e.message = sub;  // `sub` is the path from the outermost message
      a.verdict = n.verdict;
      a.score = n.score;
      a.evidence = std::move(n.evidence);
      a.route = n.route;
      a.connection = std::move(n.connection);
      a.breakdown = std::move(n.breakdown);
      a.gate = n.gate;
      a.exo_time = n.exo_time;
      a.exo_time_source = std::move(n.exo_time_source);
      a.untrusted_copies = std::move(n.untrusted_copies);
      a.nested_from = n.nested_from.empty() ? sub : n.nested_from;
      for (auto& c : n.checks)  // a deeper message's checks are already named by their full path
        a.checks.push_back({c.signal.rfind("nested[", 0) == 0 ? c.signal : sub + ":" + c.signal, c.fired, c.why});
    }
  }
  return a;
}

}  // namespace

Assessment Analyzer::assess(const mime::ParsedMessage& msg) const {
  return assess_tree(msg, *pack_, thresholds_, "", 0);
}

std::vector<std::pair<std::size_t, const char*>> Analyzer::hop_zones(const mime::ParsedMessage& msg) const {
  std::vector<std::pair<std::size_t, const char*>> out;
  const Route route = analyze_route(msg, *pack_);
  if (!route.left_exchange_online) return out;
  // The hop's zone as the detectors judge it (Route::zone_of), naming the two boundary hops.
  for (std::size_t i = 0; i < route.hops.size(); ++i) {
    const int k = static_cast<int>(i);
    const char* z = "origin";
    switch (route.zone_of(route.hops[i].field_index)) {
      case Zone::receiving:
        z = k == route.exit_hop           ? "receiving (exit)"
            : k == route.forward_exit_hop ? "receiving (forwarded on: exit)"
                                          : "receiving";
        break;
      case Zone::tenant: z = k == route.entry_hop ? "tenant (entry)" : "tenant"; break;
      case Zone::origin: case Zone::trailer: break;
    }
    out.emplace_back(route.hops[i].field_index, z);
  }
  return out;
}

}  // namespace hdrscan::heuristics
