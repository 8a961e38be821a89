// readers.hpp (internal to mime/sources/): what a byte stream is, decided by its content, and
// the reader factories that turn it into messages. Every input goes through open_content
// (files through file_source), so a file, an archive member, a decompressed stream and
// standard input are all recognised the same way, by magic bytes and never by name.
//
// Detection (detect_content, on the first kProbeBytes bytes):
//   zip "PK\3\4" / "PK\5\6", 7z, RAR, gzip, bzip2, xz, zstd, lzip, .Z, and tar ("ustar" at 257)
//     -> archive (source_archive.cpp, libarchive; compressed single files included)
//   "From " (after an optional UTF-8 BOM) -> mbox, unless the name ends .eml/.msg (one message)
//   OLE compound file -> an Outlook .msg (source_msg.cpp; a compound file that holds no
//     message, e.g. a Word document, is not_mail); PST/OST ("!BDN") -> source_pst.cpp
//   ELF, PE, Mach-O, PDF, images, SQLite, "<?xml", HTML -> not_mail (with the format's name)
//   anything else -> one message; it is then checked for mail-likeness (not_mail_reason).
// Limits: detection looks at kProbeBytes bytes at most; nested containers are opened to
// ReaderOptions::max_archive_depth (deeper: one message with error_code too_deep).
// Diagnostics: never throws; every failure becomes a RawMessage with an error_code.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mime/sources/source_window.hpp"
#include "mime/sources/sources.hpp"

namespace hdrscan::mime::detail {

inline constexpr std::size_t kProbeBytes = 512;

enum class ContentKind { message, mbox, archive, cfb, pst, binary, empty };

struct Content {
  ContentKind kind = ContentKind::message;
  const char* what = "";  // the format in words ("zip archive", "ELF executable", ...)
  bool seekable_archive = false;  // zip, 7z, RAR: read from memory when not a file
  bool compression = false;       // gzip and co.: a filter around a tar or a raw stream
};

// `head`: the first bytes of the stream (up to kProbeBytes; fewer only at its end); `name`:
// the member or path name (only for the .eml/.msg rule on "From " lines).
Content detect_content(const char* head, std::size_t size, std::string_view name);

// Why `bytes` (one whole single-message input) is clearly not a message, or "" when it may be
// one: binary data before any header field, or no header field of a known mail header name
// among its first lines (a CSV table, a text file, an XML export manifest).
std::string not_mail_reason(std::string_view bytes);

// Opens a stream by its content. `where` is copied into every message; `depth` is the number
// of containers (archives, compressed layers) already around this stream.
std::unique_ptr<MessageSource> open_content(std::unique_ptr<ByteWindow> window,
                                            SourceLocation where, const ReaderOptions& opt,
                                            int depth);

// Where the messages of `bytes` start when several were concatenated without mbox separators
// (source_concat.cpp): starts = {0} for one message; more offsets where a complete transport
// header block stands where the first message has no headers; `unambiguous` when splitting
// there is safe (see its head comment), else the input is one message with a defect.
struct Concatenation {
  std::vector<std::size_t> starts;
  bool unambiguous = false;
};
Concatenation concatenated_messages(std::string_view bytes);
// The search itself, without concatenated_messages' quick test for a line where a message could
// start (the same answer, slower; tests compare the two).
Concatenation concatenated_search(std::string_view bytes);

// Readers. `where` is copied into every message (path, member); index/offset are set by
// the mbox reader. `window` must start at offset 0 of the input.
std::unique_ptr<MessageSource> mbox_reader(std::unique_ptr<ByteWindow> window,
                                           SourceLocation where, const ReaderOptions& opt);
// One message: the whole input, a leading "From " line (and UTF-8 BOM) dropped; checked for
// mail-likeness (RawMessage::not_mail).
std::unique_ptr<MessageSource> single_reader(std::unique_ptr<ByteWindow> window,
                                             SourceLocation where, const ReaderOptions& opt);

// A source that yields exactly one error message, then ends.
std::unique_ptr<MessageSource> error_source(SourceLocation where, std::string error,
                                            std::string error_code);

// Archives and compressed streams (source_archive.cpp): a file opened by name (seekable), or
// a stream (a member, a pipe) read through its window.
std::unique_ptr<MessageSource> archive_file_source(const std::string& path, SourceLocation where,
                                                   const ReaderOptions& opt, int depth,
                                                   const Content& content);
std::unique_ptr<MessageSource> archive_stream_source(std::unique_ptr<ByteWindow> window,
                                                     SourceLocation where,
                                                     const ReaderOptions& opt, int depth,
                                                     const Content& content);
// Outlook .msg (source_msg.cpp): the whole stream is read (to max_archive_member) and
// written as one RFC 5322 message (outlook.hpp).
std::unique_ptr<MessageSource> msg_source(std::unique_ptr<ByteWindow> window, SourceLocation where,
                                          const ReaderOptions& opt);
// Outlook PST/OST (source_pst.cpp, libpff): a file opened by name, or a stream read into
// memory (to max_archive_member).
std::unique_ptr<MessageSource> pst_file_source(const std::string& path, SourceLocation where,
                                               const ReaderOptions& opt);
std::unique_ptr<MessageSource> pst_stream_source(std::unique_ptr<ByteWindow> window,
                                                 SourceLocation where, const ReaderOptions& opt);
// Directories and Maildirs (source_tree.cpp).
std::unique_ptr<MessageSource> tree_source(const std::string& path, const ReaderOptions& opt);
// Opens one path (file, directory, pipe) by its type and first bytes; errors become messages.
std::unique_ptr<MessageSource> file_source(const std::string& path, const ReaderOptions& opt);

// True when `bytes` (the start of an input) begins with "From ", after an optional UTF-8 BOM.
bool starts_with_from_line(const char* bytes, std::size_t size);
// True when the path names a single-message file by its extension (.eml, .msg).
bool has_single_message_extension(std::string_view path);

}  // namespace hdrscan::mime::detail
