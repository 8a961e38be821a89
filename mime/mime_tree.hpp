// mime_tree.hpp (internal to mime/): builds ParsedMessage::parts, ::nested and ::html from
// the body of a message whose header block is already parsed. Runs the guards first (body
// line length, MIME depth pre-scan, parts count) so mimetic only sees bytes that passed them;
// decodes text/plain and text/html parts to UTF-8 with hdrscan's own decoders; parses
// message/rfc822 parts as nested messages (bounded by Limits::max_nested_messages and depth).
// Never throws; problems become msg.defects.
#pragma once
#include <cstddef>

#include "mime/message.hpp"

namespace hdrscan::mime {

void build_mime_tree(ParsedMessage& msg, const Limits& limits, std::size_t depth);

}  // namespace hdrscan::mime
