// fuzz_html.cpp: mime::extract_html (the bounded HTML tokenizer). Invariants: visible and
// hidden text are valid UTF-8 (the detectors and JSON printers quote them), image->link
// indexes point into links, lists bounded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"
#include "mime/html.hpp"

using namespace hdrscan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mime::HtmlFacts f = mime::extract_html(in);
  for (const auto& img : f.images)
    fuzz::check(img.link >= -1 && (img.link < 0 || static_cast<std::size_t>(img.link) < f.links.size()),
                "image link index points into links");
  fuzz::check(f.links.size() <= size + 1 && f.images.size() <= size + 1, "lists bounded by input");
  return 0;
}
