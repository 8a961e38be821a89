// decode.hpp: content decoders. Tolerant (bad input degrades, never throws), bounded by the
// caller's output cap, and independent of mimetic's decoders (its base64 decoder reads past
// its table: stack-notes.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mime/utf8.hpp"  // append_utf8, utf16le_to_utf8, cp1252_char

namespace hdrscan::mime {

// RFC 2045 base64: bytes outside the alphabet are ignored, padding may be missing.
// Returns false when the input had to be repaired (odd length, junk); output is still usable.
bool decode_base64(std::string_view in, std::string& out, std::size_t max_out = SIZE_MAX);
bool decode_quoted_printable(std::string_view in, std::string& out, std::size_t max_out = SIZE_MAX);

// Exact base64 for values that are keys or signatures (DKIM/ARC b= and bh=, a DKIM key's p=):
// SP, HTAB, CR and LF are skipped (RFC 6376 3.5 folding); any other byte outside the alphabet
// or a length that is not a multiple of four gives nullopt, since a repaired signature or key
// would be another one. Decoded by OpenSSL's EVP_DecodeBlock, its padding removed.
std::optional<std::string> decode_base64_exact(std::string_view in);

// Converts `in` in `charset` to UTF-8 (iconv). Unknown charsets and invalid sequences are
// replaced by U+FFFD rather than failing; us-ascii/utf-8 pass through (validated).
std::string to_utf8(std::string_view in, std::string_view charset);
// The same in place: `text` = to_utf8(text, charset), left as it is (no copy) when it needs
// no conversion.
void to_utf8_in_place(std::string& text, std::string_view charset);

// RFC 2047 encoded-words (=?cs?B?..?= / =?cs?Q?..?=) decoded to UTF-8; whitespace between
// adjacent encoded-words dropped as the RFC says; the rest passed through (invalid UTF-8 made
// valid).
std::string decode_rfc2047(std::string_view value);

// Makes arbitrary bytes valid UTF-8 (invalid sequences -> U+FFFD, NUL -> U+FFFD).
std::string sanitize_utf8(std::string_view in);

// Whether sanitize_utf8 would return `in` unchanged: valid UTF-8 without a NUL.
bool is_valid_utf8(std::string_view in);

}  // namespace hdrscan::mime
