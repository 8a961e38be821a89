// bench_floor.cpp: the physical floor for tools/bench (not part of hdrscan).
//
// Purpose: what any mbox scanner must at least pay on this machine, single thread:
//   bench_floor read  FILE   read(2) the file in 1 MiB blocks, touch nothing (page cache -> user)
//   bench_floor split FILE   mmap the file and find every mboxo/mboxrd separator ("From " at
//                            the start of the file or after an empty line) with memchr; prints
//                            the message count, so it is checked against hdrscan's count.
//   bench_floor sha   FILE   split as above and SHA-256 every message (OpenSSL EVP), the cost
//                            hdrscan pays for its per-message sha256 field.
//   bench_floor crypto FILE  the cryptography a record of hdrscan's needs, at OpenSSL's own
//                            speed (issue 17): as sha, plus a SHA-256 of the body (after the
//                            first empty line; DKIM/ARC body hashes, without canonicalisation)
//                            and, for a message whose header block has an ARC-Seal field, one
//                            RSA-2048 PKCS#1 v1.5 verification (the seal check; a fixed key and
//                            signature below: every such check costs the same public-key
//                            operation). A floor for any scanner that writes the same records.
// Prints "messages bytes seconds" on stdout ("check N", and with crypto "seals N verified N",
// on stderr). Limits: no mboxcl Content-Length framing.
// Build: g++ -O2 -std=c++20 bench_floor.cpp -o bench_floor -lcrypto
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

// A throw-away RSA-2048 key's public half and its signature of SHA-256("hdrscan bench_floor")
// (made with `openssl genrsa 2048` and `openssl dgst -sha256 -sign`; the private half is gone).
constexpr const char* kSealKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA9Q8wmrRAvRYL5Bu8tv+q\n"
    "SeBW68KjWhQJEjFn2rYQBAQrbxEn3F33jZJf6C9CQgPDLsmGOW97p+vO2MDS9iWE\n"
    "kWPqWP6fmB4uJGgSr3fs3xcUQ5E5989x/EmOObJDdR9kXH4GPqnvTI8UOBiNCHap\n"
    "mv6cRCUOGtZG3B4ZZPMgvxL5/VR8OVfuP3tq8mjrxvHPHfQI7Gy5kB9N/h/mb9Ro\n"
    "PNiWXra1koEW/XpL1DdD/wDgMFYcxVa+RN/2OPHHHh9bZb78ugKshMf7WSeky3xT\n"
    "g2lXGbh/0eFIZS8hyjpCVw/XP98wT8sCKR/lzBZPenoNa4wW86Psb6ObhrqSOJL1\n"
    "vQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
constexpr const char* kSealSignature =
    "GGIVBrzlYBkElhrFE9Mgdf3pNyEOlYy+k0EzeZNowMBlZk8aBSD3/LDbz0v7VzioPQeWSVi3pS2vv3gLMEGMSXUdN8KE+FUj"
    "COERHgaJ6rpSc6TFPKrAChCD4dpycHIex0+uuupd6j1xSOobyphWyCH1E7OyQKFC65wPtBQd6UoqhR7c5rezi3rp1K6upTJH"
    "WCxVe8SUNdXniS+fnuxdQkysxTsm9D5wZi6ad/OaWpH/5ARO1ZJLAh4tFyk0ea0uyGvuuNhp7ZCaunbaquFbZwQAt1hiu+VC"
    "W0EB6VNzZakGHPRy2FunWjja9MlynuXr5k9PA2dgVWfT6w4SLZcZJA==";
constexpr const char* kSealSigned = "hdrscan bench_floor";

// The header block of a message: up to its first empty line (LF or CRLF).
std::size_t header_end(const char* m, std::size_t n) {
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const char* nl = static_cast<const char*>(std::memchr(m + i, '\n', n - i));
    if (!nl) break;
    i = static_cast<std::size_t>(nl - m);
    if (i + 1 < n && m[i + 1] == '\n') return i + 1;
    if (i + 2 < n && m[i + 1] == '\r' && m[i + 2] == '\n') return i + 1;
  }
  return n;
}

