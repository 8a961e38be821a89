// rtf.hpp (internal to mime/sources/): Outlook's compressed RTF ([MS-OXRTFCP], the
// PR_RTF_COMPRESSED property of a .msg or PST message) and the HTML encapsulated in it
// ([MS-OXRTFEX], RTF written with \fromhtml1), for messages whose only HTML body is there.
//
// rtf_decompress: the LZFu decompressor (or the "MELA" uncompressed form) with its 207-byte
// initial dictionary; output bounded by `max` and by the size the header announces.
// rtf_html: the HTML of an RTF document written with \fromhtml1: text outside \htmlrtf
// regions and the contents of \*\htmltag destinations, other destinations skipped; \'hh in
// the document's \ansicpg (1252 and 65001 decoded; any other single-byte code page is read as
// Latin-1, a known approximation), \uN with its \uc fallback skipped; returned as UTF-8.
// Limits: nesting deeper than kMaxDepth groups is flattened; the output is at most 4 bytes
// per input byte. Diagnostics: false / nullopt with the reason, never an exception.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hdrscan::mime::detail {

bool rtf_decompress(std::string_view in, std::size_t max, std::string& out, std::string& error);
// The HTML of an HTML-encapsulating RTF document, or nullopt when it is not one (no
// \fromhtml1 in its header: RTF written from text or by a word processor).
std::optional<std::string> rtf_html(std::string_view rtf);

}  // namespace hdrscan::mime::detail
