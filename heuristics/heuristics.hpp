// heuristics.hpp: the public face of the heuristics/ stage: indicator data, detectors,
// scoring. Everything here is a pure function of a parsed message and the indicator pack
// (no I/O but IndicatorPack::add_file), safe to call from many threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "heuristics/indicators.hpp"
#include "mime/message.hpp"

namespace hdrscan::heuristics {

enum class Verdict { clean = 0, suspicious = 1, campaign = 2 };
std::string_view to_string(Verdict v);
std::optional<Verdict> parse_verdict(std::string_view word);

// One piece of evidence. `weight` is the signal's contribution in score points (may be
// negative: evidence of legitimacy). `where` names the header (with its index among fields of
// that name, topmost = 0) or the part; `excerpt` is a short, UTF-8-safe quote.
struct Evidence {
  std::string signal;       // stable id, e.g. "relay.tenant_connecting_ip"
  int weight = 0;
  std::string where;        // "X-Forefront-Antispam-Report-Untrusted[0]", "body:html", ...
  std::string excerpt;
  std::string message;      // "" for the outer message, "nested[0]" (,"nested[0].nested[1]")
};

// What explain shows for every detector: fired or not and why.
struct SignalCheck {
  std::string signal;
  bool fired = false;
  std::string why;
};

struct Thresholds {
  int suspicious = 30;  // score >= this: suspicious
  int campaign = 60;    // score >= this (and the campaign gate holds): campaign
};

// Who connected to the sending Exchange Online tenant: from its
// OriginalAttributedTenantConnectingIp header (source "connecting-ip-header"), else from the
// Received hop where the mail entered *.mail.protection.outlook.com ("received-hop").
struct TenantConnection {
  std::string ip;         // as written; "" when only the tenant is known
  std::string helo;
  std::string tenant_id;  // lower-case GUID, "" when unknown
  std::string source;
};

// One family's part of the score: the sum of its fired weights, its cap, what it added.
struct FamilyPoints {
  std::string family;
  int raw = 0;
  int cap = 0;
  int points = 0;
};

// The campaign gate (analyzer.cpp): relay AND (ioc OR tamper OR both).
struct GateState {
  bool relay = false;   // connector-relay evidence
  bool ioc = false;     // a campaign connector IP connected to the tenant in the window
  bool tamper = false;  // part of a set Exchange Online writes whole is missing
  bool both = false;    // two of the tenant's artefacts (ARC set, verdict, X-Microsoft-Antispam) missing
  bool open() const { return relay && (ioc || tamper || both); }
  std::string why() const;  // one line: which parts hold
};

struct Assessment {
  Verdict verdict = Verdict::clean;
  int score = 0;                 // 0..100
  std::vector<Evidence> evidence;  // fired signals, strongest first
  std::vector<SignalCheck> checks; // every detector's outcome (for explain)
  std::string route;             // short description of the administrative domains seen
  std::optional<TenantConnection> connection;  // when the mail entered a sending tenant
  std::string nested_from;       // when a wrapper took a nested message's verdict
  std::vector<FamilyPoints> breakdown;  // per family, in family order (fired families only)
  GateState gate;
  std::optional<std::int64_t> exo_time;  // when Exchange Online handled it (Unix s, UTC)
  std::string exo_time_source;           // the header it was read from
  std::vector<std::string> untrusted_copies;  // header copies not taken as the tenant's, and why
};

class Analyzer {
 public:
  Analyzer(std::shared_ptr<const IndicatorPack> pack, Thresholds thresholds = {});
  Assessment assess(const mime::ParsedMessage& msg) const;
  // For explain (not computed by assess: scans never show it): the administrative domain of
  // each Received hop of `msg` as the detectors segment the route, by field index in the
  // header block: "receiving", "receiving (exit)" (took the mail from Exchange Online),
  // "tenant", "tenant (entry)" (where the mail entered the sending tenant), "origin". Empty
  // when the route never left Exchange Online (nothing to segment).
  std::vector<std::pair<std::size_t, const char*>> hop_zones(const mime::ParsedMessage& msg) const;
  const IndicatorPack& indicators() const { return *pack_; }
  const Thresholds& thresholds() const { return thresholds_; }

 private:
  std::shared_ptr<const IndicatorPack> pack_;
  Thresholds thresholds_;
};

}  // namespace hdrscan::heuristics
