// sources.cpp: the public entry points of mime/sources/sources.hpp: SourceLocation::to_string,
// detect_kind, open_source, open_fd_stream, open_mbox_buffer; and file_source, which opens one
// path by its type and first bytes.
//
// Decisions: a file starting "PK\3\4" is a zip; one starting "From " (after an optional BOM)
// is an mbox, unless its name ends .eml/.msg (one message, the "From " line dropped); anything
// else is one message. Paths are reported as given (never canonicalised).
// Diagnostics: a path that cannot be opened or stat'ed becomes one RawMessage with error_code
// "unreadable" and the reason (strerror) in error; nothing throws.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mime/sources/source_window.hpp"
#include "mime/sources/sources.hpp"

namespace hdrscan::mime {

std::string SourceLocation::to_string() const {
  std::string text = path;
  if (!member.empty()) {
    text += '!';
    text += member;
  }
  if (index) {
    text += '#';
    text += std::to_string(*index);
  }
  if (offset) {
    text += '@';
    text += std::to_string(*offset);
  }
  return text;
}

namespace detail {
namespace {

SourceLocation at_path(const std::string& path) {
  SourceLocation where;
  where.path = path;
  return where;
}

std::unique_ptr<MessageSource> unreadable(const std::string& path, const std::string& what,
                                          int err) {
  return error_source(at_path(path), what + ": " + std::strerror(err), "unreadable");
}

// Reads up to `n` leading bytes of an open file (pread: the offset is left alone).
std::size_t peek(int fd, char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace

std::unique_ptr<MessageSource> file_source(const std::string& path, const ReaderOptions& opt) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unreadable(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return unreadable(path, "cannot stat", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return tree_source(path, opt);
  }
  if (S_ISREG(st.st_mode)) {
    char head[8];
    std::size_t got = peek(fd, head, sizeof head);
    if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) {
      ::close(fd);
      return zip_source(path, opt);
    }
    if (starts_with_from_line(head, got) && !has_single_message_extension(path))
      return mbox_reader(fd_window(fd, true), at_path(path), opt);
    return single_reader(fd_window(fd, true), at_path(path), opt);
  }
  // A pipe or device named on the command line (e.g. <(zcat x.mbox.gz)): sniff the stream.
  return sniffing_reader(fd_window(fd, true), at_path(path), opt);
}

}  // namespace detail

InputKind detect_kind(const std::string& path) {
  if (path == "-") return InputKind::stdin_stream;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return InputKind::unknown;
  if (S_ISDIR(st.st_mode)) {
    struct stat sub {};
    if ((::stat((path + "/cur").c_str(), &sub) == 0 && S_ISDIR(sub.st_mode)) ||
        (::stat((path + "/new").c_str(), &sub) == 0 && S_ISDIR(sub.st_mode)))
      return InputKind::maildir;
    return InputKind::directory;
  }
  // A pipe or device is read as a stream; it is not opened here (opening and closing a pipe's
  // read end could kill its writer with SIGPIPE).
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) return InputKind::stdin_stream;
  if (!S_ISREG(st.st_mode)) return InputKind::unknown;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InputKind::unknown;
  char head[8];
  std::size_t got = detail::peek(fd, head, sizeof head);
  ::close(fd);
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return InputKind::zip;
  if (detail::starts_with_from_line(head, got) && !detail::has_single_message_extension(path))
    return InputKind::mbox;
  return InputKind::eml;
}

std::unique_ptr<MessageSource> open_source(const std::string& path, const ReaderOptions& opt) {
  if (path == "-") return open_fd_stream(STDIN_FILENO, "-", opt);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return detail::unreadable(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) return detail::tree_source(path, opt);
  return detail::file_source(path, opt);
}

std::unique_ptr<MessageSource> open_fd_stream(int fd, const std::string& label,
                                              const ReaderOptions& opt) {
  return detail::sniffing_reader(detail::fd_window(fd, false), detail::at_path(label), opt);
}

std::unique_ptr<MessageSource> open_mbox_buffer(std::string bytes, const std::string& label,
                                                const ReaderOptions& opt) {
  return detail::mbox_reader(detail::memory_window(std::move(bytes)), detail::at_path(label), opt);
}

}  // namespace hdrscan::mime
