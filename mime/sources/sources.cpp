// sources.cpp: the public entry points of mime/sources/sources.hpp: locations (to_string,
// escaping, parse_location), detect_kind, open_source, open_fd_stream, open_*_buffer; and
// file_source, which opens one path by its type and first bytes (readers.hpp).
//
// Decisions: a regular file that is an archive or a compressed stream is opened by name (so
// libarchive can seek in a zip); everything else goes through open_content over a window.
// Paths are reported as given (never canonicalised).
// Diagnostics: a path that cannot be opened or stat'ed becomes one RawMessage with error_code
// not_found (no such file, a dangling link) or io_error (permissions, other errors) and the
// reason (strerror) in error; nothing throws.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mime/sources/readers.hpp"
#include "mime/sources/sources.hpp"

namespace hdrscan::mime {

std::string escape_location_part(std::string_view raw, bool member) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' || c == '!' || c == '#' || (member && i == 0 && c == '/')) out += '\\';
    out += c;
  }
  return out;
}

void SourceLocation::add_member(std::string_view name) {
  if (!member.empty()) member += '!';
  member += escape_location_part(name, true);
}

std::string SourceLocation::to_string() const {
  std::string text = escape_location_part(path);
  if (!member.empty()) {
    text += '!';
    text += member;
  }
  if (!folder.empty()) {
    text += '!';
    text += escape_location_part(folder);
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

namespace {

// Reads one escaped part from text[i...] up to an unescaped '!' or '#' (or '@' when
// `stop_at`), unescaped into `raw`. `leading_slash` tells whether it began with an unescaped
// '/'. False on a dangling backslash.
bool read_part(std::string_view text, std::size_t& i, std::string& raw, bool& leading_slash) {
  raw.clear();
  leading_slash = i < text.size() && text[i] == '/';
  while (i < text.size()) {
    const char c = text[i];
    if (c == '!' || c == '#') break;
    if (c == '\\') {
      if (i + 1 >= text.size()) return false;
      raw += text[i + 1];
      i += 2;
      continue;
    }
    raw += c;
    ++i;
  }
  return true;
}

bool read_number(std::string_view text, std::size_t& i, std::uint64_t& value) {
  std::size_t start = i;
  value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (i - start >= 19) return false;  // no overflow: 19 digits fit in 64 bits
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  return i > start;
}

}  // namespace

std::optional<SourceLocation> parse_location(std::string_view text) {
  SourceLocation where;
  std::size_t i = 0;
  std::string raw;
  bool slash = false;
  if (!read_part(text, i, raw, slash) || raw.empty()) return std::nullopt;
  where.path = raw;
  while (i < text.size() && text[i] == '!') {
    ++i;
    if (!where.folder.empty()) return std::nullopt;  // nothing after a folder but #index
    if (!read_part(text, i, raw, slash) || raw.empty()) return std::nullopt;
    if (slash) where.folder = raw;
    else where.add_member(raw);
  }
  if (i < text.size() && text[i] == '#') {
    ++i;
    std::uint64_t n = 0;
    if (!read_number(text, i, n)) return std::nullopt;
    where.index = n;
    if (i < text.size() && text[i] == '@') {
      ++i;
      if (!read_number(text, i, n)) return std::nullopt;
      where.offset = n;
    }
  }
  if (i != text.size()) return std::nullopt;
  return where;
}

bool is_fatal_read_error(std::string_view code) {
  return !code.empty() && code != "too_large" && code != "archive_limit";
}

const char* error_code_of_errno(int err) {
  return err == ENOENT || err == ENOTDIR || err == ELOOP ? "not_found" : "io_error";
}

namespace detail {
namespace {

SourceLocation at_path(const std::string& path) {
  SourceLocation where;
  where.path = path;
  return where;
}

std::unique_ptr<MessageSource> open_failed(const std::string& path, const std::string& what,
                                           int err) {
  return error_source(at_path(path), what + ": " + std::strerror(err), error_code_of_errno(err));
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
  if (fd < 0) return open_failed(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return open_failed(path, "cannot stat", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return tree_source(path, opt);
  }
  if (S_ISREG(st.st_mode)) {
    // The probe comes from the window's first fill (a small file is read whole by it, in one
    // read(2)): no separate pread, and the bytes are not read twice.
    auto window = fd_window(fd, true, static_cast<long long>(st.st_size));
    window->fill(kProbeBytes);
    const std::size_t got =
        static_cast<std::size_t>(std::min<std::uint64_t>(window->end(), kProbeBytes));
    const Content content = detect_content(got > 0 ? window->at(0) : "", got, path);
    if (content.kind == ContentKind::archive) {
      window.reset();  // closes fd
      return archive_file_source(path, at_path(path), opt, 0, content);
    }
    if (content.kind == ContentKind::pst) {  // libpff reads what it needs, by name
      window.reset();
      return pst_file_source(path, at_path(path), opt);
    }
    return open_content(std::move(window), at_path(path), opt, 0);
  }
  // A pipe or device named on the command line (e.g. <(zcat x.mbox.gz)).
  return open_content(fd_window(fd, true), at_path(path), opt, 0);
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
  char head[detail::kProbeBytes];
  std::size_t got = detail::peek(fd, head, sizeof head);
  ::close(fd);
  switch (detail::detect_content(head, got, path).kind) {
    case detail::ContentKind::archive: return InputKind::archive;
    case detail::ContentKind::mbox: return InputKind::mbox;
    case detail::ContentKind::cfb: return InputKind::msg;
    case detail::ContentKind::pst: return InputKind::pst;
    case detail::ContentKind::binary: return InputKind::not_mail;
    case detail::ContentKind::empty:
    case detail::ContentKind::message: break;
  }
  return InputKind::eml;
}

std::unique_ptr<MessageSource> open_source(const std::string& path, const ReaderOptions& opt) {
  if (path == "-") return open_fd_stream(STDIN_FILENO, "-", opt);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return detail::open_failed(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) return detail::tree_source(path, opt);
  return detail::file_source(path, opt);
}

std::unique_ptr<MessageSource> open_fd_stream(int fd, const std::string& label,
                                              const ReaderOptions& opt) {
  return detail::open_content(detail::fd_window(fd, false), detail::at_path(label), opt, 0);
}

std::unique_ptr<MessageSource> open_mbox_buffer(std::string bytes, const std::string& label,
                                                const ReaderOptions& opt) {
  return detail::mbox_reader(detail::memory_window(std::move(bytes)), detail::at_path(label), opt);
}

std::unique_ptr<MessageSource> open_message_buffer(std::string bytes, SourceLocation where,
                                                   const ReaderOptions& opt) {
  return detail::single_reader(detail::memory_window(std::move(bytes)), std::move(where), opt);
}

std::unique_ptr<MessageSource> open_buffer(std::string bytes, const std::string& label,
                                           const ReaderOptions& opt) {
  return detail::open_content(detail::memory_window(std::move(bytes)), detail::at_path(label),
                              opt, 0);
}

}  // namespace hdrscan::mime
