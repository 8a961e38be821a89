// signature.hpp (internal to heuristics/): DKIM-style signature checking shared by
// detect_integrity (DKIM-Signature, ARC-Message-Signature) and detect_stripping (the sending
// tenant's ARC-Seal). RFC 6376 header canonicalisation, the b= value emptied (section 3.7),
// RSA PKCS#1 v1.5 with SHA-256 or SHA-1 through OpenSSL. Keys come only from the indicator
// pack (`dkim-key`, `arc-seal-key`); hdrscan never looks one up in the DNS.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "heuristics/indicators.hpp"
#include "mime/message.hpp"

struct evp_pkey_st;      // OpenSSL's EVP_PKEY
struct evp_pkey_ctx_st;  // OpenSSL's EVP_PKEY_CTX

namespace hdrscan::heuristics {

// One header field in simple (exact bytes, line breaks made CRLF) or relaxed form (name
// lower-cased, unfolded, runs of blanks one SP, blanks around the colon and at the end
// dropped); without the final CRLF.
std::string canonical_header(std::string_view raw, bool relaxed);
// The field with its b= value emptied (not bh=).
std::string without_b_value(std::string_view raw);
// The public key of a `dkim-key` / `arc-seal-key` entry's p= (SubjectPublicKeyInfo, DER):
// the keys d2i_PUBKEY accepts, checked when the pack is loaded. OpenSSL 3's d2i_PUBKEY sets up
// its decoder chain on every call and any first use of OpenSSL initialises it (configuration,
// name maps, providers): 7.1 M of the 17.9 M instructions of a one-message scan, whose mail
// has no signature to verify. So an RSA key in its one plain DER form is read here and made
// an EVP_PKEY on first use (once, thread-safe); any other form is d2i_PUBKEY's, at load.
// Verification goes through contexts set up once per key and digest and reused (kept here,
// one per thread that verifies at the same time): OpenSSL 3 sets up a fresh EVP_DigestVerify
// context by fetching the signature and digest implementations and exporting the key to the
// provider each time: 30% of rsa_verify's time in `perf` of Microsoft 365 mail, 14% now (the
// RSA operation is the rest).
class PublicKey {
 public:
  // nullptr where d2i_PUBKEY rejects `der`.
  static std::shared_ptr<const PublicKey> decode(std::string_view der);
  // The EVP_PKEY (owned by this); nullptr only if OpenSSL cannot build an RSA key at all.
  evp_pkey_st* get() const;
  // Whether `signature` is this key's RSA PKCS#1 v1.5 signature of the SHA-1 (`sha1`) or
  // SHA-256 digest `digest` (of `digest_len` bytes). Thread-safe.
  bool verify_digest(bool sha1, const unsigned char* digest, std::size_t digest_len,
                     std::string_view signature) const;
  PublicKey() = default;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  ~PublicKey();

 private:
  std::string n_, e_;  // a plain RSA key's modulus and exponent (big-endian magnitudes)
  mutable std::once_flag built_;
  mutable evp_pkey_st* pkey_ = nullptr;  // d2i_PUBKEY's at load, or built from n_, e_
  // Idle verification contexts, [sha1]; each was set up with verify_init, PKCS#1 v1.5 padding
  // and its digest, and is used by one thread at a time.
  mutable std::mutex idle_mutex_;
  mutable std::vector<evp_pkey_ctx_st*> idle_[2];
};
// Whether `b64_signature` (base64, blanks allowed) is an RSA PKCS#1 v1.5 signature of `data`
// by `key` under SHA-1 (`sha1`) or SHA-256.
bool rsa_verify(const DkimKey& key, bool sha1, std::string_view data, std::string_view b64_signature);

// An ARC-Seal checked with the signer's key from the pack (RFC 8617 section 5.1.1): the seal
// of instance i signs, in relaxed header canonicalisation, the ARC-Authentication-Results,
// ARC-Message-Signature and ARC-Seal of every instance 1..i in that order, the last being
// the seal itself with b= emptied. A seal with cv=fail signs only its own instance's set
// (what Exchange Online does: measured on every cv=fail seal in ../shared/corpus/dev_relays,
// tools/verify_arc_seals.py). Where an instance has more than one set, the headers of the
// seal's own instance nearest to it are taken, and those of lower instances nearest below it
// (sets are prepended: older ones lie further down). A seal that fails with its selector's key is
// tried with the pack's other keys for the same d= (Exchange Online reuses keys across
// selectors); `key` is then the one that verified.
struct SealCheck {
  enum class State {
    no_key,       // the pack has no key for s=/d=: not judged
    unsupported,  // an algorithm other than rsa-sha256 / rsa-sha1: not judged
    incomplete,   // an instance's AAR or AMS is absent (or i= out of 1..50): not judged here
    verified,     // the key holder sealed exactly these headers
    failed        // complete, keyed, and the signature does not verify
  };
  State state = State::no_key;
  const DkimKey* key = nullptr;
  std::string what;  // "s=arcselector9901 d=microsoft.com i=1" and, when not verified, why
};
SealCheck check_arc_seal(const mime::ParsedMessage& msg, const mime::HeaderField& seal, const IndicatorPack& pack);
// The instance number i= of an ARC header (AAR, AMS or AS); -1 when none.
long arc_instance(const mime::HeaderField& f);

}  // namespace hdrscan::heuristics
