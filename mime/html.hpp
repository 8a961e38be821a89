// html.hpp: facts extracted from an HTML body for the detectors (links, images, visible vs
// hidden text). A tolerant, bounded tokenizer: never throws, linear in the input, caps every
// list so hostile HTML cannot blow memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::mime {

struct HtmlLink {
  std::string href;
  std::string text;       // visible anchor text, whitespace collapsed
  std::size_t images = 0; // <img> elements inside this <a>
  bool hidden = false;    // inside a hidden element
};

struct HtmlImage {
  std::string src;
  std::string alt;
  int link = -1;          // index in HtmlFacts::links when inside an <a>, else -1
  bool hidden = false;
  int width = -1, height = -1;  // from attributes or inline style, -1 unknown
};

struct HtmlFacts {
  bool present = false;
  std::vector<HtmlLink> links;
  std::vector<HtmlImage> images;
  std::string visible_text;    // text a reader sees, whitespace collapsed, capped
  std::string hidden_text;     // text in hidden elements (display:none, visibility:hidden,
                               // font-size 0/1px, colour equal to background, hidden classes)
  std::size_t hidden_elements = 0;
  std::size_t tag_count = 0;
  std::string skeleton;        // start tags of visible elements in document order, names only
                               // (no attributes: their values are the randomised part), one
                               // space apart, capped; the template fingerprint reads it
  std::vector<std::uint8_t> skeleton_depth;  // each skeleton tag's depth in the element tree
                                             // (open ancestors; capped at 255)

  std::size_t comment_bytes = 0;
  bool truncated = false;      // caps were hit
};

HtmlFacts extract_html(std::string_view html);

}  // namespace hdrscan::mime
