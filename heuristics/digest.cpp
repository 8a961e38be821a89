// digest.cpp: see digest.hpp.
#include "heuristics/digest.hpp"

#include <openssl/evp.h>

namespace hdrscan::heuristics {

const EVP_MD* sha_digest(bool sha1) {
  static EVP_MD* const fetched_sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static EVP_MD* const fetched_sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (sha1) return fetched_sha1 ? fetched_sha1 : EVP_sha1();
  return fetched_sha256 ? fetched_sha256 : EVP_sha256();
}

}  // namespace hdrscan::heuristics
