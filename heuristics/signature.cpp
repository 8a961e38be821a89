// signature.cpp: see signature.hpp.
#include "heuristics/signature.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "heuristics/digest.hpp"
#include "mime/decode.hpp"
#include "mime/fields/fields.hpp"
#include "mime/text.hpp"

namespace hdrscan::heuristics {
namespace {

// Exact field bytes with every line break made CRLF (files on disk may hold bare LF).
std::string crlf_raw(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 16);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out += "\r\n";
    else if (raw[i] == '\r' && (i + 1 >= raw.size() || raw[i + 1] != '\n')) out += "\r\n";
    else out.push_back(raw[i]);
  }
  return out;
}

constexpr long kMaxArcInstance = 50;  // RFC 8617 section 4.2.1

}  // namespace

std::string canonical_header(std::string_view raw, bool relaxed) {
  if (!relaxed) return crlf_raw(raw);
  // Written in place into one allocation of the largest possible size (the field, its name
  // lower-cased, plus a ':' when it has none), then cut to length: it was a name copy, one
  // push_back per value byte and a concatenation (issue 17: 1.7% of the m365 mail's Ir, ARC-Seal
  // checks).
  const std::size_t colon = std::min(raw.find(':'), raw.size());
  std::string out(raw.size() + 1, '\0');
  char* const start = out.data();
  char* o = start;
  for (std::size_t i = 0; i < colon; ++i) *o++ = mime::text::to_lower(raw[i]);
  while (o > start && (o[-1] == ' ' || o[-1] == '\t')) --o;
  *o++ = ':';
  // The value: CR and LF dropped, runs of SP/HTAB one SP between non-blanks, none at the
  // start or end.
  const char* s = raw.data() + std::min(colon + 1, raw.size());
  const char* const e = raw.data() + raw.size();
  const char* const value_start = o;
  bool ws = false;
  while (s < e) {
    const char c = *s;
    if (c == '\r' || c == '\n') {
      ++s;
      continue;
    }
    if (c == ' ' || c == '\t') {
      ws = true;
      ++s;
      continue;
    }
    if (ws && o != value_start) *o++ = ' ';
    ws = false;
    // A run of other bytes copied at once (a b= or bh= value is long).
    const char* r = s + 1;
    while (r < e && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') ++r;
    std::memcpy(o, s, static_cast<std::size_t>(r - s));
    o += r - s;
    s = r;
  }
  out.resize(static_cast<std::size_t>(o - start));
  return out;
}

std::string without_b_value(std::string_view raw) {
  std::string out(raw);
  std::size_t colon = out.find(':');
  std::size_t pos = colon == std::string::npos ? 0 : colon + 1;
  while (pos < out.size()) {
    std::size_t semi = out.find(';', pos);
    std::size_t end = semi == std::string::npos ? out.size() : semi;
    std::size_t k = pos;
    while (k < end && (out[k] == ' ' || out[k] == '\t' || out[k] == '\r' || out[k] == '\n')) ++k;
    if (k + 1 < end && (out[k] == 'b' || out[k] == 'B')) {
      std::size_t j = k + 1;
      while (j < end && (out[j] == ' ' || out[j] == '\t' || out[j] == '\r' || out[j] == '\n')) ++j;
      if (j < end && out[j] == '=') {
        out.erase(j + 1, end - (j + 1));
        return out;
      }
    }
    pos = end + 1;
  }
  return out;
}

namespace {

// A DER element of a public key: tag, definite length in minimal form, body.
struct Der {
  const unsigned char* p;
  std::size_t n;
};

// Takes the element with `tag` off the front of `in` (single-byte tag; short or 1-2 byte long
// length form, minimal); false on anything else.
bool der_take(Der& in, unsigned char tag, Der& body) {
  if (in.n < 2 || in.p[0] != tag) return false;
  std::size_t len = in.p[1], head = 2;
  if (len & 0x80) {
    const std::size_t k = len & 0x7f;
    if (k == 0 || k > 2 || in.n < 2 + k) return false;
    len = 0;
    for (std::size_t i = 0; i < k; ++i) len = len << 8 | in.p[2 + i];
    if (len < 0x80 || (k == 2 && len < 0x100)) return false;
    head += k;
  }
  if (in.n - head < len) return false;
  body = {in.p + head, len};
  in.p += head + len;
  in.n -= head + len;
  return true;
}

// A positive INTEGER in minimal form; `mag` is its magnitude without the sign octet.
bool der_positive(Der& in, Der& mag) {
  Der b{};
  if (!der_take(in, 0x02, b) || b.n == 0 || (b.p[0] & 0x80)) return false;
  if (b.p[0] == 0) {
    if (b.n == 1 || !(b.p[1] & 0x80)) return false;
    ++b.p, --b.n;
  }
  mag = b;
  return true;
}

// The modulus and exponent of a SubjectPublicKeyInfo in its one plain DER form, SEQUENCE {
// AlgorithmIdentifier {rsaEncryption, NULL}, BIT STRING {SEQUENCE {INTEGER n, INTEGER e}}}
// with nothing after it, n of 64..2048 bytes and odd, e odd and 3..2^64-1; else false (and
// the caller asks d2i_PUBKEY, which accepts every key this does: tests/unit/heuristics_rsakey).
bool plain_rsa_key(std::string_view der, std::string& n_out, std::string& e_out) {
  static constexpr unsigned char kRsaEncryption[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                     0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  Der all{reinterpret_cast<const unsigned char*>(der.data()), der.size()}, spki{}, bits{}, rsa{}, n{}, e{};
  if (!der_take(all, 0x30, spki) || all.n != 0) return false;
  if (spki.n < sizeof kRsaEncryption || std::memcmp(spki.p, kRsaEncryption, sizeof kRsaEncryption) != 0)
    return false;
  spki.p += sizeof kRsaEncryption, spki.n -= sizeof kRsaEncryption;
  if (!der_take(spki, 0x03, bits) || spki.n != 0 || bits.n < 1 || bits.p[0] != 0) return false;
  ++bits.p, --bits.n;  // no unused bits
  if (!der_take(bits, 0x30, rsa) || bits.n != 0) return false;
  if (!der_positive(rsa, n) || !der_positive(rsa, e) || rsa.n != 0) return false;
  if (n.n < 64 || n.n > 2048 || !(n.p[n.n - 1] & 1)) return false;
  if (e.n > 8 || !(e.p[e.n - 1] & 1) || (e.n == 1 && e.p[0] < 3)) return false;
  n_out.assign(reinterpret_cast<const char*>(n.p), n.n);
  e_out.assign(reinterpret_cast<const char*>(e.p), e.n);
  return true;
}

// The provider's RSA key of modulus `n` and exponent `e` (the key d2i_PUBKEY makes of them).
EVP_PKEY* rsa_from(const std::string& n, const std::string& e) {
  EVP_PKEY* key = nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
      (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) != nullptr &&
      EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    key = nullptr;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_e);
  BN_free(bn_n);
  return key;
}

}  // namespace

std::shared_ptr<const PublicKey> PublicKey::decode(std::string_view der) {
  auto key = std::make_shared<PublicKey>();
  if (plain_rsa_key(der, key->n_, key->e_)) return key;
  const unsigned char* q = reinterpret_cast<const unsigned char*>(der.data());
  key->pkey_ = d2i_PUBKEY(nullptr, &q, static_cast<long>(der.size()));
  if (!key->pkey_) return nullptr;
  std::call_once(key->built_, [] {});  // nothing left to build
  return key;
}

evp_pkey_st* PublicKey::get() const {
  std::call_once(built_, [this] { pkey_ = rsa_from(n_, e_); });
  return pkey_;
}

bool PublicKey::verify_digest(bool sha1, const unsigned char* digest, std::size_t digest_len,
                              std::string_view signature) const {
  EVP_PKEY* pkey = get();
  if (!pkey) return false;
  EVP_PKEY_CTX* ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    if (!idle_[sha1].empty()) {
      ctx = idle_[sha1].back();
      idle_[sha1].pop_back();
    }
  }
  if (!ctx) {
    ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    if (!ctx || EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, sha_digest(sha1)) != 1) {
      EVP_PKEY_CTX_free(ctx);  // not an RSA key: nothing it signs verifies here
      ERR_clear_error();
      return false;
    }
  }
  const bool ok = EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size(), digest, digest_len) == 1;
  if (!ok) ERR_clear_error();  // a failed verification leaves its reasons on the error queue
  std::lock_guard<std::mutex> lock(idle_mutex_);
  idle_[sha1].push_back(ctx);
  return ok;
}

