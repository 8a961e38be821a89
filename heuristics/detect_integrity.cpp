// detect_integrity.cpp: where a DKIM-Signature or ARC-Message-Signature survives, recompute
// its body hash (bh=) under the stated body canonicalisation (RFC 6376 section 3.4.3/3.4.4,
// l= honoured) with OpenSSL and report match or mismatch. No DNS: full signature verification
// needs the signer's key, which hdrscan never fetches: when the user supplies it (indicator
// entries `dkim-key selector._domainkey.domain <TXT>`), the signature is verified in full
// (RFC 6376 header selection and canonicalisation, RSA PKCS#1 v1.5 with SHA-256 or SHA-1).
// A mismatch says the body changed after signing (a list footer, a redaction, a relay
// rewriting it), so it weighs nothing. A signature that fails while its body hash matches and
// whose h= names headers now absent proves those headers were removed after signing: that is
// stripping evidence (campaign.md: "Only a signature verified with the signer's key shows a
// header was removed").
// Limits: bodies over 64 MB are not hashed; at most 4 signatures per message.
#include <openssl/evp.h>

#include <algorithm>

#include <cstdint>
#include <optional>

#include "heuristics/body_hash.hpp"
#include "heuristics/detectors.hpp"
#include "heuristics/signature.hpp"
#include "mime/decode.hpp"

