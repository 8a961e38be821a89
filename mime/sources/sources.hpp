// sources.hpp: where messages come from. Every input (a .eml, an mbox in any variant, a
// Maildir, a directory tree, a .zip export, standard input) becomes a MessageSource that
// yields RawMessages one at a time, each knowing exactly where it came from.
// Memory: files are memory-mapped or streamed; a source holds at most one message (bounded by
// ReaderOptions::max_message_bytes) plus a fixed buffer, whatever the input size.
// Errors: an unreadable file or a broken member is yielded as a RawMessage with `error` set
// (so it is reported and counted), and the source goes on with the next one.
// Error codes: "unreadable" (open/stat/read failed, vanished entry, corrupt archive),
// "too_large" (message over max_message_bytes or zip member over max_archive_member: bytes
// cut, truncated=true), "archive_limit" (max_archive_total spent), "nested_archive" (a zip
// inside a zip, not opened), "empty" (a zero-byte single-message input).
// Implementation: sources.cpp (entry points), source_window.* (chunked reads: files and pipes
// are read in >= 1 MiB chunks, never slurped), source_mbox.cpp (mbox framing rules, see its
// head comment), source_tree.cpp (directories, Maildir), source_zip.cpp (libarchive).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hdrscan::mime {

struct SourceLocation {
  std::string path;                    // the file as given on the command line (or under it)
  std::optional<std::uint64_t> index;  // 0-based message number in an mbox / stream
  std::optional<std::uint64_t> offset; // byte offset of the message's first byte in the file
                                       // (mbox: just after its "From " line; in a zip
                                       // member: within the member's uncompressed bytes)
  std::string member;                  // archive member name (zip)
  std::string to_string() const;       // "path", "path#3@1024", "path!member",
                                       // "path!member#3@1024" (mbox inside a zip)
};

struct RawMessage {
  SourceLocation where;
  std::string bytes;     // the message, mbox quoting undone; never the "From " separator
  std::string error;     // non-empty: the message could not be read (reason in words)
  std::string error_code;// stable reason code for counting: "unreadable", "too_large"...
  bool truncated = false;// bytes cut at max_message_bytes
  std::string note;      // non-fatal remark of the reader, e.g. a Content-Length that lied
                         // and was ignored ("content_length_ignored: ...") or a dropped BOM
};

struct ReaderOptions {
  std::size_t max_message_bytes = 64u << 20;  // a bigger message is yielded truncated (error)
  std::uint64_t max_archive_member = 256u << 20;  // uncompressed bytes read per zip member
  std::uint64_t max_archive_total = 4ull << 30;   // per archive (zip bombs)
};

class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Fills `out` with the next message; false at the end of the input.
  virtual bool next(RawMessage& out) = 0;
};

enum class InputKind { eml, mbox, maildir, directory, zip, stdin_stream, unknown };
// Decides by file type and first bytes: "From " -> mbox (several messages) or eml with a
// leading separator (one message); PK\3\4 -> zip; a dir with cur/ or new/ -> Maildir.
// A file starting "From " is an mbox unless its name ends .eml or .msg (then one message, the
// "From " line dropped, nothing split or unquoted). A pipe or character device (e.g.
// <(zcat x.mbox.gz)) is stdin_stream: it is read like standard input. unknown: no such path
// or not openable (open_source then yields one "unreadable" message).
InputKind detect_kind(const std::string& path);

// Opens any input; "-" is standard input (one message, or an mbox stream if it starts with
// "From "). Directories are walked recursively in sorted order, so output is deterministic.
std::unique_ptr<MessageSource> open_source(const std::string& path, const ReaderOptions& opt = {});

// Standard input or any pipe: reads `fd` in bounded chunks (never slurps it), one message or,
// when the stream starts with "From ", an mbox. The fd is not closed. `label` is the path
// reported in SourceLocation (open_source uses "-").
std::unique_ptr<MessageSource> open_fd_stream(int fd, const std::string& label,
                                              const ReaderOptions& opt = {});

// Mbox over an in-memory buffer (for tests, fuzzing and archive members).
std::unique_ptr<MessageSource> open_mbox_buffer(std::string bytes, const std::string& label,
                                                const ReaderOptions& opt = {});

}  // namespace hdrscan::mime
