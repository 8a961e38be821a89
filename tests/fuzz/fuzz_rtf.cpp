// fuzz_rtf.cpp: compressed RTF ([MS-OXRTFCP] decompression) and the HTML de-encapsulation
// ([MS-OXRTFEX]) of rtf.cpp. The first byte picks the path: bit 0 set, the input is a
// compressed RTF property (a valid "LZFu" header is put in front when bit 1 is set); clear, the
// input is an RTF document (with "\fromhtml1" put in front when bit 1 is set).
// Invariants: decompression output within its bound; de-encapsulated HTML at most four bytes
// per input byte (plus a constant).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "mime/sources/rtf.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  if (flags & 1) {
    if (flags & 2) {
      const std::uint32_t comp = static_cast<std::uint32_t>(in.size() + 12);
      const std::uint32_t raw = static_cast<std::uint32_t>(in.size() * 8 + 64);
      std::string h(16, '\0');
      for (int i = 0; i < 4; ++i) {
        h[i] = static_cast<char>(comp >> (8 * i));
        h[4 + i] = static_cast<char>(raw >> (8 * i));
      }
      h.replace(8, 4, "LZFu");
      in = h + in;
    }
    std::string out, error;
    const std::size_t max = 1u << 20;
    mime::detail::rtf_decompress(in, max, out, error);
    fuzz::check(out.size() <= max, "decompressed within the bound");
    if (auto html = mime::detail::rtf_html(out))
      fuzz::check(html->size() <= out.size() * 4 + 64, "html bounded");
  } else {
    if (flags & 2) in = "{\\rtf1\\ansi\\fromhtml1 " + in;
    if (auto html = mime::detail::rtf_html(in))
      fuzz::check(html->size() <= in.size() * 4 + 64, "html bounded");
  }
  return 0;
}
