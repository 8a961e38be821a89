// fuzz_archive.cpp: the archive and compressed-file reader (source_archive.cpp over
// libarchive) and the content detection in front of it. The first input byte picks the set-up:
//   bit 0/1  small member / total caps (the zip-bomb paths; no ratio relaxation)
//   bit 2    the rest as is (else a magic number is forced in front of it, bits 3-4:
//            zip, gzip, 7z, xz)
//   bit 5    two passwords given (the decryption paths)
//   bit 6    read as a stream through open_buffer (a nested member or stdin: zip and 7z
//            go through memory) instead of a file opened by name (a memfd)
// Nothing may be written to disk: member names are only labels.
// Invariants: every message is within max_message_bytes; every error has a documented code;
// a bounded number of messages.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "mime/sources/sources.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const char* kMagic[] = {"PK\x03\x04", "\x1f\x8b\x08\x00", "7z\xbc\xaf\x27\x1c",
                                 ("\xfd" "7zXZ")};
  const std::uint8_t flags = data[0];
  mime::ReaderOptions opt;
  opt.max_message_bytes = 1u << 20;
  opt.max_archive_member = (flags & 1) ? 4096 : (1u << 20);
  opt.max_archive_total = (flags & 2) ? 8192 : (8u << 20);
  opt.max_archive_ratio = 0;
  if (flags & 32) opt.passwords = {"secret", "infected"};
  std::string bytes;
  if (!(flags & 4)) bytes = kMagic[(flags >> 3) & 3];
  bytes.append(reinterpret_cast<const char*>(data + 1), size - 1);
  int fd = -1;
  std::unique_ptr<mime::MessageSource> src;
  if (flags & 64) {
    src = mime::open_buffer(bytes, "fuzz", opt);
  } else {
    fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0) return 0;
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    src = mime::open_source("/proc/self/fd/" + std::to_string(fd), opt);
  }
  mime::RawMessage m;
  std::uint64_t count = 0;
  // Every message consumes at least one byte of some stream, and no stream is longer than the
  // input plus what the caps let the decompressors produce, at each of the nesting levels.
  const std::uint64_t bound =
      (bytes.size() + opt.max_archive_total + 2) * (static_cast<unsigned>(opt.max_archive_depth) + 1);
  while (src->next(m)) {
    fuzz::check(m.bytes.size() <= opt.max_message_bytes, "message within max_message_bytes");
    if (!m.error.empty()) fuzz::check(fuzz::documented_error_code(m.error_code), "documented error code");
    fuzz::check(++count <= bound, "bounded number of messages");
    m = mime::RawMessage{};
  }
  src.reset();
  if (fd >= 0) ::close(fd);
  return 0;
}
