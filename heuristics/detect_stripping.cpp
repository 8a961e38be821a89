// detect_stripping.cpp: the trace of the campaign's transport rules. Mail that left an
// Exchange Online tenant carries the tenant's ARC set and antispam verdict almost always
// (599/600 and 600/600 in the legitimate sets measured in campaign.md section 2); their
// absence on such a route is the discriminating evidence. The header names come from the
// indicator pack (`tenant-header`), and so does WHEN each is expected (`expect ... since`,
// judged by Exchange Online's own time stamps, Route::exo_time) and where it is not
// (`egress-without-arc`: a smart host behind an outbound connector gets no ARC set).
// Not judged at all: mail that looped back into its own tenant (Route::same_tenant_loop).
// A copy of an ARC header counts only when it is the tenant's: outside the origin zone (or
// in an earlier Exchange Online pass), signed by d=microsoft.com, with a real signature (a
// placeholder `b=` written by a sender is not a seal), and, where the indicator pack holds
// the key of the seal's selector (`arc-seal-key`: Microsoft's arcselector9901 and
// arcselector10001, never fetched from the DNS), with an ARC-Seal that verifies
// (signature.hpp, RFC 8617 section 5.1.1). A complete set whose seal does not verify is a
// sender's look-alike (or was altered after sealing): neither its seal nor the AMS and AAR of
// its instance count, so the set is missing (strip.tenant_arc_missing), not partial. A
// verified seal is named in the check's reason. Limits: a selector without a key in the pack
// (arcselector5401 and older ones seen in real mail) keeps the form check alone, so a
// look-alike under it is still taken as the tenant's; a seal whose instance lacks its AMS or
// AAR cannot be verified and is left to strip.partial_set; 7 of 1,637 real Microsoft seals in
// ../shared/corpus (arcselector10001, 2025-11..2026-05) were made with a key other than the
// published one and do not verify: on those legitimate messages the set counts as missing
// (one artefact, strip_one: never `campaign` alone; measured in docs/scoring.md).
// One ordinary event is counted once: a missing ARC set and the receiver's chain that then
// restarts at i=1 cv=none are one fact; strip.arc_chain_restart is context (weight 0).
// Deliberately NOT evidence: missing X-MS-Exchange-AntiSpam-MessageData* (normally absent on
// connector-relayed mail) and ARC/DKIM h= lists naming absent headers (RFC 6376 allows it).
#include <algorithm>
#include <ctime>
#include <map>

#include "heuristics/detectors.hpp"
#include "heuristics/signature.hpp"