PublicKey::~PublicKey() {
  for (auto& idle : idle_)
    for (EVP_PKEY_CTX* ctx : idle) EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(pkey_);
}

namespace {

// A signature (b=, decoded) and the digest of the data it signs: made once, checked against
// as many keys as needed (check_arc_seal tries every key of a domain).
struct SignedDigest {
  bool sha1 = false;
  std::string signature;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
};

// nullopt when b= is not exact base64 (it verifies nothing) or the digest cannot be made.
std::optional<SignedDigest> signed_digest(bool sha1, std::string_view data, std::string_view b64_signature) {
  SignedDigest s;
  s.sha1 = sha1;
  s.signature = mime::decode_base64_exact(b64_signature).value_or("");
  if (s.signature.empty() ||
      EVP_Digest(data.data(), data.size(), s.digest, &s.len, sha_digest(sha1), nullptr) != 1)
    return std::nullopt;
  return s;
}

bool verifies(const DkimKey& key, const SignedDigest& s) {
  return key.pkey && key.pkey->verify_digest(s.sha1, s.digest, s.len, s.signature);
}

}  // namespace

bool rsa_verify(const DkimKey& key, bool sha1, std::string_view data, std::string_view b64_signature) {
  const auto s = signed_digest(sha1, data, b64_signature);
  return s && verifies(key, *s);
}

