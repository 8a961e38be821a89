// digest.hpp: OpenSSL's SHA-1 and SHA-256 implementations, fetched from the default provider
// once per process, for every digest hdrscan computes (the message's sha256 field, DKIM/ARC
// body hashes, the data a signature covers). Why: with EVP_sha1()/EVP_sha256() OpenSSL 3
// looks the provider's implementation up again in every operation (a walk of its name map:
// 1-2% of a scan of real mail, issue 17). Falls back to EVP_sha1()/EVP_sha256() if the fetch
// fails. Thread-safe (initialised once).
#pragma once

struct evp_md_st;  // OpenSSL's EVP_MD

namespace hdrscan::heuristics {

const evp_md_st* sha_digest(bool sha1);

}  // namespace hdrscan::heuristics
