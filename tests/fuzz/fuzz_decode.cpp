// fuzz_decode.cpp: the content decoders (mime/decode.hpp). The first byte picks the decoder
// and an output cap; for to_utf8 the charset name is the input up to the first '\n'.
// Invariants: max_out respected, rfc2047/to_utf8/sanitize_utf8 output valid UTF-8 without NUL
// (sanitize), base64 output never longer than 3/4 of the input (+3).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "mime/decode.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::uint8_t sel = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t cap = (sel & 0x80) ? 17 : SIZE_MAX;
  std::string out;
  switch (sel % 5) {
    case 0:
      (void)mime::decode_base64(in, out, cap);
      fuzz::check(out.size() <= cap, "base64 max_out");
      fuzz::check(out.size() <= in.size() * 3 / 4 + 3, "base64 output bounded by input");
      break;
    case 1:
      (void)mime::decode_quoted_printable(in, out, cap);
      fuzz::check(out.size() <= cap, "qp max_out");
      fuzz::check(out.size() <= in.size(), "qp output no longer than input");
      break;
    case 2:
      out = mime::decode_rfc2047(in);
      fuzz::check(fuzz::valid_utf8(out), "rfc2047 output UTF-8");
      break;
    case 3: {
      std::size_t nl = in.find('\n');
      std::string_view cs = nl == std::string_view::npos ? std::string_view("utf-8") : in.substr(0, nl);
      std::string_view text = nl == std::string_view::npos ? in : in.substr(nl + 1);
      out = mime::to_utf8(text, cs);
      fuzz::check(fuzz::valid_utf8(out), "to_utf8 output UTF-8");
      break;
    }
    case 4:
      out = mime::sanitize_utf8(in);
      fuzz::check(fuzz::valid_utf8(out), "sanitize_utf8 output UTF-8");
      fuzz::check(out.find('\0') == std::string::npos, "sanitize_utf8 output has no NUL");
      break;
  }
  return 0;
}
