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
//   bench_floor crypto-files LIST   the same for one message a file, the files named one a
//                            line in LIST, each read whole (read(2)) into one reused buffer:
//                            the floor of a per-file run such as hdrscan's on a folder.
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
#include <cstdlib>
#include <cstring>
#include <optional>
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

// SHA-256 of whole messages, and with `full` of their bodies and the seal check: the set-up
// once (one verification context reused, as hdrscan does), then per message.
class Crypto {
 public:
  explicit Crypto(bool full) : full_(full), ctx_(EVP_MD_CTX_new()), sha256_(EVP_sha256()) {
    if (!full) return;
    BIO* bio = BIO_new_mem_buf(kSealKey, -1);
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    seal_ = key ? EVP_PKEY_CTX_new(key, nullptr) : nullptr;
    EVP_PKEY_free(key);
    ok_ = seal_ && EVP_PKEY_verify_init(seal_) > 0 && EVP_PKEY_CTX_set_rsa_padding(seal_, RSA_PKCS1_PADDING) > 0 &&
          EVP_PKEY_CTX_set_signature_md(seal_, sha256_) > 0 &&
          EVP_DecodeBlock(sig_, reinterpret_cast<const unsigned char*>(kSealSignature),
                          static_cast<int>(std::strlen(kSealSignature))) == 258 &&
          EVP_Digest(kSealSigned, std::strlen(kSealSigned), signed_md_, nullptr, sha256_, nullptr);
  }
  ~Crypto() {
    EVP_MD_CTX_free(ctx_);
    EVP_PKEY_CTX_free(seal_);
  }
  Crypto(const Crypto&) = delete;
  Crypto& operator=(const Crypto&) = delete;
  bool ok() const { return ok_; }
  void message(const char* m, std::size_t n) {
    digest(m, n);
    if (!full_) return;
    const std::size_t h = header_end(m, n);
    const std::size_t body = std::min(n, h + (h < n && m[h] == '\r' ? 2 : 1));
    digest(m + body, n - body);
    if (has_arc_seal(m, h)) {
      ++seals;
      verified += EVP_PKEY_verify(seal_, sig_, 256, signed_md_, sizeof signed_md_) == 1;
    }
  }
  unsigned long long check = 0, seals = 0, verified = 0;

 private:
  void digest(const char* p, std::size_t n) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx_, sha256_, nullptr);
    EVP_DigestUpdate(ctx_, p, n);
    EVP_DigestFinal_ex(ctx_, md, &len);
    check += md[0];
  }
  bool full_, ok_ = true;
  EVP_MD_CTX* ctx_;
  const EVP_MD* sha256_;
  EVP_PKEY_CTX* seal_ = nullptr;
  unsigned char sig_[258] = {}, signed_md_[32] = {};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_floor read|split|sha|crypto|crypto-files FILE\n");
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
  const bool with_crypto = mode == "crypto" || mode == "crypto-files";
  std::optional<Crypto> crypto;
  if (mode == "sha" || with_crypto) {
    crypto.emplace(with_crypto);
    if (!crypto->ok()) {
      std::fprintf(stderr, "bench_floor: cannot set up the seal check\n");
      return 2;
    }
  }
  if (mode == "read") {
    std::vector<char> buf(1 << 20);
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      bytes += static_cast<unsigned long long>(n);
      check += static_cast<unsigned char>(buf[0]);
    }
  } else if (mode == "crypto-files") {
    // One buffer for every file, grown when a file is larger, never cleared (a fresh page is
    // touched only when a file reaches it).
    std::size_t cap = 1 << 20;
    char* buf = static_cast<char*>(std::malloc(cap));
    FILE* list = ::fdopen(fd, "r");
    char* line = nullptr;
    std::size_t line_cap = 0;
    ssize_t len;
    while (buf && list && (len = ::getline(&line, &line_cap, list)) > 0) {
      if (line[len - 1] == '\n') line[--len] = 0;
      const int f = ::open(line, O_RDONLY);
      if (f < 0) {
        std::perror(line);
        return 2;
      }
      struct stat fs {};
      ::fstat(f, &fs);
      if (static_cast<std::size_t>(fs.st_size) + 1 > cap) {
        cap = static_cast<std::size_t>(fs.st_size) + 1;
        buf = static_cast<char*>(std::realloc(buf, cap));
        if (!buf) break;
      }
      std::size_t n = 0;
      ssize_t r;
      while (n < cap && (r = ::read(f, buf + n, cap - n)) > 0) n += static_cast<std::size_t>(r);
      ::close(f);
      ++messages;
      bytes += n;
      crypto->message(buf, n);
    }
    std::free(line);
    std::free(buf);
  } else {
    const std::size_t size = static_cast<std::size_t>(st.st_size);
    const char* p = static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
    if (p == MAP_FAILED) {
      std::perror("mmap");
      return 2;
    }
    ::madvise(const_cast<char*>(p), size, MADV_SEQUENTIAL);
    const char* end = p + size;
    const char* msg_start = nullptr;
    auto finish = [&](const char* stop) {
      if (!msg_start) return;
      ++messages;
      if (crypto) crypto->message(msg_start, static_cast<std::size_t>(stop - msg_start));
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
  }
  if (crypto) check += crypto->check;
  if (with_crypto) std::fprintf(stderr, "seals %llu verified %llu\n", crypto->seals, crypto->verified);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu %llu %.6f\n", messages, bytes, secs);
  std::fprintf(stderr, "check %llu\n", check);
  return 0;
}
