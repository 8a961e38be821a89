// features.hpp: what grouping messages into campaign waves needs of one parsed message (issue
// 20): sender domains, the Microsoft 365 tenant name, URL hosts and their registrable domains,
// the Date, the subject, and a body-template fingerprint. Facts of the message, not verdicts:
// the scan record carries them (`grouping`, docs/output.md) and `hdrscan waves` reads them.
//
// Template fingerprint: a 64-bit SimHash (Charikar) over two sets of shingles:
//  - structure: the distinct root-to-element tag paths of the visible HTML (tag names of
//    elements a reader sees, mime/html.hpp; hidden filler and every attribute value left out;
//    img/br/wbr leaves dropped), so repeated rows, optional rows and sibling order do not
//    move it, plus the link/image layout (links holding images, linked or plain images of a
//    coarse size, tracking pixels left out);
//  - text: 3-word shingles of the visible text and the image alt texts, lower-cased, with URLs
//    dropped, every token holding a digit folded to "0" and tokens over 24 bytes (random
//    tokens) dropped.
// Sets, not counts, so a repeated row or filler block counts once; the text shingles together
// weigh at most what the structure weighs, so a random word salad cannot outvote the layout.
// A plain-text message has only text shingles. `template_shingles` is how many went in: a
// fingerprint over few shingles (an empty body) says little, and waves does not use it alone.
// URLs: the distinct absolute http(s) URLs of the message (visible links, visible image
// sources, then hidden ones, then URLs in the text part), at most kMaxUrls, each at most
// kMaxUrlBytes (a longer one loses its fragment, then its query; still longer, it is left out);
// scheme lower-cased, the rest as written (entities decoded by the HTML reader).
// Recipients (privacy first): the addresses the message was sent to (To, Cc, Delivered-To,
// X-Original-To, Received "for"), at most kMaxRecipients. Their domains are always kept; the
// addresses only when the caller asks (Recipients::addresses: `scan --include-recipients`).
// Either way every occurrence of a recipient address in the URLs and the subject is replaced
// by kRecipientMark: as written (any case), percent-encoded ("%40") and base64 (standard or
// URL-safe alphabet, starting at a token boundary), so an export of URLs and lures carries no
// address; a recipient's name or a token the kit derived from the address is not recognised.
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
inline constexpr std::size_t kMaxUrls = 8;
inline constexpr std::size_t kMaxUrlBytes = 512;
inline constexpr std::size_t kMaxRecipients = 16;
inline constexpr std::string_view kRecipientMark = "{recipient}";

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
  std::vector<std::string> urls;         // (above) recipient addresses replaced by the mark
  std::vector<std::string> recipient_domains;  // lower-case, distinct, in order
  // The recipient addresses (lower-case, distinct, in order); nullopt unless asked for.
  std::optional<std::vector<std::string>> recipients;
  bool from_is_recipient = false;  // the From address is one of the recipients (spoofed)
};

// Whether extract_features keeps the recipient addresses or only their domains.
enum class Recipients { domains, addresses };

MessageFeatures extract_features(const ParsedMessage& msg,
                                 Recipients recipients = Recipients::domains);

// Replaces in `s` every occurrence of each address (lower-case, as the recipients are kept;
// matched in any case), its percent-encoded form and its base64 forms with kRecipientMark.
// Returns how many were replaced.
std::size_t redact_addresses(std::string& s, const std::vector<std::string>& addresses);

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
