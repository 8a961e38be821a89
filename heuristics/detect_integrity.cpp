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

#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "heuristics/detectors.hpp"
#include "heuristics/signature.hpp"
#include "mime/decode.hpp"

namespace hdrscan::heuristics {
namespace {

// Appends one line (without its ending) in relaxed form: runs of SP/HTAB become one SP,
// trailing SP/HTAB are dropped.
void append_relaxed(std::string& out, const char* s, const char* e) {
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) --e;
  if (e <= s) return;  // empty or all blanks (also tells GCC the length below is not negative)
  const std::size_t n = static_cast<std::size_t>(e - s);
  if (!std::memchr(s, ' ', n) && !std::memchr(s, '\t', n)) {  // base64 and most long lines
    out.append(s, n);
    return;
  }
  while (s < e) {
    const char* w = s;
    while (w < e && *w != ' ' && *w != '\t') ++w;
    out.append(s, static_cast<std::size_t>(w - s));
    if (w == e) break;
    while (w < e && (*w == ' ' || *w == '\t')) ++w;
    out.push_back(' ');
    s = w;
  }
}

// The body in DKIM canonical form. Lines end at CRLF, LF or a bare CR; each is written with
// CRLF. One pass, memchr for the line ends, no allocation per line (this ran once per byte
// through find_first_of and was the largest cost of a scan: see tools/bench).
std::string canonical_body(std::string_view body, bool relaxed) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  const char* p = body.data();
  const char* const end = p + body.size();
  // Most bodies have no bare CR (files with LF or CRLF line ends): then a line ends at the LF,
  // less a CR just before it, and one memchr per line finds it. Otherwise look for both.
  bool bare_cr = false;
  for (const char* c = p; (c = static_cast<const char*>(std::memchr(c, '\r', static_cast<std::size_t>(end - c))));) {
    if (c + 1 >= end || c[1] != '\n') {
      bare_cr = true;
      break;
    }
    c += 2;
  }
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    const char* line_end;  // a CR before the LF ends the line (CRLF or bare CR)
    if (!bare_cr) {
      line_end = nl && nl > p && nl[-1] == '\r' ? nl - 1 : stop;
    } else {
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
      line_end = cr ? cr : stop;
    }
    if (relaxed) append_relaxed(out, p, line_end);
    else out.append(p, static_cast<std::size_t>(line_end - p));
    out += "\r\n";
    if (line_end == end) break;  // last line without an ending
    p = line_end + 1;
    if (*line_end == '\r' && p < end && *p == '\n') ++p;
  }
  // Remove trailing empty lines.
  while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  if (out.empty() && !relaxed) out = "\r\n";
  return out;
}

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
  std::vector<std::string> notes;
  int checked = 0;
  std::optional<std::string> canon_simple, canon_relaxed;
  std::map<std::tuple<bool, bool, std::size_t>, std::string> digests;
  for (const char* name : {"DKIM-Signature", "ARC-Message-Signature"}) {
    for (const auto* f : msg.headers.all(name)) {
      if (checked >= 4) break;
      auto tags = mime::parse_tag_list(f->value);
      auto bh = tags.get("bh");
      if (!tags.ok || !bh) continue;
      std::string a = mime::text::lower(tags.get("a").value_or("rsa-sha256"));
      const EVP_MD* md = a.find("sha1") != std::string::npos ? EVP_sha1() : EVP_sha256();
      std::string c = mime::text::lower(tags.get("c").value_or("simple/simple"));
      std::size_t slash = c.find('/');
      bool relaxed = slash != std::string::npos && c.substr(slash + 1) == "relaxed";
      // Signatures of one message mostly share canonicalisation and algorithm: each canonical
      // body is built once and each (canonicalisation, algorithm, length) hashed once.
      std::optional<std::string>& canon = relaxed ? canon_relaxed : canon_simple;
      if (!canon) canon = canonical_body(body, relaxed);
      std::size_t len = canon->size();
      if (auto l = tags.get_int("l"); l && *l >= 0 && static_cast<std::size_t>(*l) < len)
        len = static_cast<std::size_t>(*l);
      auto [it, fresh] = digests.try_emplace(std::make_tuple(relaxed, md == EVP_sha1(), len));
      if (fresh) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int dlen = 0;
        // Fetched once: with EVP_sha1()/EVP_sha256() OpenSSL 3 looks the implementation up
        // again on every call (issue 17).
        static EVP_MD* const fetched_sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
        static EVP_MD* const fetched_sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        EVP_MD* fetched = md == EVP_sha1() ? fetched_sha1 : fetched_sha256;
        EVP_Digest(canon->data(), len, digest, &dlen, fetched ? fetched : md, nullptr);
        it->second = base64(digest, dlen);
      }
      const std::string& computed = it->second;
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
      bool relaxed_headers = c.substr(0, slash) == "relaxed";
      Verification v = verify_signature(msg, *f, tags, *key, md, relaxed_headers);
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
  }
  std::string why = checked == 0 ? "no surviving DKIM/ARC signature with bh=" : "";
  for (const auto& n : notes) why += (why.empty() ? "" : "; ") + n;
  out.pass("integrity.body_hash_mismatch", why);
  out.pass("integrity.signature_invalid", in.pack.has_signature_keys() ? why : "no signer keys supplied (dkim-key entries): signatures not verified");
  out.pass("strip.signed_header_removed", "no verified evidence of a signed header removed");
}

}  // namespace hdrscan::heuristics
