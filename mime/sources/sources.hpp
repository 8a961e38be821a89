// sources.hpp: where messages come from. Every input (a .eml, an mbox in any variant, a
// Maildir, a directory tree, an archive or compressed file, an Outlook .msg, a PST/OST,
// standard input) becomes a
// MessageSource that yields RawMessages one at a time, each knowing exactly where it came from.
// Kinds are decided by content (magic bytes), never by file name: see readers.hpp.
// Memory: files are memory-mapped or streamed; a source holds at most one message (bounded by
// ReaderOptions::max_message_bytes) plus a fixed buffer, whatever the input size (nested zip
// and 7z members, which need seeking, are held in memory up to max_archive_member).
// Errors: an unreadable file, member or message is yielded as a RawMessage with `error` and a
// stable `error_code` (so it is reported and counted), and the source goes on with the next.
// Error codes (stable, documented in docs/output.md):
//   not_found             the path does not exist (or a dangling link)
//   io_error              open/stat/read failed (permissions, a device error, a vanished file)
//   empty_input           a zero-byte single-message input (a file, a member, standard input)
//   truncated             the input ends before the data it announces (a cut gzip or zip)
//   corrupt               an archive or compressed stream whose data is damaged (bad CRC,
//                         bad compressed data, unreadable header)
//   unsupported_format    a container read but not decoded (e.g. an encrypted 7z: libarchive
//                         does not decrypt 7z)
//   encrypted_no_password an encrypted member and no --password given
//   wrong_password        an encrypted member that none of the passwords given decrypts
//   too_deep              an archive nested deeper than max_archive_depth (not opened)
//   too_large             a message over max_message_bytes, or a member over
//                         max_archive_member: bytes cut, truncated=true (still analysed)
//   archive_limit         the archive's uncompressed total cap was spent (zip bombs); the
//                         member being read is cut, later members are listed, not read
//   library_missing       an archive or PST whose library (libarchive13, libpff1 and
//                         libbfio1, opened on first use: dynlib.hpp) cannot be loaded
// is_fatal_read_error() says which of them leave nothing to analyse (the record's verdict is
// then "unreadable"); too_large and archive_limit cut a message that is still analysed.
// Implementation: sources.cpp (entry points, locations), readers.hpp (content detection and
// the reader factories, internal), source_window.* (chunked reads), source_mbox.cpp (mbox
// framing; single messages split by source_concat.cpp when several were concatenated),
// source_tree.cpp (directories, Maildir), source_archive.cpp (libarchive),
// source_msg.cpp (Outlook .msg), source_pst.cpp (PST/OST, libpff).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::mime {

// Where a message is. Written as text (to_string) in every output, and read back by
// parse_location (hdrscan explain):
//   path ["!" member ("!" member)*] ["!" folder] ["#" index ["@" offset]]
// e.g. "q.zip!GUID1/GUID2.eml", "outer.zip!inner.tar.gz!a.eml", "box.mbox.gz#12@4096",
// "box.pst!/Top of Information Store/Inbox#17". In the text form the characters \ ! # of the
// path, of each member name and of the folder are escaped with a backslash, as is a member
// name's leading "/" (a folder starts with "/").
struct SourceLocation {
  std::string path;                    // the file as given on the command line (or under it)
  std::optional<std::uint64_t> index;  // 0-based message number in an mbox / stream / folder
  std::optional<std::uint64_t> offset; // byte offset of the message's first byte in the file
                                       // (mbox: just after its "From " line; in an archive
                                       // member or a compressed file: within its
                                       // uncompressed bytes)
  std::string member;                  // archive member chain, escaped: names of the members
                                       // from the outermost archive in, joined with "!"
  std::string folder;                  // folder path in a mail store (PST), "/..."; raw
  std::string to_string() const;
  // Appends one archive member name (raw) to `member`, escaped.
  void add_member(std::string_view name);
};

// Escapes \ ! # (and a leading / when `member`) with a backslash, as in the location text.
std::string escape_location_part(std::string_view raw, bool member = false);
// The text of a location back into its parts; nullopt when it is malformed (a dangling
// backslash, a folder not last, an index that is not a number).
std::optional<SourceLocation> parse_location(std::string_view text);