namespace hdrscan::heuristics {
namespace {

std::string base64(const unsigned char* d, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), d, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

struct Verification {
  bool verified = false;
  std::vector<std::string> absent_signed;  // h= names with no field left in the message
};

Verification verify_signature(const mime::ParsedMessage& msg, const mime::HeaderField& sig, const mime::TagList& tags,
                              const DkimKey& key, const EVP_MD* md, bool relaxed_headers) {
  Verification v;
  std::string data;
  std::vector<bool> used(msg.headers.fields.size(), false);
  for (const auto& name : tags.header_list()) {
    int pick = -1;
    for (int i = static_cast<int>(msg.headers.fields.size()) - 1; i >= 0; --i) {
      const auto& f = msg.headers.fields[static_cast<std::size_t>(i)];
      if (!used[static_cast<std::size_t>(i)] && &f != &sig && mime::text::iequals(f.name, name)) {
        pick = i;
        break;
      }
    }
    if (pick < 0) {
      if (std::find(v.absent_signed.begin(), v.absent_signed.end(), name) == v.absent_signed.end())
        v.absent_signed.push_back(name);
      continue;
    }
    used[static_cast<std::size_t>(pick)] = true;
    data += canonical_header(msg.headers.fields[static_cast<std::size_t>(pick)].raw, relaxed_headers);
    data += "\r\n";
  }
  data += canonical_header(without_b_value(sig.raw), relaxed_headers);
  v.verified = rsa_verify(key, md == EVP_sha1(), data, tags.get("b").value_or(""));
  return v;
}

}  // namespace

void detect_integrity(const DetectorInput& in, Findings& out) {
  const auto& msg = in.msg;
  std::string_view body = msg.body();
  if (body.size() > (64u << 20)) {
    out.pass("integrity.body_hash_mismatch", "body too large to hash");
    return;
  }
  // The signatures checked (at most 4), their tags parsed once.
  struct Sig {
    const char* name;
    const mime::HeaderField* f;
    mime::TagList tags;
    std::string a;          // a=, lower case
    bool relaxed_headers;   // c= header canonicalisation
    bool relaxed;           // c= body canonicalisation
    bool sha1;
    std::size_t limit;  // l=, SIZE_MAX when absent
    std::size_t job;    // index into jobs
  };
  std::vector<Sig> sigs;
  for (const char* name : {"DKIM-Signature", "ARC-Message-Signature"}) {
    for (const auto* f : msg.headers.all(name)) {
      if (sigs.size() >= 4) break;
      auto tags = mime::parse_tag_list(f->value);
      if (!tags.ok || !tags.get("bh")) continue;
      std::string a = mime::text::lower(tags.get("a").value_or("rsa-sha256"));
      std::string c = mime::text::lower(tags.get("c").value_or("simple/simple"));
      std::size_t slash = c.find('/');
      bool relaxed = slash != std::string::npos && c.substr(slash + 1) == "relaxed";
      bool relaxed_headers = c.substr(0, slash) == "relaxed";
      std::size_t limit = SIZE_MAX;
      if (auto l = tags.get_int("l"); l && *l >= 0) limit = static_cast<std::size_t>(*l);
      bool sha1 = a.find("sha1") != std::string::npos;
      sigs.push_back(Sig{name, f, std::move(tags), std::move(a), relaxed_headers, relaxed, sha1, limit, 0});
    }
  }
  // Signatures of one message mostly share canonicalisation and algorithm: each distinct
  // (canonicalisation, algorithm, l=) is hashed once, and each canonicalisation is one pass
  // over the body whatever the number of digests.
  BodyHashJob jobs[2][4];
  std::size_t n_jobs[2] = {0, 0};
  for (auto& s : sigs) {
    BodyHashJob* js = jobs[s.relaxed];
    std::size_t& n = n_jobs[s.relaxed];
    std::size_t k = 0;
    while (k < n && !(js[k].sha1 == s.sha1 && js[k].limit == s.limit)) ++k;
    if (k == n) {
      js[k].sha1 = s.sha1;
      js[k].limit = s.limit;
      ++n;
    }
    s.job = k;
  }
  std::string computed_b64[2][4];
  for (int r = 0; r < 2; ++r) {
    if (n_jobs[r] == 0) continue;
    hash_body(body, r == 1, jobs[r], n_jobs[r]);
    for (std::size_t k = 0; k < n_jobs[r]; ++k) computed_b64[r][k] = base64(jobs[r][k].digest, jobs[r][k].digest_len);
  }
  std::vector<std::string> notes;
  int checked = 0;
  for (const auto& sig : sigs) {
    const auto* f = sig.f;
    const auto& tags = sig.tags;
    const char* name = sig.name;
    auto bh = tags.get("bh");
    const std::string& a = sig.a;
    const EVP_MD* md = sig.sha1 ? EVP_sha1() : EVP_sha256();
    bool relaxed = sig.relaxed;
    const std::string& computed = computed_b64[relaxed][sig.job];
    ++checked;
    std::string who = name + std::string(" d=") + tags.get("d").value_or("?");
    bool body_ok = computed == *bh;
    if (body_ok) {
      notes.push_back(who + " bh matches");
    } else {
      out.fire("integrity.body_hash_mismatch", where_of(msg, f),
               who + ": bh=" + *bh + " but the body hashes to " + computed + " (" + (relaxed ? "relaxed" : "simple") + ")");
    }
    // Full verification when the user supplied the signer's key.
    auto d = tags.get("d"), s = tags.get("s");
    const DkimKey* key = d && s ? in.pack.find_dkim_key(*s, *d) : nullptr;
    if (!key) continue;
    if (a.find("ed25519") != std::string::npos) {
      notes.push_back(who + " uses ed25519: not verified");
      continue;
    }
    Verification v = verify_signature(msg, *f, tags, *key, md, sig.relaxed_headers);
    if (v.verified && body_ok) {
      notes.push_back(who + " s=" + *s + ": signature verified with the supplied key (" + key->from.file + ":" +
                      std::to_string(key->from.line) + ")");
    } else if (!v.verified) {
      out.fire("integrity.signature_invalid", where_of(msg, f), who + " s=" + *s + ": does not verify with the supplied key");
      std::string removed;
      for (const auto& h : v.absent_signed)
        if (in.pack.is_stripped_header(h)) removed += (removed.empty() ? "" : ", ") + h;
      if (body_ok && !removed.empty())
        out.fire("strip.signed_header_removed", where_of(msg, f),
                 who + " signed " + removed + ", now absent; body intact, signature broken: removed after signing");
    }
  }
  std::string why = checked == 0 ? "no surviving DKIM/ARC signature with bh=" : "";
  for (const auto& n : notes) why += (why.empty() ? "" : "; ") + n;
  out.pass("integrity.body_hash_mismatch", why);
  out.pass("integrity.signature_invalid", in.pack.has_signature_keys() ? why : "no signer keys supplied (dkim-key entries): signatures not verified");
  out.pass("strip.signed_header_removed", "no verified evidence of a signed header removed");
}

}  // namespace hdrscan::heuristics
