// signals.cpp: signal table (see signals.hpp). The weights are fitted by tools/fit-weights
// (maximum likelihood on the tune families of corpus/labels.tsv and half of ../shared/corpus;
// it rewrites the numbers below); caps and the fixed weights are design bounds.
// docs/scoring.md explains both.
#include "heuristics/signals.hpp"

#include <cstddef>
#include <iterator>

namespace hdrscan::heuristics {
namespace {

constexpr SignalSpec kSignals[] = {
    // How the mail entered the sending tenant: normal for legitimate hybrid mail too.
    {"relay.tenant_connecting_ip", Family::relay, 17,
     "OriginalAttributedTenantConnectingIp names a non-Microsoft IP (mail entered the tenant "
     "through a connector)", GateRole::relay},
    {"relay.hybrid_onprem_anonymous", Family::relay, 1,
     "FromEntityHeader HybridOnPrem with AuthAs Anonymous (on-premises connector, unauthenticated)", GateRole::relay},
    {"relay.antispam_cal", Family::relay, 3,
     "the sending tenant's antispam report shows IPV:CAL / DIR:OUT with a non-Microsoft CIP", GateRole::relay},
    {"relay.first_hop_external", Family::relay, 7,
     "the sending tenant's first hop came from a non-Microsoft IP into *.mail.protection.outlook.com", GateRole::relay},
    {"relay.tenant_judged_spam", Family::abuse, 8,
     "the sending tenant's own verdict called it spam (SFV:SPM / SCL>=5) and it was relayed out anyway", GateRole::relay},
    {"relay.enhanced_filtering", Family::relay, 4,
     "Enhanced Filtering headers (SkipListedInternetSender / ExternalOriginalInternetSender) present", GateRole::relay},
    // Known campaign infrastructure.
    {"relay.known_connector_ip", Family::known_ip, 30,
     "an IP on the campaign's connector list connected to the sending tenant (connecting-IP "
     "header, the verdict's CIP or the tenant's entry hop) inside the list entry's window",
     GateRole::ioc},
    {"relay.known_connector_ip_unconfirmed", Family::known_ip, 5,
     "an IP on the campaign's connector list appears in the route, but not as the address that "
     "connected to the tenant, or outside the entry's window (addresses get reassigned)",
     GateRole::relay},
    // The trace of the transport rules.
    {"strip.tenant_arc_missing", Family::stripping, 18,
     "mail left Exchange Online when it sealed outbound ARC, but the sending tenant's ARC set "
     "is missing", GateRole::strip_one},
    {"strip.tenant_verdict_missing", Family::stripping, 18,
     "mail left Exchange Online but the sending tenant's X-Forefront-Antispam-Report is missing",
     GateRole::strip_one},
    {"strip.two_artefacts_missing", Family::stripping, 18,
     "two of the tenant's three artefacts (ARC set where due, X-Forefront-Antispam-Report, "
     "X-Microsoft-Antispam) are missing: what the transport rules do, no legitimate route "
     "measured (campaign.md section 2)", GateRole::strip_both},
    {"strip.tenant_msantispam_missing", Family::stripping, 4,
     "mail left Exchange Online but the sending tenant's X-Microsoft-Antispam is missing"},
    {"strip.arc_chain_restart", Family::stripping, 0,
     "context: the receiving side's ARC chain restarts at i=1 cv=none after an Exchange Online "
     "hop (the same fact as a missing ARC set, not counted twice)"},
    {"strip.partial_set", Family::stripping, 30,
     "the sending tenant's ARC set is incomplete (Exchange Online writes ARC-Seal, "
     "-Message-Signature and -Authentication-Results together)", GateRole::strip_tamper},
    {"strip.signed_header_removed", Family::stripping, 25,
     "a signature verified with the signer's key (user-supplied) fails, its body hash matches, "
     "and it signed headers that are now absent: they were removed after signing",
     GateRole::strip_tamper},
    // The body.
    {"body.linked_images", Family::body, 0,
     "the visible content is two or three hyperlinked images with little text"},
    {"body.linked_image_single", Family::body, 0,
     "the visible content is one hyperlinked image with little text"},
    {"body.hidden_filler", Family::body, 8, "randomized filler text hidden from the reader"},
    {"body.random_url_tokens", Family::body, 12,
     "links carry random per-message host or path tokens (or a user@host obfuscation)"},
    {"body.lure_vocabulary", Family::body, 3, "sweepstakes vocabulary (three or more terms) in subject and visible text"},
    {"body.lure_vocabulary_short", Family::body, 1, "two sweepstakes terms in a short subject and text"},
    // The sender.
    {"sender.random_onmicrosoft", Family::sender, 3,
     "random-looking *.onmicrosoft.com envelope sender or HELO"},
    {"sender.onmicrosoft_envelope", Family::sender, 12,
     "envelope sender or HELO is a tenant's *.onmicrosoft.com domain relayed from an outside IP"},
    {"sender.random_local_part", Family::sender, 20,
     "machine-generated envelope local part (per-message random tokens)"},
    {"sender.from_domain_mismatch", Family::sender, 2,
     "From domain unrelated to the envelope sender / sending tenant"},
    {"sender.compauth_fail", Family::sender, 10, "composite authentication failed (compauth=fail)"},
    {"sender.dmarc_fail", Family::sender, 1, "DMARC fail or none for the From domain"},
    {"sender.spf_fail", Family::sender, 0, "SPF fail for the envelope sender"},
    // Related infrastructure.
    {"bulk.sender_residue", Family::bulk, 6,
     "bulk-sender residue the actor also used (Amazon SES, Mailchimp)"},
    // Integrity: a surviving signature's body hash.
    {"integrity.body_hash_mismatch", Family::integrity, 0,
     "a surviving DKIM/ARC signature's body hash does not match the body"},
    {"integrity.signature_invalid", Family::integrity, 0,
     "a DKIM/ARC signature checked with a user-supplied key does not verify"},
};

}  // namespace

std::string_view to_string(Family f) {
  switch (f) {
    case Family::relay: return "relay";
    case Family::abuse: return "abuse";
    case Family::known_ip: return "known_ip";
    case Family::stripping: return "stripping";
    case Family::body: return "body";
    case Family::sender: return "sender";
    case Family::bulk: return "bulk";
    case Family::integrity: return "integrity";
    case Family::rule: return "rule";
  }
  return "rule";
}

std::string_view to_string(GateRole g) {
  switch (g) {
    case GateRole::none: return "";
    case GateRole::relay: return "relay";
    case GateRole::ioc: return "ioc";
    case GateRole::strip_one: return "strip_one";
    case GateRole::strip_both: return "strip_both";
    case GateRole::strip_tamper: return "strip_tamper";
  }
  return "";
}

int family_cap(Family f) {
  switch (f) {
    case Family::relay: return 20;
    case Family::abuse: return 15;
    case Family::known_ip: return 30;
    case Family::stripping: return 45;
    case Family::body: return 25;
    case Family::sender: return 20;
    case Family::bulk: return 6;
    case Family::integrity: return 4;
    case Family::rule: return 40;
  }
  return 0;
}

int stripping_cap_without_relay() { return 10; }

int family_cap(Family f, bool relay_evidence) {
  return f == Family::stripping && !relay_evidence ? stripping_cap_without_relay() : family_cap(f);
}

std::span<const SignalSpec> all_signals() { return kSignals; }

const SignalSpec* find_signal(std::string_view id) {
  for (const auto& s : kSignals)
    if (s.id == id) return &s;
  return nullptr;
}

}  // namespace hdrscan::heuristics