long arc_instance(const mime::HeaderField& f) {
  // The AAR is not a tag list after its first tag (RFC 8617 section 4.1.1: i= comes first);
  // the AMS and AS are, and name i= anywhere.
  std::string_view v = f.value;
  std::size_t k = 0;
  auto blanks = [&] {
    while (k < v.size() && (v[k] == ' ' || v[k] == '\t' || v[k] == '\r' || v[k] == '\n')) ++k;
  };
  blanks();
  if (k < v.size() && (v[k] == 'i' || v[k] == 'I')) {
    ++k;
    blanks();
    if (k < v.size() && v[k] == '=') {
      ++k;
      blanks();
      long n = 0;
      std::size_t digits = 0;
      while (k < v.size() && v[k] >= '0' && v[k] <= '9' && digits < 6) n = n * 10 + (v[k++] - '0'), ++digits;
      if (digits) return n;
    }
  }
  if (auto i = mime::find_tag_int(f.value, "i")) return *i;
  return -1;
}

SealCheck check_arc_seal(const mime::ParsedMessage& msg, const mime::HeaderField& seal, const IndicatorPack& pack) {
  SealCheck c;
  const auto tags = mime::parse_tag_list(seal.value);
  const std::string s = tags.get("s").value_or(""), d = tags.get("d").value_or("");
  const long inst = arc_instance(seal);
  c.what = "s=" + s + " d=" + d + " i=" + std::to_string(inst);
  c.key = s.empty() || d.empty() ? nullptr : pack.find_seal_key(s, d);
  if (!c.key) {
    c.state = SealCheck::State::no_key;
    return c;
  }
  const std::string a = mime::text::lower(tags.get("a").value_or("rsa-sha256"));
  if (a != "rsa-sha256" && a != "rsa-sha1") {
    c.state = SealCheck::State::unsupported;
    c.what += ": a=" + a + " not verified";
    return c;
  }
  const auto& fields = msg.headers.fields;
  std::size_t pos = fields.size();
  for (std::size_t k = 0; k < fields.size(); ++k)
    if (&fields[k] == &seal) pos = k;
  if (pos == fields.size() || inst < 1 || inst > kMaxArcInstance) {
    c.state = SealCheck::State::incomplete;
    c.what += ": instance out of 1.." + std::to_string(kMaxArcInstance);
    return c;
  }
  // The ARC fields with their instance, parsed once (a hostile message may hold thousands).
  struct ArcField { std::size_t index; int kind; long instance; };  // kind: 0 AAR, 1 AMS, 2 AS
  static constexpr std::string_view kNames[] = {"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"};
  std::vector<ArcField> arc;
  for (std::size_t k = 0; k < fields.size(); ++k)
    for (int kind = 0; kind < 3; ++kind)
      if (mime::text::iequals(fields[k].name, kNames[kind])) {
        const long i = arc_instance(fields[k]);
        if (i >= 1 && i <= inst) arc.push_back({k, kind, i});
        break;
      }
  // The field of `kind` and instance `j` nearest the seal (below it for lower instances).
  auto pick = [&](int kind, long j) -> const mime::HeaderField* {
    const mime::HeaderField* best = nullptr;
    std::size_t best_d = 0;
    for (const ArcField& a : arc) {
      if (a.kind != kind || a.instance != j || (j < inst && a.index < pos)) continue;
      const std::size_t dist = a.index > pos ? a.index - pos : pos - a.index;
      if (!best || dist < best_d) best = &fields[a.index], best_d = dist;
    }
    return best;
  };
  const auto cv = mime::text::lower(tags.get("cv").value_or(""));
  const long first = cv == "fail" ? inst : 1;
  std::string data;
  for (long j = first; j <= inst; ++j) {
    for (int kind = 0; kind < 3; ++kind) {
      if (j == inst && kind == 2) {
        data += canonical_header(without_b_value(seal.raw), true);
        continue;
      }
      const mime::HeaderField* f = pick(kind, j);
      if (!f) {
        c.state = SealCheck::State::incomplete;
        c.what += ": no " + std::string(kNames[kind]) + " of instance " + std::to_string(j) + " to verify it over";
        return c;
      }
      data += canonical_header(f->raw, true);
      data += "\r\n";
    }
  }
  const auto signed_data = signed_digest(a == "rsa-sha1", data, tags.get("b").value_or(""));
  bool ok = signed_data && verifies(*c.key, *signed_data);
  if (!ok && signed_data) {
    // Exchange Online seals some mail under one selector with the key published for another
    // (7 real seals s=arcselector10001 of 2025-11..2026-05 in ../shared/corpus verify only with
    // arcselector9901's key): any key the pack holds for the same d= is the signer's. A forger
    // holds none of them, so trying each costs nothing in strength.
    const std::string suffix = "._domainkey." + mime::text::lower(d);
    for (const auto& k : pack.dkim_keys) {
      if (&k == c.key || k.name.size() <= suffix.size() ||
          k.name.compare(k.name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      if (verifies(k, *signed_data)) {
        ok = true;
        c.key = &k;
        c.what += ": verified with the key published as " + k.name;
        break;
      }
    }
  }
  c.state = ok ? SealCheck::State::verified : SealCheck::State::failed;
  if (!ok) c.what += ": the signature does not verify with the key (nor with any other key for d=" + d + ")";
  return c;
}

}  // namespace hdrscan::heuristics