namespace hdrscan::heuristics {
namespace {

// Fields named `name` in the sending tenant's zone or the trailer where Exchange stamps (and
// the origin zone when the mail made an earlier Exchange Online pass).
std::vector<const mime::HeaderField*> tenant_fields(const DetectorInput& in, std::string_view name) {
  const ZoneSet zones = in.route.earlier_pass ? ZoneSet{Zone::tenant, Zone::trailer, Zone::origin}
                                              : ZoneSet{Zone::tenant, Zone::trailer};
  return fields_in_zones(in.msg, in.route, name, zones);
}

// Whether `v` holds at least `want` base64 characters: counting stops there (a real signature
// has 344; the count ran over every one of them for every ARC field, 1.9% of a scan of the
// Microsoft 365 files).
bool has_base64_chars(std::string_view v, std::size_t want) {
  std::size_t n = 0;
  for (char c : v)
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/')
      if (++n >= want) return true;
  return n >= want;
}

// "" when `f` is a plausible copy of Exchange Online's ARC header; else why not. A real
// seal or signature by d=microsoft.com carries an RSA signature (344 base64 characters for
// the 2048-bit keys Microsoft uses).
std::string arc_copy_problem(const mime::HeaderField& f) {
  // The AAR carries no signature; its form changed over the years (2019 copies name no
  // authserv-id), so only its instance tag is required.
  // The tags are looked up alone (find_tag: what parse_tag_list would give, without building
  // the whole list: this runs on every ARC field of the tenant's zones, seals twice).
  if (mime::text::iequals(f.name, "ARC-Authentication-Results"))
    return mime::find_tag_int(f.value, "i") || mime::text::icontains(f.value, "i=") ? "" : "no instance tag i=";
  auto d = mime::find_tag(f.value, "d");
  if (!d || !mime::text::iequals(*d, "microsoft.com")) return "d=" + d.value_or("(none)") + ", not microsoft.com";
  // Counted as written: blanks are not base64 characters, so the count is the unfolded one's.
  auto b = mime::find_tag_raw(f.value, "b");
  if (!b || !has_base64_chars(*b, 100)) return "placeholder signature (b= shorter than any RSA signature)";
  return "";
}

std::string day_of(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// Whether Exchange Online stamped `kind` at the time it handled the mail; "" when expected,
// else why not. Without a time stamp the expectation stands (the campaign's own mail has
// Exchange Online's stamps; a message without any is judged as today's).
std::string not_expected_because(const DetectorInput& in, TenantHeader kind) {
  const Expectation* e = in.pack.expectation(kind);
  if (!e || !in.route.exo_time || *in.route.exo_time >= e->since) return "";
  return "Exchange Online handled it on " + day_of(*in.route.exo_time) + " (" + in.route.exo_time_source +
         "), before it stamped the " + std::string(to_string(kind)) + " on outbound mail (since " + e->date + ", " +
         e->from.file + ":" + std::to_string(e->from.line) + ")";
}

}  // namespace

void detect_stripping(const DetectorInput& in, Findings& out) {
  const auto& r = in.route;
  static const char* const ids[] = {"strip.tenant_arc_missing",       "strip.tenant_verdict_missing",
                                    "strip.tenant_msantispam_missing", "strip.two_artefacts_missing",
                                    "strip.arc_chain_restart",        "strip.partial_set"};
  auto pass_all = [&](const std::string& why) {
    for (auto id : ids) out.pass(id, why);
  };
  if (!r.left_exchange_online) {
    pass_all("the route does not show the mail leaving Exchange Online: nothing to expect");
    return;
  }
  if (r.same_tenant_loop) {
    pass_all("the receiving side is the sending tenant itself (X-MS-Exchange-CrossTenant-Id): "
             "mail back in its own tenant, stripping not judged");
    return;
  }
  const auto& msg = in.msg;
  const auto& exit_field = msg.headers.fields[r.hops[r.exit_hop].field_index];
  std::string exit_where = where_of(msg, &exit_field);

  // The ARC set.
  std::string arc_off = not_expected_because(in, TenantHeader::arc_set);
  if (arc_off.empty() && r.egress_without_arc)
    arc_off = "it left Exchange Online into " + r.hops[r.exit_hop].hop.by_host +
              ", a smart host that gets no ARC set (" + r.egress_without_arc->from.file + ":" +
              std::to_string(r.egress_without_arc->from.line) + ")";
  // The tenant's ARC-Seals checked with the signer's key where the pack has one (issue 14 item
  // 6): a complete set whose seal does not verify was not sealed by Exchange Online (a
  // sender's look-alike, or a set altered after sealing), so neither its seal nor the AMS and
  // AAR of its instance are the tenant's. A seal without a key (or an instance with an AAR or
  // AMS missing: the partial-set check judges that) keeps the form check alone.
  struct SealOf { const mime::HeaderField* field; SealCheck check; };
  std::vector<SealOf> seals;
  std::map<long, int> instance_state;  // i= -> 1 some seal of it is accepted, -1 only failing ones
  for (const auto* f : tenant_fields(in, "ARC-Seal")) {
    if (seals.size() >= 4) break;  // at most four seals checked per message
    if (!arc_copy_problem(*f).empty()) continue;
    SealCheck c = check_arc_seal(msg, *f, in.pack);
    int& st = instance_state[arc_instance(*f)];
    st = c.state == SealCheck::State::failed ? (st == 1 ? 1 : -1) : 1;
    seals.push_back({f, std::move(c)});
  }
  // Seals that fail and none accepted: an AAR or AMS of another instance (a gateway's AAR
  // above the tenant's hops) is not the tenant's set either.
  const bool only_failed_seals =
      !instance_state.empty() &&
      std::none_of(instance_state.begin(), instance_state.end(), [](const auto& kv) { return kv.second > 0; });
  auto seal_check = [&](const mime::HeaderField* f) -> const SealCheck* {
    for (const auto& s : seals)
      if (s.field == f) return &s.check;
    return nullptr;
  };
  auto key_at = [](const SealCheck& c) {
    return c.key->from.file + ":" + std::to_string(c.key->from.line);
  };
  std::size_t present = 0, expected = 0;
  std::string missing, first_present, seal_note;
  for (auto name : in.pack.tenant_header_names(TenantHeader::arc_set, false)) {
    ++expected;
    const mime::HeaderField* found = nullptr;
    for (const auto* f : tenant_fields(in, name)) {
      std::string why = arc_copy_problem(*f);
      if (why.empty()) {
        if (const SealCheck* c = seal_check(f); c && c->state == SealCheck::State::failed) {
          why = "ARC-Seal " + c->what + " (" + key_at(*c) + "): not sealed by the key holder";
        } else if (auto st = instance_state.find(arc_instance(*f));
                   !c && st != instance_state.end() && st->second < 0) {
          why = "the ARC-Seal of its instance i=" + std::to_string(st->first) +
                " does not verify with the signer's key: not the tenant's set";
        } else if (!c && only_failed_seals) {
          why = "the sending tenant's only ARC-Seal does not verify with the signer's key: no part of "
                "its set is the tenant's";
        }
      }
      if (why.empty()) {
        found = f;
        if (const SealCheck* c = seal_check(f); c && seal_note.empty()) {
          if (c->state == SealCheck::State::verified)
            seal_note = "; its ARC-Seal " + c->what + " verifies with the signer's key (" + key_at(*c) + ")";
          else if (c->state == SealCheck::State::no_key)
            seal_note = "; its ARC-Seal " + c->what + " is not verified (no key for that selector in the "
                        "indicator pack): only its form is checked";
          else
            seal_note = "; its ARC-Seal " + c->what;
        }
        break;
      }
      if (out.rejected.size() < 8) out.rejected.push_back(where_of(msg, f) + ": " + why);
    }
    if (found) {
      ++present;
      if (first_present.empty()) first_present = where_of(msg, found);
    } else {
      missing += (missing.empty() ? "" : ", ") + std::string(name);
    }
  }
  bool arc_missing = false;
  if (expected == 0) {
    out.pass("strip.tenant_arc_missing", "the indicator pack names no tenant-header arc-set");
    out.pass("strip.partial_set", "the indicator pack names no tenant-header arc-set");
  } else if (present == 0) {
    if (arc_off.empty()) {
      arc_missing = true;
      out.fire("strip.tenant_arc_missing", exit_where,
               "left Exchange Online at: " + std::string(exit_field.value) + " -- none of " + missing + " from the sending tenant" +
                   (std::any_of(seals.begin(), seals.end(),
                                [](const SealOf& s) { return s.check.state == SealCheck::State::failed; })
                        ? " (a set is present, but its ARC-Seal does not verify with the signer's key)"
                        : ""));
    } else {
      out.pass("strip.tenant_arc_missing", "no ARC set, and none expected: " + arc_off);
    }
    out.pass("strip.partial_set", "no part of the ARC set present (see strip.tenant_arc_missing)");
  } else {
    out.pass("strip.tenant_arc_missing", "sending tenant's ARC set present (" + first_present + ")" + seal_note);
    // Exchange Online writes the three together or not at all: a part missing is a removal,
    // whatever the date or the egress.
    if (present < expected)
      out.fire("strip.partial_set", exit_where, "sending tenant's ARC set lacks: " + missing);
    else
      out.pass("strip.partial_set", "ARC set complete");
  }

  // The verdict and X-Microsoft-Antispam (found and checked by the route).
  const char* view = r.receiver_is_microsoft ? " (consumer view: the receiver renames it -Untrusted)" : "";
  bool verdict_missing = false;
  if (const auto* f = r.tenant.verdict_field) {
    out.pass("strip.tenant_verdict_missing", "sending tenant's verdict present: " + where_of(msg, f));
  } else if (std::string off = not_expected_because(in, TenantHeader::verdict); !off.empty()) {
    out.pass("strip.tenant_verdict_missing", "no verdict, and none expected: " + off);
  } else {
    verdict_missing = true;
    out.fire("strip.tenant_verdict_missing", exit_where,
             std::string("no X-Forefront-Antispam-Report from the sending tenant on mail from Exchange Online") + view +
                 (r.rejected_copies.empty() ? "" : "; copies not the tenant's: " + r.rejected_copies.front()));
  }
  bool msantispam_missing = false;
  if (const auto* f = r.tenant.ms_antispam_field) {
    out.pass("strip.tenant_msantispam_missing", "present: " + where_of(msg, f));
  } else if (std::string off = not_expected_because(in, TenantHeader::ms_antispam); !off.empty()) {
    out.pass("strip.tenant_msantispam_missing", "absent, and not expected: " + off);
  } else {
    msantispam_missing = true;
    out.fire("strip.tenant_msantispam_missing", exit_where,
             std::string("no X-Microsoft-Antispam from the sending tenant") + view);
  }
  // Two of the tenant's three artefacts (ARC set where due, verdict, X-Microsoft-Antispam)
  // gone: what the transport rules do, and what no ordinary route measured does
  // (campaign.md section 2: X-Microsoft-Antispam on 600/600 legitimate messages, the ARC set
  // on 599/600, the verdict on 545/600; dev_field_m365 and 3,000 field negatives: none).
  const int gone = int(arc_missing) + int(verdict_missing) + int(msantispam_missing);
  if (gone >= 2) {
    std::string which;
    if (arc_missing) which += "the ARC set";
    if (verdict_missing) which += std::string(which.empty() ? "" : ", ") + "X-Forefront-Antispam-Report";
    if (msantispam_missing) which += std::string(which.empty() ? "" : ", ") + "X-Microsoft-Antispam";
    out.fire("strip.two_artefacts_missing", exit_where, "missing from the sending tenant: " + which);
  } else {
    out.pass("strip.two_artefacts_missing", gone ? "only one of the tenant's artefacts is missing"
                                                 : "the tenant's artefacts are present (or not due)");
  }

  // The receiving side's own ARC chain: restarting at i=1 cv=none after an Exchange Online
  // hop means the tenant's set was not there when the receiver sealed. The same fact as a
  // missing set, so shown as context only.
  const auto receiving_seals = fields_in_zones(msg, r, "ARC-Seal", {Zone::receiving}, 1);
  const mime::HeaderField* top_seal = receiving_seals.empty() ? nullptr : receiving_seals.front();
  if (top_seal) {
    auto i = mime::find_tag_int(top_seal->value, "i");
    auto cv = mime::find_tag(top_seal->value, "cv");
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
