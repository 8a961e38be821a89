// body_hash.hpp (internal to heuristics/): the DKIM body hash (bh=, RFC 6376 section 3.7) of a
// message body under simple or relaxed body canonicalisation (sections 3.4.3 and 3.4.4), l=
// honoured. The canonical body is never built whole: it is written into a fixed-size buffer
// whose every fill goes to the digests, so the cost is one pass over the body and no
// allocation the size of the body (issue 17).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hdrscan::heuristics {

// The buffer the canonical body is written into between two digest updates: large enough that
// the per-call cost of EVP_DigestUpdate is nothing, small enough to stay in L1/L2. (Here so that
// the unit test can put line ends and runs of blanks across its boundaries.)
inline constexpr std::size_t kBodyHashChunk = 16 * 1024;

// One body hash wanted of a canonical body.
struct BodyHashJob {
  bool sha1 = false;                   // SHA-1, else SHA-256
  std::size_t limit = SIZE_MAX;        // l=: only the first `limit` bytes of the canonical body
  unsigned char digest[64] = {};       // the result
  unsigned int digest_len = 0;         // its length; 0 when OpenSSL could not hash
};

// Canonicalises `body` once (relaxed or simple) and computes every job's digest of it. Lines
// end at CRLF, LF or a bare CR and are written with CRLF; trailing empty lines are dropped; an
// empty body is empty in relaxed form and one CRLF in simple form.
void hash_body(std::string_view body, bool relaxed, BodyHashJob* jobs, std::size_t n_jobs);

}  // namespace hdrscan::heuristics
