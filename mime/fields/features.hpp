// features.hpp: what grouping messages into campaign waves needs of one parsed message (issue
// 20): sender domains, the Microsoft 365 tenant name, URL hosts and their registrable domains,
// the Date, the subject, and a body-template fingerprint. Facts of the message, not verdicts:
// the scan record carries them (`grouping`, docs/output.md) and `hdrscan waves` reads them.
//
// Template fingerprint: a 64-bit SimHash (Charikar) over two sets of shingles:
//  - structure: 4-grams of the visible HTML skeleton (tag names of elements a reader sees,
//    mime/html.hpp; hidden filler and every attribute value left out) plus the link/image
//    layout (links holding images, linked images and their size classes);
//  - text: 3-word shingles of the visible text and the image alt texts, lower-cased, with URLs
//    dropped, every token holding a digit folded to "0" and tokens over 24 bytes (random
//    tokens) dropped.
// Sets, not counts, so a repeated row or filler block counts once; the text shingles together
// weigh at most what the structure weighs, so a random word salad cannot outvote the layout.
// A plain-text message has only text shingles. `template_shingles` is how many went in: a
// fingerprint over few shingles (an empty body) says little, and waves does not use it alone.
// Limits: text read is capped at kFeatureTextBytes, hosts at kMaxUrlHosts (distinct, in order
// of appearance); pure, never throws on bad mail (what cannot be read stays empty).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message.hpp"

namespace hdrscan::mime {

inline constexpr std::size_t kFeatureTextBytes = 16u << 10;
inline constexpr std::size_t kMaxUrlHosts = 32;

struct MessageFeatures {
  std::string envelope_domain;  // Return-Path, else smtp.mailfrom of Authentication-Results,
                                // else Received-SPF envelope-from; lower-case, "" when none
  std::string from_domain;      // of the From address, lower-case
  std::string tenant_name;      // "<name>.onmicrosoft.com" of the sending tenant where visible
                                // (X-OriginatorOrg, envelope, From, DKIM d=), else ""
  std::vector<std::string> url_hosts;    // hosts of http(s) links, image sources and URLs in
                                         // plain text, lower-case, distinct, in order
  std::vector<std::string> url_domains;  // their registrable domains (PSL), distinct, in order
  std::optional<std::int64_t> date;      // the Date header (Unix s, UTC) when it parses
  std::string subject;                   // decoded Subject
  std::uint64_t template_hash = 0;       // SimHash (above)
  std::size_t template_shingles = 0;     // shingles that went into it
};

MessageFeatures extract_features(const ParsedMessage& msg);

// Only MessageFeatures::tenant_name (cheap: a few header fields; scan prints it for every
// message that shows a sending tenant).
std::string sending_tenant_name(const ParsedMessage& msg);

// The host of an absolute http(s) or protocol-relative URL: userinfo and port removed,
// lower-cased, a trailing dot dropped; "" when there is none or it holds bytes a host name or
// IP literal cannot ("http://a.com@1.2.3.4/x" -> "1.2.3.4").
std::string url_host(std::string_view url);

// SimHash (one place for the arithmetic; tests use it): per bit, +1 for each added feature
// hash that has it set, -1 otherwise. value() sets bit b when count[b] (plus `weight` times
// another set's count[b]) is positive.
struct SimHasher {
  std::int32_t count[64] = {};
  void add(std::uint64_t feature_hash);
  void add(std::string_view feature);  // hashed first
  std::uint64_t value(const SimHasher* other = nullptr, double weight = 0) const;
};

// Differing bits of two fingerprints.
int hamming(std::uint64_t a, std::uint64_t b);

}  // namespace hdrscan::mime
