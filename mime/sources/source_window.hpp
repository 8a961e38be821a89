// source_window.hpp (internal to mime/sources/): a sliding byte window over one input, the single
// way every reader (file, stdin, pipe, zip member, memory) sees its bytes.
//
// Purpose: readers address bytes by absolute offset in the input, ask for more with fill()
// and give bytes up with release(); the window keeps only what lies between the two, so
// memory follows the longest message, never the input size (a 10 GB mbox or an endless pipe).
// Limits: fill() reads in chunks of at least kChunkBytes; a reader that never releases holds
// everything it filled, so readers bound what they ask for (max_message_bytes + slack).
// Diagnostics: a read error ends the input (at_eof()) with error() set; a capped archive
// member ends it with limit_code() set ("too_large" or "archive_limit"). Nothing throws.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mime/sources/sources.hpp"

namespace hdrscan::mime::detail {

class ByteWindow {
 public:
  virtual ~ByteWindow() = default;
  // Makes bytes up to absolute offset `want` (exclusive) available, fewer at end of input.
  // May move the bytes: pointers from at() are invalid after fill().
  virtual void fill(std::uint64_t want) = 0;
  // Bytes before absolute offset `offset` are not needed any more.
  virtual void release(std::uint64_t offset) = 0;

  const char* at(std::uint64_t offset) const { return data_ + (offset - begin_); }
  std::uint64_t begin() const { return begin_; }  // first byte still held
  std::uint64_t end() const { return end_; }      // one past the last byte read so far
  bool at_eof() const { return eof_; }            // end() is the end of the input
  const std::string& error() const { return error_; }            // read error, if any
  const std::string& limit_code() const { return limit_code_; }  // archive cap hit, if any
  // True when unread bytes must still be consumed after the last message (a pipe: its
  // writer must not block); false when they can simply be left (a file, an archive member).
  virtual bool drain_needed() const { return !eof_; }

 protected:
  const char* data_ = nullptr;  // byte at offset begin_
  std::uint64_t begin_ = 0;
  std::uint64_t end_ = 0;
  bool eof_ = false;
  std::string error_;
  std::string limit_code_;
};

// A window over bytes already in memory (open_mbox_buffer, tests).
std::unique_ptr<ByteWindow> memory_window(std::string bytes);

// A window reading from a file descriptor in chunks; closes it only when `owned`.
std::unique_ptr<ByteWindow> fd_window(int fd, bool owned);

// Base for windows that read chunks through read_some() into one growing buffer.
class BufferedWindow : public ByteWindow {
 public:
  static constexpr std::size_t kChunkBytes = 1u << 20;
  void fill(std::uint64_t want) override;
  void release(std::uint64_t offset) override;

 protected:
  // Reads up to `n` bytes into `dst`: > 0 bytes read, 0 end of input, < 0 error (error_ set).
  virtual long read_some(char* dst, std::size_t n) = 0;
  // Expected input size when known (a regular file): the first buffer is sized to it, so a
  // directory of small files does not allocate a chunk per file.
  std::uint64_t size_hint_ = 0;

 private:
  std::unique_ptr<char[]> buf_;  // not zero-filled: only bytes read are ever looked at
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;  // index in buf_ of the byte at begin_
};

// Readers. `where` is copied into every message (path, member); index/offset are set by
// the mbox reader. `window` must start at offset 0 of the input.
std::unique_ptr<MessageSource> mbox_reader(std::unique_ptr<ByteWindow> window,
                                           SourceLocation where, const ReaderOptions& opt);
// One message: the whole input, a leading "From " line (and UTF-8 BOM) dropped.
std::unique_ptr<MessageSource> single_reader(std::unique_ptr<ByteWindow> window,
                                             SourceLocation where, const ReaderOptions& opt);
// Peeks at the first bytes: "From " (after an optional BOM) -> mbox_reader, unless the member
// (or path) name ends .eml/.msg; else single_reader.
std::unique_ptr<MessageSource> sniffing_reader(std::unique_ptr<ByteWindow> window,
                                               SourceLocation where, const ReaderOptions& opt);

// A source that yields exactly one error message, then ends.
std::unique_ptr<MessageSource> error_source(SourceLocation where, std::string error,
                                            std::string error_code);

// Archive (.zip) and tree (directory, Maildir) sources.
std::unique_ptr<MessageSource> zip_source(const std::string& path, const ReaderOptions& opt);
std::unique_ptr<MessageSource> tree_source(const std::string& path, const ReaderOptions& opt);
// Opens one regular file by its first bytes (zip, mbox, eml); errors become messages.
std::unique_ptr<MessageSource> file_source(const std::string& path, const ReaderOptions& opt);

// True when `bytes` (the start of an input) begins with "From ", after an optional UTF-8 BOM.
bool starts_with_from_line(const char* bytes, std::size_t size);
// True when the path names a single-message file by its extension (.eml, .msg).
bool has_single_message_extension(const std::string& path);

}  // namespace hdrscan::mime::detail
