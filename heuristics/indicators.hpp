// indicators.hpp: detection knowledge as data. The built-in pack (corpus/indicators/
// builtin.ind, compiled in) plus any files the user adds; every entry keeps its provenance.
//
// File format (line oriented, UTF-8; '#' starts a comment line):
//   @format hdrscan-indicators 1        first non-comment line
//   @version 2026.11.27                 pack version (optional; at most once per file)
//   @date 2026-11-27                    date of that version, YYYY-MM-DD (optional; once)
//   @source <free text>                 provenance for the entries that follow (required)
//   connector-ip <ip-or-cidr> [<from>..<to>]   attacker connector IPs, optionally with the
//                                       window (UTC dates, YYYY-MM-DD) in which they were the
//                                       campaign's; outside it an address may have been
//                                       reassigned (weak evidence only)
//   @window <from>..<to>                default window for the connector-ip lines that follow,
//                                       until the next @source
//   microsoft-range <cidr>              Microsoft's own Exchange Online / M365 ranges
//   stripped-header <name>              a header the campaign's transport rules removed
//   stripped-prefix <name-prefix>       ... matched by prefix (chunked variants)
//   lure-term <word or phrase>          sweepstakes vocabulary (matched on word boundaries)
//   bulk-header <family> <header>[=<substring>]   bulk-sender residue (Amazon SES, Mailchimp)
//   tenant-header <arc-set|verdict|ms-antispam> <name> [consumer=<name>]
//                                       the names under which the sending tenant's ARC set,
//                                       antispam verdict and X-Microsoft-Antispam travel (in the
//                                       consumer view a Microsoft receiver renames them)
//   expect <arc-set|verdict|ms-antispam> since <YYYY-MM-DD>
//                                       Exchange Online stamps it on outbound mail since then
//                                       (judged by Exchange Online's own time stamps)
//   egress-without-arc <host-suffix>    a smart host tenants route outbound mail through
//                                       (outbound connector); Exchange Online does not seal ARC
//                                       on mail it hands to it
//   link-rewriter <host-suffix> <query=<param>|proofpoint-v2|proofpoint-v3|opaque>
//                                       a gateway that rewrites links (Safe Links, URL Defense,
//                                       ...): the body detectors judge the original URL it
//                                       carries (`opaque`: none recoverable, the link is skipped);
//                                       the rewriter's own tokens are not the sender's
//   header-rule <signal> <weight> <header> <RE2 regex>   analyst rule, MHA style
//   dkim-key <selector>._domainkey.<domain> <TXT record: v=DKIM1; k=rsa; p=...>
//                                       a signer's public key the user supplies, for full
//                                       DKIM / ARC-Message-Signature verification (hdrscan
//                                       never looks keys up in the DNS); ARC-Seals of that
//                                       signer are verified with it too
//   arc-seal-key <selector>._domainkey.<domain> <TXT record>
//                                       the same, used ONLY to verify the sending tenant's
//                                       ARC-Seal (detect_stripping): a seal that does not
//                                       verify is not the tenant's. Not used for
//                                       DKIM-Signature / ARC-Message-Signature: lists and
//                                       gateways change what an AMS signs (Subject, body), and
//                                       the AMS of Exchange Online names headers that are
//                                       normally absent (X-MS-Exchange-AntiSpam-MessageData-1),
//                                       so a failing AMS would read as a removed header
//                                       (strip.signed_header_removed) on legitimate list mail.
//                                       The seal signs only the ARC headers, which lists keep.
// Errors name the file and the line: "indicators.ind:12: bad CIDR '1.2.3.4/33'".
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mime/net.hpp"

namespace re2 { class RE2; }

namespace hdrscan::heuristics {

struct Provenance {
  std::string file;  // "builtin" or the path
  int line = 0;
  std::string source;  // the @source text in force
};

// A closed interval of UTC days, as Unix seconds [from, to_end).
struct DateWindow {
  std::int64_t from = 0, to_end = 0;
  std::string text;  // "2021-09-01..2022-12-31"
  bool contains(std::int64_t t) const { return t >= from && t < to_end; }
};
struct IpIndicator {
  mime::Cidr range; std::string text; Provenance from;
  std::optional<DateWindow> window;  // none: always the campaign's
};
enum class TenantHeader { arc_set, verdict, ms_antispam };
std::string_view to_string(TenantHeader k);
struct TenantHeaderName {
  TenantHeader kind; std::string name; std::string consumer_name;  // consumer "" = same name
  Provenance from;
};
struct LinkRewriter { std::string host; std::string mode; std::string param; Provenance from; };
struct Expectation { TenantHeader kind; std::int64_t since = 0; std::string date; Provenance from; };
struct NameIndicator { std::string name; Provenance from; };  // header names, lower-cased
struct LureTerm { std::string term; Provenance from; };      // lower-cased
struct BulkHeader { std::string family; std::string header; std::string contains; Provenance from; };
struct HeaderRule {
  std::string signal; int weight = 0; std::string header; std::string pattern;
  std::shared_ptr<const re2::RE2> regex; Provenance from;
};

class PublicKey;  // heuristics/signature.hpp
struct DkimKey {
  std::string name;  // "selector._domainkey.domain", lower-cased
  std::shared_ptr<const PublicKey> pkey;  // never null in a loaded pack
  Provenance from;
  bool seal_only = false;  // an `arc-seal-key` entry: ARC-Seal verification only
};

class IndicatorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class IndicatorPack {
 public:
  static IndicatorPack builtin();                 // the compiled-in pack
  static IndicatorPack empty() { return {}; }
  // Adds entries from text / a file. Throws IndicatorError("file:line: reason").
  void add_text(std::string_view text, const std::string& label);
  void add_file(const std::string& path);

