// signals.hpp: the one table of signal ids, their families, default weights, gate roles and
// one-line meanings. Detectors refer to signals by id; scoring reads weights from here;
// `hdrscan signals` (scanner/signals/) prints it, and tools/fit-weights reads that output. Weights are score points on a 0..100 scale;
// families cap the sum of correlated signals so that no family alone can make a verdict.
#pragma once
#include <span>
#include <string_view>

namespace hdrscan::heuristics {

enum class Family { relay, abuse, known_ip, stripping, body, sender, bulk, integrity, rule };
std::string_view to_string(Family f);

// A signal's part in the campaign gate (analyzer.cpp):
//   campaign needs relay AND (ioc OR strip_tamper OR strip_both).
// relay: the mail entered the tenant through a connector (or the tenant judged it spam and
// relayed it anyway); ioc: a campaign connector IP connected to the tenant inside the
// campaign's window; strip_tamper: a part of a set Exchange Online writes whole is missing,
// or a signed header was removed; strip_both: two of the tenant's artefacts (ARC set, verdict, X-Microsoft-Antispam) missing. A single
// missing artefact (strip_one) is scored but never opens the gate alone.
enum class GateRole { none, relay, ioc, strip_one, strip_both, strip_tamper };
std::string_view to_string(GateRole g);

struct SignalSpec {
  std::string_view id;
  Family family;
  int weight;
  std::string_view meaning;
  GateRole gate = GateRole::none;
};

// Family caps: the most a family contributes, whatever fires inside it.
int family_cap(Family f);

// The stripping family's cap when no relay evidence (relay, known_ip, abuse) fired: a missing
// ARC set or verdict without a connector relay is how some legitimate cloud mail looks
// (campaign.md section 3), so on its own it stays below the suspicious threshold.
int stripping_cap_without_relay();

// The cap that applies to family `f` when relay evidence (a signal with gate role relay or
// ioc) did or did not fire: the one place analyzer.cpp and `hdrscan signals` read it from.
int family_cap(Family f, bool relay_evidence);

const SignalSpec* find_signal(std::string_view id);

// The whole table (for `hdrscan signals` and the scoring-property tests).
std::span<const SignalSpec> all_signals();

}  // namespace hdrscan::heuristics
