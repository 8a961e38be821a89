// source_window.hpp (internal to mime/sources/): a sliding byte window over one input, the single
// way every reader (file, stdin, pipe, zip member, memory) sees its bytes.
//
// Purpose: readers address bytes by absolute offset in the input, ask for more with fill()
// and give bytes up with release(); the window keeps only what lies between the two, so
// memory follows the longest message, never the input size (a 10 GB mbox or an endless pipe).
// Limits: fill() reads in chunks of at least kChunkBytes; a reader that never releases holds
// everything it filled, so readers bound what they ask for (max_message_bytes + slack).
// Diagnostics: a read error ends the input (at_eof()) with error() and error_code() set; a
// capped archive member ends it with limit_code() set ("too_large" or "archive_limit").
// Nothing throws. The readers over windows are declared in readers.hpp.
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
  const std::string& error_code() const { return error_code_; }  // stable code of error()
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
  std::string error_code_;  // io_error, corrupt, truncated, wrong_password... (sources.hpp)
  std::string limit_code_;
};

// A window over bytes already in memory (open_mbox_buffer, tests).
std::unique_ptr<ByteWindow> memory_window(std::string bytes);

// A window reading from a file descriptor in chunks; closes it only when `owned`.
// `regular_size`: the size of a regular file the caller has already fstat'ed (saves the
// window its own fstat); -1: unknown, the window asks.
std::unique_ptr<ByteWindow> fd_window(int fd, bool owned, long long regular_size = -1);

// Base for windows that read chunks through read_some() into one growing buffer.
class BufferedWindow : public ByteWindow {
 public:
  static constexpr std::size_t kChunkBytes = 1u << 20;
  void fill(std::uint64_t want) override;
  void release(std::uint64_t offset) override;
  std::size_t capacity() const { return capacity_; }  // bytes of the buffer (tests)

 protected:
  // Reads up to `n` bytes into `dst`: > 0 bytes read, 0 end of input, < 0 error (error_ set).
  virtual long read_some(char* dst, std::size_t n) = 0;
  // Expected input size when known (a regular file): the first buffer is sized to it, so a
  // directory of small files does not allocate a chunk per file.
  std::uint64_t size_hint_ = 0;
  // size_hint_ is a regular file's size at open (FdWindow), not a declared size (an archive
  // member's header): a read that stops short exactly there is the end of the input.
  bool size_is_file_size_ = false;

 private:
  std::unique_ptr<char[]> buf_;  // not zero-filled: only bytes read are ever looked at
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;  // index in buf_ of the byte at begin_
};

}  // namespace hdrscan::mime::detail
