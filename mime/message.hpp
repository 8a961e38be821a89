// message.hpp: the parsed-message model every later stage reads.
//
// Purpose: a plain value type for one email: the header block as hdrscan's own parser read it
// (ordered fields, raw bytes kept for evidence and DKIM/ARC "simple" canonicalisation), the
// MIME tree with decoded text/HTML in UTF-8, nested message/rfc822 messages, the extracted
// HTML facts, and every defect met on the way.
// Limits: every size is bounded by mime::Limits; a limit that is hit becomes an error entry
// (analysis of that part is skipped), never an exception or a crash.
// Lifetime: `raw` views the caller's bytes (mime::RawMessage::bytes); keep them alive while
// the ParsedMessage is used. Nested messages whose bytes had to be decoded own them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mime/html.hpp"

namespace hdrscan::mime {

// Bounds checked before any byte reaches mimetic (see stack-notes: its defects).
struct Limits {
  std::size_t max_message_bytes = 64u << 20;  // larger: headers only, body skipped
  std::size_t max_header_count = 5000;        // fields past this are dropped (error)
  std::size_t max_header_line = 256u << 10;   // one raw field longer: truncated (error)
  std::size_t max_header_block = 4u << 20;    // whole header block
  std::size_t max_body_line = 4u << 20;       // body lines longer: MIME tree not built (error)
  std::size_t max_mime_depth = 40;            // multipart / message nesting
  std::size_t max_parts = 2000;               // MIME parts per message
  std::size_t max_text_bytes = 4u << 20;      // decoded text/HTML kept per part
  std::size_t max_nested_messages = 16;       // message/rfc822 parsed as messages
};

// Something odd or over a limit. `code` is a stable snake_case reason (counted in tests and
// reports); `detail` says where and why in words. `fatal_to_body` marks errors after which
// the body was not (fully) analysed; header analysis still happened.
struct Defect {
  std::string code;
  std::string detail;
  bool is_error = false;  // false: a tolerated oddity (bare CR, missing MIME-Version...)
};

// Header fields view bytes instead of owning copies (issue 17: two copies of every value and
// one of every field were a third of the allocations per message): `name` and `raw` always
// view the parsed bytes (ParsedMessage::raw, or a nested message's `owned` bytes), as does
// `value` when the field was not folded and `decoded` when nothing needed decoding; the
// other values view the header block's own TextStore. So a field stays valid while both its
// message's bytes and a HeaderBlock sharing its store live (copies of a block share it).
struct HeaderField {
  std::string_view name;     // as written (case kept)
  std::string_view raw;      // exact bytes of the field: name, colon, value, folds; no final EOL
  std::string_view value;    // unfolded (line breaks removed), leading/trailing blanks trimmed
  std::string_view decoded;  // `value` with RFC 2047 encoded-words decoded to UTF-8
  std::size_t offset = 0;    // byte offset of the field in the message
};

// Append-only text owned by a header block: the unfolded and decoded values that are not
// bytes of the message. Bump-allocated in blocks (the first inside the store itself), so a
// message's header block makes one allocation for them, not one per value; what it hands out
// never moves.
class TextStore {
 public:
  // User-provided so that make_shared does not value-initialise (zero) first_ on every message.
  TextStore() {}
  TextStore(const TextStore&) = delete;
  TextStore& operator=(const TextStore&) = delete;
  // Room for up to `max` bytes; write them, then commit(how many were written).
  char* begin_write(std::size_t max);
  std::string_view commit(std::size_t used);
  std::string_view copy(std::string_view s);

 private:
  static constexpr std::size_t kFirstBlock = 2048, kBlock = 8192;
  char first_[kFirstBlock];
  char* cur_ = first_;
  std::size_t left_ = kFirstBlock;
  std::vector<std::unique_ptr<char[]>> more_;
};

// Ordered header block; lookups are case-insensitive and "first" means topmost.
struct HeaderBlock {
  std::vector<HeaderField> fields;
  std::shared_ptr<TextStore> text;  // backing of values that are not the message's bytes

  const HeaderField* first(std::string_view name) const;
  std::vector<const HeaderField*> all(std::string_view name) const;
  bool has(std::string_view name) const { return first(name) != nullptr; }
};

struct BodyPart {
  std::string content_type = "text/plain";  // lower-case type/subtype
  std::string charset;                      // lower-case, as declared
  std::string transfer_encoding;            // lower-case
  std::string disposition;                  // inline / attachment / ""
  std::string filename;
  std::size_t depth = 0;        // 0 = the message's own body
  int parent = -1;              // index in ParsedMessage::parts
  std::size_t encoded_size = 0; // bytes of the part body as it appears in the message
  std::string text;             // decoded UTF-8, only for text/plain and text/html
  bool text_truncated = false;  // text cut at Limits::max_text_bytes
  int nested = -1;              // index in ParsedMessage::nested for message/rfc822
  bool is_multipart() const { return content_type.rfind("multipart/", 0) == 0; }
  bool is_text() const { return content_type == "text/plain"; }
  bool is_html() const { return content_type == "text/html"; }
  bool is_attachment() const { return disposition == "attachment" || !filename.empty(); }
};

struct ParsedMessage {
  std::string_view raw;        // the whole message as given (or `owned` for nested ones)
  std::size_t body_offset = 0; // first byte of the body in `raw` (raw.size() if none)
  bool has_body_separator = false;  // a blank line ended the header block
  HeaderBlock headers;
  std::vector<BodyPart> parts;  // the MIME tree in pre-order; parts[0] is the root entity
  std::vector<ParsedMessage> nested;
  HtmlFacts html;               // from the first text/html part (empty when none)
  std::vector<Defect> defects;
  std::shared_ptr<const std::string> owned;  // backing bytes for nested decoded messages

  std::string_view body() const { return raw.substr(body_offset < raw.size() ? body_offset : raw.size()); }
  const BodyPart* first_html() const;
  const BodyPart* first_text() const;
  bool has_errors() const;
};

// Parses one message. Never throws on bad mail: problems become Defects. `depth` is the
// message/rfc822 nesting level of this message (0 for the outer one).
ParsedMessage parse_message(std::string_view bytes, const Limits& limits = {}, std::size_t depth = 0);

// Header block only (hdrscan's own parser; mimetic never sees headers). Returns the offset of
// the first body byte. Accepts CRLF, LF and bare CR, a leading mbox "From " line, and bytes
// mimetic would choke on (NUL, 8-bit, junk lines become defects, not the end of the block).
std::size_t parse_header_block(std::string_view bytes, const Limits& limits, HeaderBlock& out,
                               std::vector<Defect>& defects, bool* saw_separator = nullptr);

namespace detail {
// One physical line of `s` starting at `pos`: [begin, end) without its terminator; `next` is
// where the following line starts. LF, CRLF and a bare CR end a line (`bare_cr`: a CR not
// followed by LF and not the input's last byte). Exposed for its unit test.
struct Line {
  std::size_t begin = 0, end = 0, next = 0;
  bool bare_cr = false;
};
Line next_line(std::string_view s, std::size_t pos);
}  // namespace detail

}  // namespace hdrscan::mime
