// detect_integrity.cpp: where a DKIM-Signature or ARC-Message-Signature survives, recompute
// its body hash (bh=) under the stated body canonicalisation (RFC 6376 section 3.4.3/3.4.4,
// l= honoured) with OpenSSL and report match or mismatch. No DNS: full signature verification
// needs the signer's key, which hdrscan never fetches. A mismatch says the body changed after
// signing (a list footer, a redaction, a relay rewriting it), so it weighs little.
// Limits: bodies over 64 MB are not hashed; at most 4 signatures per message.
#include <openssl/evp.h>

#include "heuristics/detectors.hpp"

namespace hdrscan::heuristics {
namespace {

// Splits the body into lines (CRLF, LF or bare CR) without their endings.
template <class F>
void for_each_line(std::string_view body, F&& f) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t e = body.find_first_of("\r\n", pos);
    if (e == std::string_view::npos) {
      f(body.substr(pos));
      return;
    }
    f(body.substr(pos, e - pos));
    if (body[e] == '\r' && e + 1 < body.size() && body[e + 1] == '\n') ++e;
    pos = e + 1;
  }
}

std::string canonical_body(std::string_view body, bool relaxed) {
  std::string out;
  out.reserve(body.size() + body.size() / 32);
  for_each_line(body, [&](std::string_view line) {
    if (relaxed) {
      std::string l;
      bool ws = false;
      for (char c : line) {
        if (c == ' ' || c == '\t') {
          ws = true;
          continue;
        }
        if (ws) l.push_back(' ');
        ws = false;
        l.push_back(c);
      }
      out += l;  // trailing whitespace dropped
    } else {
      out.append(line.data(), line.size());
    }
    out += "\r\n";
  });
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
      std::string canon = canonical_body(body, relaxed);
      if (auto l = tags.get_int("l"); l && *l >= 0 && static_cast<std::size_t>(*l) < canon.size())
        canon.resize(static_cast<std::size_t>(*l));
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int dlen = 0;
      EVP_Digest(canon.data(), canon.size(), digest, &dlen, md, nullptr);
      std::string computed = base64(digest, dlen);
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
