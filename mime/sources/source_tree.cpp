// source_tree.cpp: directories and Maildirs, walked depth first in a deterministic order.
//
// Order: the entries of each directory sorted by name (byte order); a subdirectory is walked
// at its place in that order. Every regular file is opened by file_source (zip, mbox or one
// message). Symbolic links are followed; a directory already walked (same device and
// inode) is not walked twice, so link loops end and no file is read twice.
// Maildir: a directory with cur/ or new/ is a Maildir: its tmp/ (deliveries in progress) and
// the files at its top (dovecot/courier indexes, maildirfolder) are not messages and are
// skipped; its other subdirectories (cur, new, Maildir++ ".Folder"s) are walked.
// Limits: the names of every directory on the current path are held (sorting needs them all):
// memory grows with the largest directory (a 1M-file Maildir cur/ is about 60 MB of names),
// never with file sizes.
// Diagnostics: an entry that cannot be stat'ed (vanished, broken link: not_found), a
// directory that cannot be opened (io_error), or a non-regular file (socket, fifo, device:
// unsupported_format, never opened: a fifo could block) becomes one message with the reason;
// the walk goes on.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "mime/sources/readers.hpp"

namespace hdrscan::mime::detail {
namespace {

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_maildir(const std::string& path) {
  return is_dir(path + "/cur") || is_dir(path + "/new");
}

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

class TreeSource final : public MessageSource {
 public:
  TreeSource(const std::string& root, const ReaderOptions& opt) : opt_(opt) {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      const int err = errno;
      pending_error_ = error_source(at(root), std::string("cannot stat: ") + std::strerror(err),
                                    error_code_of_errno(err));
      return;
    }
    enter(root, st);
  }

  bool next(RawMessage& out) override {
    for (;;) {
      if (pending_error_) {
        auto source = std::move(pending_error_);
        if (source->next(out)) return true;
      }
      if (inner_) {
        if (inner_->next(out)) return true;
        inner_.reset();
      }
      if (stack_.empty()) return false;
      Frame& frame = stack_.back();
      if (frame.next >= frame.entries.size()) {
        stack_.pop_back();
        continue;
      }
      const bool regular = frame.entries[frame.next].second == DT_REG;
      std::string name = std::move(frame.entries[frame.next++].first);
      std::string path = join(frame.dir, name);
      bool in_maildir = frame.maildir;
      if (regular) {  // readdir said so (no link to follow): file_source opens and fstats it
        if (!in_maildir) inner_ = file_source(path, opt_);  // a Maildir's top: index files
        continue;
      }
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        pending_error_ = error_source(at(path), std::string("cannot stat: ") + std::strerror(err),
                                      error_code_of_errno(err));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (in_maildir && name == "tmp") continue;
        enter(path, st);  // may invalidate `frame`
        continue;
      }
      if (in_maildir) continue;  // index files at a Maildir's top
      if (S_ISREG(st.st_mode)) {
        inner_ = file_source(path, opt_);
      } else {
        pending_error_ = error_source(at(path), "not a regular file (fifo, socket or device): "
                                      "not read", "unsupported_format");
      }
    }
  }

 private:
  struct Frame {
    std::string dir;
    // Names, sorted, with their d_type (DT_UNKNOWN where the filesystem does not give it).
    std::vector<std::pair<std::string, unsigned char>> entries;
    std::size_t next = 0;
    bool maildir = false;
  };

  static SourceLocation at(const std::string& path) {
    SourceLocation where;
    where.path = path;
    return where;
  }

  void enter(const std::string& dir, const struct stat& st) {
    if (!visited_.insert({st.st_dev, st.st_ino}).second) return;  // a link loop
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      const int err = errno;
      pending_error_ = error_source(at(dir), std::string("cannot open directory: ") +
                                                 std::strerror(err), error_code_of_errno(err));
      return;
    }
    Frame frame;
    frame.dir = dir;
    frame.maildir = is_maildir(dir);
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      frame.entries.emplace_back(e->d_name, e->d_type);
    }
    ::closedir(d);
    std::sort(frame.entries.begin(), frame.entries.end());
    stack_.push_back(std::move(frame));
  }

  ReaderOptions opt_;
  std::vector<Frame> stack_;
  std::set<std::pair<dev_t, ino_t>> visited_;
  std::unique_ptr<MessageSource> inner_;
  std::unique_ptr<MessageSource> pending_error_;
};

}  // namespace

std::unique_ptr<MessageSource> tree_source(const std::string& path, const ReaderOptions& opt) {
  return std::make_unique<TreeSource>(path, opt);
}

}  // namespace hdrscan::mime::detail