// Whether a line of the header block starts with "ARC-Seal:" (any case).
bool has_arc_seal(const char* h, std::size_t n) {
  static constexpr char kName[] = "arc-seal:";
  for (std::size_t i = 0; i + 9 <= n;) {
    std::size_t k = 0;
    while (k < 9 && (h[i + k] | 0x20) == kName[k]) ++k;  // ':' and '-' are unchanged by | 0x20
    if (k == 9) return true;
    const void* nl = std::memchr(h + i, '\n', n - i);
    if (!nl) break;
    i = static_cast<std::size_t>(static_cast<const char*>(nl) - h) + 1;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_floor read|split|sha|crypto FILE\n");
    return 2;
  }
  const std::string_view mode = argv[1];
  const int fd = ::open(argv[2], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[2]);
    return 2;
  }
  struct stat st {};
  ::fstat(fd, &st);
  const auto t0 = std::chrono::steady_clock::now();
  unsigned long long messages = 0, bytes = 0, check = 0;
  if (mode == "read") {
    std::vector<char> buf(1 << 20);
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      bytes += static_cast<unsigned long long>(n);
      check += static_cast<unsigned char>(buf[0]);
    }
  } else {
    const std::size_t size = static_cast<std::size_t>(st.st_size);
    const char* p = static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
    if (p == MAP_FAILED) {
      std::perror("mmap");
      return 2;
    }
    ::madvise(const_cast<char*>(p), size, MADV_SEQUENTIAL);
    const char* end = p + size;
    const bool crypto = mode == "crypto";
    const bool sha = mode == "sha" || crypto;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* sha256 = EVP_sha256();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    auto digest = [&](const char* p0, std::size_t n) {
      EVP_DigestInit_ex(ctx, sha256, nullptr);
      EVP_DigestUpdate(ctx, p0, n);
      EVP_DigestFinal_ex(ctx, md, &mdlen);
      check += md[0];
    };
    // The seal check: one verification context set up once and reused, as hdrscan does.
    EVP_PKEY_CTX* seal = nullptr;
    unsigned char sig[256], signed_md[32];
    unsigned long long seals = 0, verified = 0;
    if (crypto) {
      BIO* bio = BIO_new_mem_buf(kSealKey, -1);
      EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      seal = key ? EVP_PKEY_CTX_new(key, nullptr) : nullptr;
      EVP_PKEY_free(key);
      if (!seal || EVP_PKEY_verify_init(seal) <= 0 || EVP_PKEY_CTX_set_rsa_padding(seal, RSA_PKCS1_PADDING) <= 0 ||
          EVP_PKEY_CTX_set_signature_md(seal, sha256) <= 0 ||
          EVP_DecodeBlock(sig, reinterpret_cast<const unsigned char*>(kSealSignature),
                          static_cast<int>(std::strlen(kSealSignature))) != 258 ||
          !EVP_Digest(kSealSigned, std::strlen(kSealSigned), signed_md, nullptr, sha256, nullptr)) {
        std::fprintf(stderr, "bench_floor: cannot set up the seal check\n");
        return 2;
      }
    }
    const char* msg_start = nullptr;
    auto finish = [&](const char* stop) {
      if (!msg_start) return;
      ++messages;
      const std::size_t n = static_cast<std::size_t>(stop - msg_start);
      if (sha) digest(msg_start, n);
      if (crypto) {
        const std::size_t h = header_end(msg_start, n);
        const std::size_t body = std::min(n, h + (h < n && msg_start[h] == '\r' ? 2 : 1));
        digest(msg_start + body, n - body);
        if (has_arc_seal(msg_start, h)) {
          ++seals;
          verified += EVP_PKEY_verify(seal, sig, sizeof sig, signed_md, sizeof signed_md) == 1;
        }
      }
    };
    // a separator: "From " at offset 0 or right after "\n\n"
    const char* q = p;
    if (size >= 5 && std::memcmp(p, "From ", 5) == 0) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', size));
      msg_start = nl ? nl + 1 : end;
      q = msg_start;
    }
    while (q < end) {
      const char* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)));
      if (!nl) break;
      if (nl + 6 < end && nl[1] == '\n' && std::memcmp(nl + 2, "From ", 5) == 0) {
        finish(nl + 1);
        const char* nl2 = static_cast<const char*>(std::memchr(nl + 2, '\n', static_cast<std::size_t>(end - nl - 2)));
        msg_start = nl2 ? nl2 + 1 : end;
        q = msg_start;
        continue;
      }
      q = nl + 1;
    }
    finish(end);
    bytes = size;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_CTX_free(seal);
    if (crypto) std::fprintf(stderr, "seals %llu verified %llu\n", seals, verified);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu %llu %.6f\n", messages, bytes, secs);
  std::fprintf(stderr, "check %llu\n", check);
  return 0;
}
