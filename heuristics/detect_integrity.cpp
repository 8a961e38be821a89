// detect_integrity.cpp: where a DKIM-Signature or ARC-Message-Signature survives, recompute
// its body hash (bh=) under the stated body canonicalisation (RFC 6376 section 3.4.3/3.4.4,
// l= honoured) with OpenSSL and report match or mismatch. No DNS: full signature verification
// needs the signer's key, which hdrscan never fetches. A mismatch says the body changed after
// signing (a list footer, a redaction, a relay rewriting it), so it weighs little.
// Limits: bodies over 64 MB are not hashed; at most 4 signatures per message.
#include <openssl/evp.h>

#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

// Appends one line (without its ending) in relaxed form: runs of SP/HTAB become one SP,
// trailing SP/HTAB are dropped.
void append_relaxed(std::string& out, const char* s, const char* e) {
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) --e;
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
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
    const char* line_end = cr ? cr : stop;  // a CR before the LF ends the line (CRLF or bare CR)
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
      std::string a = lower_ascii(tags.get("a").value_or("rsa-sha256"));
      const EVP_MD* md = a.find("sha1") != std::string::npos ? EVP_sha1() : EVP_sha256();
      std::string c = lower_ascii(tags.get("c").value_or("simple/simple"));
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
        EVP_Digest(canon->data(), len, digest, &dlen, md, nullptr);
        it->second = base64(digest, dlen);
      }
      const std::string& computed = it->second;
      ++checked;
      std::string who = name + std::string(" d=") + tags.get("d").value_or("?");
      if (computed == *bh) {
        notes.push_back(who + " bh matches");
      } else {
        out.fire("integrity.body_hash_mismatch", where_of(msg, f),
                 who + ": bh=" + *bh + " but the body hashes to " + computed + " (" + (relaxed ? "relaxed" : "simple") + ")");
        return;
      }
    }
  }
  std::string why = checked == 0 ? "no surviving DKIM/ARC signature with bh=" : "";
  for (const auto& n : notes) why += (why.empty() ? "" : "; ") + n;
  out.pass("integrity.body_hash_mismatch", why);
}

}  // namespace hdrscan::heuristics