struct RawMessage {
  SourceLocation where;
  std::string bytes;     // the message, mbox quoting undone; never the "From " separator
  std::string error;     // non-empty: the message could not be (fully) read (reason in words)
  std::string error_code;// stable reason code (see the list above)
  bool truncated = false;// bytes cut at max_message_bytes or an archive cap
  std::string note;      // non-fatal remark of the reader, e.g. a Content-Length that lied
                         // and was ignored ("content_length_ignored: ...") or a dropped BOM
  std::string not_mail;  // non-empty: the bytes were read but are clearly not a message
                         // (binary, XML, a CSV export table); the reason in words
};

// True for the error codes that leave nothing worth analysing (the record is "unreadable"):
// every code but too_large and archive_limit, which cut a message that is still analysed.
bool is_fatal_read_error(std::string_view code);
// The code for an errno from open/stat/read: not_found (ENOENT, ENOTDIR, ELOOP) or io_error.
const char* error_code_of_errno(int err);

struct ReaderOptions {
  std::size_t max_message_bytes = 64u << 20;  // a bigger message is yielded truncated (error)
  std::uint64_t max_archive_member = 256u << 20;  // uncompressed bytes read per archive member
  std::uint64_t max_archive_total = 4ull << 30;   // per archive (zip bombs), or
  std::uint64_t max_archive_ratio = 100;  // this many times the compressed bytes read so far,
                                          // when more (a 2 GB mbox.gz is read whole); 0: off
  int max_archive_depth = 4;  // archives/compressed layers inside each other
  std::vector<std::string> passwords;  // for encrypted archive members, tried in order
};

class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Fills `out` with the next message; false at the end of the input.
  virtual bool next(RawMessage& out) = 0;
};

enum class InputKind {
  eml, mbox, maildir, directory, archive, msg, pst, stdin_stream, not_mail, unknown
};
// Decides by file type and first bytes (readers.hpp, detect_content): an archive or
// compressed stream (zip, 7z, tar, gzip, bzip2, xz, zstd) -> archive; "From " -> mbox, unless
// the name ends .eml or .msg (then one message, the "From " line dropped); a known binary
// format -> not_mail; an OLE compound file -> msg; "!BDN" -> pst; a dir with cur/ or new/ ->
// Maildir. A pipe or character device (e.g. <(zcat x.mbox.gz)) is stdin_stream: it is read
// like standard input. unknown: no such path or not openable (open_source then yields one
// not_found / io_error message).
InputKind detect_kind(const std::string& path);

// Opens any input; "-" is standard input (one message, an mbox stream when it starts with
// "From ", or an archive/compressed stream by its magic bytes). Directories are walked
// recursively in sorted order, so output is deterministic.
std::unique_ptr<MessageSource> open_source(const std::string& path, const ReaderOptions& opt = {});

// Standard input or any pipe: reads `fd` in bounded chunks (never slurps it). The fd is not
// closed. `label` is the path reported in SourceLocation (open_source uses "-").
std::unique_ptr<MessageSource> open_fd_stream(int fd, const std::string& label,
                                              const ReaderOptions& opt = {});

// Mbox over an in-memory buffer (for tests, fuzzing and archive members).
std::unique_ptr<MessageSource> open_mbox_buffer(std::string bytes, const std::string& label,
                                                const ReaderOptions& opt = {});
// One single-message input in memory (as a .eml file is read: a leading "From " line and BOM
// dropped, empty -> empty_input, binary or a table -> not_mail, concatenated messages split);
// `where` is copied into its message(s). For the Python module's Analyzer.analyze.
std::unique_ptr<MessageSource> open_message_buffer(std::string bytes, SourceLocation where,
                                                   const ReaderOptions& opt = {});
// Any content in memory, detected by its bytes as a file would be (tests and fuzzing).
std::unique_ptr<MessageSource> open_buffer(std::string bytes, const std::string& label,
                                           const ReaderOptions& opt = {});

}  // namespace hdrscan::mime
