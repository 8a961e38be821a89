// detect_stripping.cpp: the trace of the campaign's transport rules. Mail that left an
// Exchange Online tenant carries the tenant's ARC set and antispam verdict almost always
// (599/600 and 600/600 in the legitimate sets measured in campaign.md section 2); their
// absence on such a route is the discriminating evidence. Deliberately NOT evidence:
// missing X-MS-Exchange-AntiSpam-MessageData* (normally absent on connector-relayed mail) and
// ARC/DKIM h= lists naming absent headers (RFC 6376 allows it).
#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

// Fields named `name` in the sending tenant's zone (or the trailer where Exchange stamps).
std::vector<const mime::HeaderField*> tenant_fields(const DetectorInput& in, std::string_view name) {
  std::vector<const mime::HeaderField*> out;
  for (const auto* f : in.msg.headers.all(name)) {
    std::size_t idx = static_cast<std::size_t>(f - in.msg.headers.fields.data());
    Zone z = in.route.zone_of(idx);
    if (z == Zone::tenant || z == Zone::trailer) out.push_back(f);
  }
  return out;
}

}  // namespace

void detect_stripping(const DetectorInput& in, Findings& out) {
  const auto& r = in.route;
  const char* ids[] = {"strip.tenant_arc_missing", "strip.tenant_verdict_missing",
                       "strip.tenant_msantispam_missing", "strip.arc_chain_restart", "strip.partial_set"};
  if (!r.left_exchange_online) {
    for (auto id : ids) out.pass(id, "the route does not show the mail leaving Exchange Online: nothing to expect");
    return;
  }
  const auto& msg = in.msg;
  std::string exit_where = where_of(msg, &msg.headers.fields[r.hops[r.exit_hop].field_index]);
  auto seals = tenant_fields(in, "ARC-Seal");
  auto sigs = tenant_fields(in, "ARC-Message-Signature");
  auto aars = tenant_fields(in, "ARC-Authentication-Results");
  std::size_t present = (seals.empty() ? 0 : 1) + (sigs.empty() ? 0 : 1) + (aars.empty() ? 0 : 1);
  if (present == 0) {
    out.fire("strip.tenant_arc_missing", exit_where,
             "left Exchange Online at: " + msg.headers.fields[r.hops[r.exit_hop].field_index].value +
                 " -- no ARC-Seal/ARC-Message-Signature/ARC-Authentication-Results from the sending tenant");
    out.pass("strip.partial_set", "whole ARC set missing (see strip.tenant_arc_missing)");
  } else {
    out.pass("strip.tenant_arc_missing", "sending tenant's ARC set present (" + where_of(msg, seals.empty() ? (sigs.empty() ? aars[0] : sigs[0]) : seals[0]) + ")");
    if (present < 3) {
      std::string missing;
      if (seals.empty()) missing += " ARC-Seal";
      if (sigs.empty()) missing += " ARC-Message-Signature";
      if (aars.empty()) missing += " ARC-Authentication-Results";
      out.fire("strip.partial_set", exit_where, "sending tenant's ARC set lacks:" + missing);
    } else {
      out.pass("strip.partial_set", "ARC set complete");
    }
  }
  if (const auto* f = in.route.tenant.verdict_field) {
    out.pass("strip.tenant_verdict_missing", "sending tenant's verdict present: " + where_of(msg, f));
  } else {
    out.fire("strip.tenant_verdict_missing", exit_where,
             r.receiver_is_microsoft ? "no X-Forefront-Antispam-Report-Untrusted (the sending tenant's verdict) on a message from Exchange Online"
                                     : "no X-Forefront-Antispam-Report (the sending tenant's verdict) on a message from Exchange Online");
  }
  if (const auto* f = in.route.tenant.ms_antispam_field) {
    out.pass("strip.tenant_msantispam_missing", "present: " + where_of(msg, f));
  } else {
    out.fire("strip.tenant_msantispam_missing", exit_where,
             r.receiver_is_microsoft ? "no X-Microsoft-Antispam-Untrusted from the sending tenant"
                                     : "no X-Microsoft-Antispam from the sending tenant");
  }
  // The receiving side's own ARC chain: restarting at i=1 cv=none after an Exchange Online
  // hop means the tenant's set (normally i=1) was not there when the receiver sealed.
  const mime::HeaderField* top_seal = nullptr;
  for (const auto* f : msg.headers.all("ARC-Seal")) {
    std::size_t idx = static_cast<std::size_t>(f - msg.headers.fields.data());
    if (r.zone_of(idx) == Zone::receiving) {
      top_seal = f;
      break;
    }
  }
  if (top_seal) {
    auto tags = mime::parse_tag_list(top_seal->value);
    auto i = tags.get_int("i");
    auto cv = tags.get("cv");
    if (i && *i == 1 && cv && mime::text::lower(*cv) == "none")
      out.fire("strip.arc_chain_restart", where_of(msg, top_seal), top_seal->value);
    else
      out.pass("strip.arc_chain_restart", "receiving side's ARC-Seal has i=" + (i ? std::to_string(*i) : std::string("?")) +
                                              " cv=" + cv.value_or("?"));
  } else {
    out.pass("strip.arc_chain_restart", "receiving side added no ARC set");
  }
  out.pass("info.messagedata_not_evidence",
           "X-MS-Exchange-AntiSpam-MessageData* and ARC h= lists are not used: normally absent on "
           "connector-relayed mail, and h= may name absent headers (RFC 6376)");
}

}  // namespace hdrscan::heuristics
