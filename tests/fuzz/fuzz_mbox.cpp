// fuzz_mbox.cpp: the mbox reader (mime::open_mbox_buffer: framing, >From unquoting,
// Content-Length handling, separators) over arbitrary bytes. The first input byte picks a
// small max_message_bytes (odd) to reach the truncation path.
// Invariants: every message is within max_message_bytes, indexes count up from 0, offsets
// grow and stay within the input, at most one message per input byte (+1) so no loop.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "mime/sources/sources.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  mime::ReaderOptions opt;
  if (data[0] & 1) opt.max_message_bytes = 64;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t n = bytes.size();
  auto src = mime::open_mbox_buffer(std::move(bytes), "fuzz.mbox", opt);
  mime::RawMessage m;
  std::uint64_t count = 0;
  std::uint64_t last_off = 0;
  while (src->next(m)) {
    fuzz::check(m.bytes.size() <= opt.max_message_bytes, "message within max_message_bytes");
    if (m.where.index) fuzz::check(*m.where.index == count, "index counts up from 0");
    if (m.where.offset) {
      fuzz::check(*m.where.offset <= n, "offset within input");
      fuzz::check(*m.where.offset >= last_off, "offsets grow");
      last_off = *m.where.offset;
    }
    ++count;
    fuzz::check(count <= n + 2, "no more messages than bytes");
    m = mime::RawMessage{};
  }
  return 0;
}