  // "@version" / "@date" of every loaded file that has either (`hdrscan --version` prints
  // the built-in pack's).
  struct Stamp { std::string label; std::string version; std::string date; };
  std::vector<Stamp> stamps;
  std::vector<IpIndicator> connector_ips;
  std::vector<IpIndicator> microsoft_ranges;
  std::vector<NameIndicator> stripped_headers;
  std::vector<NameIndicator> stripped_prefixes;
  std::vector<LureTerm> lure_terms;
  std::vector<BulkHeader> bulk_headers;
  std::vector<HeaderRule> header_rules;
  std::vector<DkimKey> dkim_keys;
  std::vector<TenantHeaderName> tenant_headers;
  std::vector<Expectation> expectations;
  std::vector<NameIndicator> egress_without_arc;  // host suffixes, lower-cased
  std::vector<LinkRewriter> link_rewriters;
  // The key for DKIM-Signature / ARC-Message-Signature verification (`dkim-key` only).
  const DkimKey* find_dkim_key(std::string_view selector, std::string_view domain) const;
  // The key for ARC-Seal verification (`arc-seal-key` or `dkim-key`).
  const DkimKey* find_seal_key(std::string_view selector, std::string_view domain) const;
  bool has_signature_keys() const;  // any `dkim-key` entry

  const IpIndicator* match_connector_ip(const mime::IpAddress& ip) const;
  bool is_microsoft(const mime::IpAddress& ip) const;
  bool is_stripped_header(std::string_view name) const;
  // Names of the tenant's header of `kind` in the given view (consumer: renamed by a
  // Microsoft receiver), in pack order, each once (ASCII case ignored).
  std::vector<std::string_view> tenant_header_names(TenantHeader kind, bool consumer) const;
  // The earliest date since which Exchange Online stamps `kind`; nullptr when not stated.
  const Expectation* expectation(TenantHeader kind) const;
  const NameIndicator* egress_without_arc_host(std::string_view host) const;
  const LinkRewriter* link_rewriter(std::string_view host) const;
  // The lure terms' first words, distinct, lower-cased, looked up by detect_body once per
  // word of a text (issue 17): the caller hashes the word with lure_hash_step (lower-casing
  // as it goes) and gets the word's index in lure_first_words(), or -1. Kept by add_text,
  // the one place lure terms are added.
  static constexpr std::uint64_t kLureHashSeed = 0xcbf29ce484222325ull;
  static std::uint64_t lure_hash_step(std::uint64_t h, char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 'A' && u <= 'Z') u = static_cast<unsigned char>(u - 'A' + 'a');
    return (h ^ u) * 0x100000001b3ull;
  }
  int lure_first_word(std::uint64_t hash, std::string_view word) const;
  // False when no lure term's first word starts with `first` (lower-cased) and has `size`
  // bytes: most words of a text are passed over on this, unhashed.
  bool maybe_lure_first_word(char first, std::size_t size) const {
    const std::uint64_t bits = lure_first_len_[static_cast<unsigned char>(first)];
    return (bits >> (size < 63 ? size : 63)) & 1u;
  }
  const std::vector<std::string>& lure_first_words() const { return lure_words_; }
  std::size_t lure_first_word_max() const { return lure_first_word_max_; }
  std::size_t size() const;

 private:
  std::vector<std::string> lure_words_;
  // open addressing, a power of two at least 4x lure_words_: (hash, index + 1), 0 = empty
  std::vector<std::pair<std::uint64_t, int>> lure_slots_;
  std::array<std::uint64_t, 256> lure_first_len_{};  // by first byte: bit min(size, 63)
  std::size_t lure_first_word_max_ = 0;
};

std::string_view builtin_indicator_text();  // generated at build time

// A header name an indicator file may hold (1-200 printable ASCII characters, no ':'): the
// loader's rule, and `audit --export-indicators` writes only such names.
bool valid_header_name(std::string_view name);

}  // namespace hdrscan::heuristics
