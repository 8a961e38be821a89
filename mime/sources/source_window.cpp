// source_window.cpp: the byte windows behind every reader (see source_window.hpp), plus small
// helpers shared by the readers.
//
// Limits: a BufferedWindow holds at most the bytes between the last release() and the last
// fill() plus one chunk; it compacts (memmove) only when the dead prefix is at least as large
// as the live bytes, so compaction costs O(1) amortized per byte.
// Diagnostics: read(2) errors other than EINTR end the input with error() = strerror text.
#include "mime/sources/source_window.hpp"

#include "mime/sources/readers.hpp"
#include "mime/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hdrscan::mime::detail {

void BufferedWindow::fill(std::uint64_t want) {
  while (end_ < want && !eof_) {
    std::size_t live = static_cast<std::size_t>(end_ - begin_);
    std::size_t tail_room = capacity_ - start_ - live;
    // A small known input is read in one piece (+1 byte to see its end without a resize).
    std::size_t min_room = kChunkBytes;
    if (size_hint_ > 0 && size_hint_ < kChunkBytes && end_ == 0)
      min_room = static_cast<std::size_t>(size_hint_) + 1;
    else if (size_hint_ > 0 && end_ >= size_hint_)
      // Every byte the file had at open is in: the spare byte proves the end (or that the file
      // grew, which grows the buffer as usual) without a new chunk: each small file used to
      // get a second buffer of 1 MiB and a copy here.
      min_room = 1;
    if (tail_room < min_room) {
      if (start_ > 0 && start_ >= live) {  // compact: cheap because live <= dead prefix
        std::memmove(buf_.get(), buf_.get() + start_, live);
        start_ = 0;
      }
      tail_room = capacity_ - start_ - live;
      if (tail_room < min_room) {
        // Grow geometrically, never by what a caller asks: `want` may be far ahead.
        std::size_t grown = std::max(start_ + live + min_room, capacity_ * 2);
        std::unique_ptr<char[]> bigger(new char[grown]);
        if (live > 0) std::memcpy(bigger.get(), buf_.get() + start_, live);
        buf_ = std::move(bigger);
        capacity_ = grown;
        start_ = 0;
        tail_room = capacity_ - live;
      }
    }
    long got = read_some(buf_.get() + start_ + live, tail_room);
    if (got <= 0) {
      eof_ = true;
    } else {
      end_ += static_cast<std::uint64_t>(got);
      // A regular file's read that stops short exactly at the size it had at open is its end:
      // no second read to see 0 bytes (one system call less a file). A short read before that
      // size (FUSE, NFS) or past it (the file grew) reads on, to a read of 0 bytes.
      // Not for an archive member: its declared size binds nothing (the caps do).
      if (size_is_file_size_ && size_hint_ > 0 && end_ == size_hint_ && static_cast<std::size_t>(got) < tail_room)
        eof_ = true;
    }
  }
  data_ = buf_.get() + start_;
}

void BufferedWindow::release(std::uint64_t offset) {
  if (offset <= begin_) return;
  offset = std::min(offset, end_);
  start_ += static_cast<std::size_t>(offset - begin_);
  begin_ = offset;
  if (begin_ == end_) start_ = 0;  // nothing live: reuse the buffer from its front
  data_ = buf_.get() + start_;
}

namespace {

class MemoryWindow final : public ByteWindow {
 public:
  explicit MemoryWindow(std::string bytes) : bytes_(std::move(bytes)) {
    data_ = bytes_.data();
    end_ = bytes_.size();
    eof_ = true;
  }
  void fill(std::uint64_t) override {}
  void release(std::uint64_t) override {}  // the bytes are the caller's: nothing to give back

 private:
  std::string bytes_;
};

class FdWindow final : public BufferedWindow {
 public:
  FdWindow(int fd, bool owned, long long regular_size) : fd_(fd), owned_(owned) {
    if (regular_size >= 0) {
      size_hint_ = static_cast<std::uint64_t>(regular_size);
      size_is_file_size_ = true;
    } else if (struct stat st {}; ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      size_hint_ = static_cast<std::uint64_t>(st.st_size);
      size_is_file_size_ = true;
    }
    // Tells the kernel to read ahead; harmless on pipes (the call fails, ignored). Not for a
    // file read in one piece (most single messages): one system call less per file.
    if (size_hint_ == 0 || size_hint_ >= kChunkBytes)
      (void)posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~FdWindow() override {
    if (owned_) ::close(fd_);
  }
  bool drain_needed() const override { return !eof_ && size_hint_ == 0; }

 protected:
  long read_some(char* dst, std::size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, dst, n);
      if (got >= 0) return static_cast<long>(got);
      if (errno == EINTR) continue;
      error_ = std::string("read error: ") + std::strerror(errno);
      error_code_ = error_code_of_errno(errno);
      return -1;
    }
  }

 private:
  int fd_;
  bool owned_;
};

// One message without bytes, carrying an error.
class ErrorSource final : public MessageSource {
 public:
  ErrorSource(SourceLocation where, std::string error, std::string code)
      : where_(std::move(where)), error_(std::move(error)), code_(std::move(code)) {}
  bool next(RawMessage& out) override {
    if (done_) return false;
    done_ = true;
    out = RawMessage{};
    out.where = where_;
    out.error = error_;
    out.error_code = code_;
    return true;
  }

 private:
  SourceLocation where_;
  std::string error_, code_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<ByteWindow> memory_window(std::string bytes) {
  return std::make_unique<MemoryWindow>(std::move(bytes));
}

std::unique_ptr<ByteWindow> fd_window(int fd, bool owned, long long regular_size) {
  return std::make_unique<FdWindow>(fd, owned, regular_size);
}

std::unique_ptr<MessageSource> error_source(SourceLocation where, std::string error,
                                            std::string error_code) {
  return std::make_unique<ErrorSource>(std::move(where), std::move(error), std::move(error_code));
}


bool starts_with_from_line(const char* bytes, std::size_t size) {
  if (size >= 3 && std::memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
    bytes += 3;
    size -= 3;
  }
  return size >= 5 && std::memcmp(bytes, "From ", 5) == 0;
}

bool has_single_message_extension(std::string_view path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
  const std::string ext = text::lower(path.substr(dot + 1));
  return ext == "eml" || ext == "msg";
}

}  // namespace hdrscan::mime::detail
