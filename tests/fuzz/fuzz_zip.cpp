// fuzz_zip.cpp: the zip reader. Zip sources are path-based (libarchive over a file), so the
// input is written to a memfd and opened as /proc/self/fd/N through mime::open_source (the
// same sniffing the scanner does: PK\3\4 -> zip). Small member/archive caps (first input
// byte) reach the zip-bomb paths. Nothing may be written to disk: the harness runs with the
// working directory unchanged and member names are only labels.
// Invariants: every yielded message is within the member cap, a bounded number of messages.
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
  mime::ReaderOptions opt;
  opt.max_message_bytes = 1u << 20;
  opt.max_archive_member = (data[0] & 1) ? 4096 : (1u << 20);
  opt.max_archive_total = (data[0] & 2) ? 8192 : (8u << 20);
  int fd = memfd_create("fuzz-zip", MFD_CLOEXEC);
  if (fd < 0) return 0;
  // Always a zip: the rest of the input after a forced local-file-header magic.
  std::string bytes = "PK\x03\x04";
  bytes.append(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 4) bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  {
    auto src = mime::open_source(path, opt);
    mime::RawMessage m;
    std::size_t count = 0;
    while (src->next(m)) {
      fuzz::check(m.bytes.size() <= opt.max_message_bytes, "message within max_message_bytes");
      // (input that is not a zip after all is read as one message: no member, no cap)
      if (!m.where.member.empty())
        fuzz::check(m.bytes.size() <= opt.max_archive_member, "member message within member cap");
      ++count;
      // Central-directory entries are at least 46 bytes, local ones 30: a bound on members.
      fuzz::check(count <= bytes.size() + 2, "bounded number of messages");
      m = mime::RawMessage{};
    }
  }
  ::close(fd);
  return 0;
}
