// fuzz_pst.cpp: the PST/OST walk (source_pst.cpp over libpff, and outlook.cpp for every
// message found) on an input read from memory, as a PST inside an archive is. Inputs get the
// "!BDN" signature put in front unless bit 0 of the first byte is set.
// Invariants: every message within max_message_bytes; an error has a documented code; a
// bounded number of records (an item is at least a few dozen bytes of the file).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "mime/sources/sources.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string bytes;
  if (!(data[0] & 1)) bytes = "!BDN";
  bytes.append(reinterpret_cast<const char*>(data + 1), size - 1);
  mime::ReaderOptions opt;
  opt.max_message_bytes = 1u << 20;
  opt.max_archive_member = 8u << 20;
  auto src = mime::open_buffer(bytes, "fuzz.pst", opt);
  mime::RawMessage m;
  std::size_t count = 0;
  while (src->next(m)) {
    fuzz::check(m.bytes.size() <= std::max<std::size_t>(opt.max_message_bytes, bytes.size()),
                "message within max_message_bytes");
    if (!m.error.empty()) fuzz::check(fuzz::documented_error_code(m.error_code), "documented error code");
    fuzz::check(++count <= bytes.size() + 16, "bounded number of records");
    m = mime::RawMessage{};
  }
  return 0;
}
