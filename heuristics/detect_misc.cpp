// detect_misc.cpp: bulk-sender residue (the actor also used Amazon SES and Mailchimp) and the
// analyst's own header rules from the indicator pack (MHA-style regex rules, RE2).
#include <re2/re2.h>

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {

void detect_bulk(const DetectorInput& in, Findings& out) {
  for (const auto& b : in.pack.bulk_headers) {
    for (const auto* f : in.msg.headers.all(b.header)) {
      if (!b.contains.empty() && mime::text::lower(f->value).find(b.contains) == std::string::npos) continue;
      out.fire("bulk.sender_residue", where_of(in.msg, f), b.family + ": " + std::string(f->name) + ": " + std::string(f->value));
      return;
    }
  }
  out.pass("bulk.sender_residue", "no Amazon SES / Mailchimp residue");
}

void detect_header_rules(const DetectorInput& in, Findings& out) {
  for (const auto& rule : in.pack.header_rules) {
    bool hit = false;
    for (const auto* f : fields_in_zones(in.msg, in.route, rule.header, kNotOrigin)) {
      if (RE2::PartialMatch(f->decoded, *rule.regex)) {
        out.fire(rule.signal, where_of(in.msg, f), f->decoded, rule.weight);
        hit = true;
        break;
      }
    }
    if (!hit) out.pass(rule.signal, "rule " + rule.from.file + ":" + std::to_string(rule.from.line) + " did not match");
  }
}

}  // namespace hdrscan::heuristics
