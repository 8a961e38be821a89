// fuzz_msg.cpp: Outlook .msg files: the compound-file reader (cfb.cpp), the property reader
// (source_msg.cpp) and the RFC 5322 writer (outlook.cpp), through open_buffer as a member or
// standard input would be read. Inputs not starting with the OLE signature get it put in
// front (bit 0 of the first byte clear), so the fuzzer spends its time inside the format.
// Invariants: one record; a message within max_message_bytes; an error has a documented
// code; a record that is not mail has a reason.
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
  if (!(data[0] & 1)) bytes.assign("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  bytes.append(reinterpret_cast<const char*>(data + 1), size - 1);
  mime::ReaderOptions opt;
  opt.max_message_bytes = 1u << 20;
  opt.max_archive_member = 4u << 20;
  auto src = mime::open_buffer(bytes, "fuzz.msg", opt);
  mime::RawMessage m;
  std::size_t count = 0;
  while (src->next(m)) {
    ++count;
    fuzz::check(m.bytes.size() <= std::max<std::size_t>(opt.max_message_bytes, bytes.size()),
                "message within max_message_bytes (a not-mail record keeps the input)");
    if (!m.error.empty()) fuzz::check(fuzz::documented_error_code(m.error_code), "documented error code");
    m = mime::RawMessage{};
  }
  fuzz::check(count >= 1, "at least one record");
  return 0;
}
