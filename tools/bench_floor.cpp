// bench_floor.cpp: the physical floor for tools/bench (not part of hdrscan).
//
// Purpose: what any mbox scanner must at least pay on this machine, single thread:
//   bench_floor read  FILE   read(2) the file in 1 MiB blocks, touch nothing (page cache -> user)
//   bench_floor split FILE   mmap the file and find every mboxo/mboxrd separator ("From " at
//                            the start of the file or after an empty line) with memchr; prints
//                            the message count, so it is checked against hdrscan's count.
//   bench_floor sha   FILE   split as above and SHA-256 every message (OpenSSL EVP), the cost
//                            hdrscan pays for its per-message sha256 field.
// Prints "messages bytes seconds" on stdout. Limits: no mboxcl Content-Length framing.
// Build: g++ -O2 -std=c++20 bench_floor.cpp -o bench_floor -lcrypto
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_floor read|split|sha FILE\n");
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
    const bool sha = mode == "sha";
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const char* msg_start = nullptr;
    auto finish = [&](const char* stop) {
      if (!msg_start) return;
      ++messages;
      if (sha) {
        EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
        EVP_DigestUpdate(ctx, msg_start, static_cast<std::size_t>(stop - msg_start));
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        check += md[0];
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
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu %llu %.6f\n", messages, bytes, secs);
  std::fprintf(stderr, "check %llu\n", check);
  return 0;
}
