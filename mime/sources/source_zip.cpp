// source_zip.cpp: messages inside a .zip export (quarantine downloads), read with libarchive.
//
// Members are streamed (archive_read_data into a ByteWindow); nothing is ever extracted or
// written to disk, so a member named "../x.eml" is only a label. A member starting "From "
// is split as an mbox, any other member is one message.
// Limits: at most max_archive_member uncompressed bytes are read per member and
// max_archive_total per archive (zip bombs). A member over its cap is yielded cut with
// truncated=true and error_code "too_large"; once the archive total is spent, the member
// being read is cut with "archive_limit" and every later member is still listed, as an error
// message with "archive_limit" (so none is lost silently). A zip inside the zip is not opened:
// it is yielded with error_code "nested_archive". Directory entries are skipped; a link or
// device entry is yielded as an "unreadable" message (not a message, but not hidden either).
// Diagnostics: an archive libarchive cannot open, a corrupt or encrypted member become
// messages with error_code "unreadable" and libarchive's reason; a fatal error ends the
// archive after that message.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstring>

#include "mime/sources/source_window.hpp"

namespace hdrscan::mime::detail {
namespace {

struct ArchiveBudget {
  std::uint64_t member_cap = 0;
  std::uint64_t total_cap = 0;
  std::uint64_t total_used = 0;
};

// The current member's data, capped; ends with limit_code() set when a cap cut it.
class MemberWindow final : public BufferedWindow {
 public:
  MemberWindow(struct archive* a, ArchiveBudget& budget, std::uint64_t declared_size)
      : a_(a), budget_(budget) {
    size_hint_ = declared_size;  // only sizes the first buffer; the caps are what bind
  }
  bool drain_needed() const override { return false; }  // the next header skips the rest

 protected:
  long read_some(char* dst, std::size_t n) override {
    std::uint64_t member_left = budget_.member_cap - std::min(budget_.member_cap, read_);
    std::uint64_t total_left =
        budget_.total_cap - std::min(budget_.total_cap, budget_.total_used);
    std::uint64_t allowed = std::min(member_left, total_left);
    if (allowed == 0) {
      // At a cap: is there more? One probe byte tells (and is dropped: the member is cut).
      char probe;
      la_ssize_t r = archive_read_data(a_, &probe, 1);
      if (r > 0) limit_code_ = member_left == 0 ? "too_large" : "archive_limit";
      if (r < 0) error_ = archive_error_string(a_) ? archive_error_string(a_) : "read error";
      return r < 0 ? -1 : 0;
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, allowed));
    la_ssize_t r = archive_read_data(a_, dst, want);
    if (r < 0) {
      const char* why = archive_error_string(a_);
      error_ = std::string("archive member unreadable: ") + (why ? why : "read error");
      return -1;
    }
    read_ += static_cast<std::uint64_t>(r);
    budget_.total_used += static_cast<std::uint64_t>(r);
    return static_cast<long>(r);
  }

 private:
  struct archive* a_;
  ArchiveBudget& budget_;
  std::uint64_t read_ = 0;
};

class ZipSource final : public MessageSource {
 public:
  ZipSource(std::string path, const ReaderOptions& opt) : path_(std::move(path)), opt_(opt) {
    budget_.member_cap = opt.max_archive_member;
    budget_.total_cap = opt.max_archive_total;
    a_ = archive_read_new();
    archive_read_support_format_zip(a_);
    if (archive_read_open_filename(a_, path_.c_str(), 64 * 1024) != ARCHIVE_OK) {
      const char* why = archive_error_string(a_);
      open_error_ = std::string("cannot open archive: ") + (why ? why : "unknown error");
    }
  }
  ~ZipSource() override {
    inner_.reset();  // its window reads through a_
    archive_read_free(a_);
  }

  bool next(RawMessage& out) override {
    if (!open_error_.empty()) {
      error_message(out, "", open_error_, "unreadable");
      open_error_.clear();
      finished_ = true;
      return true;
    }
    for (;;) {
      if (inner_) {
        if (inner_->next(out)) {
          out.where.path = path_;
          out.where.member = member_;
          return true;
        }
        inner_.reset();
      }
      if (finished_) return false;
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(a_, &entry);
      if (rc == ARCHIVE_EOF) {
        finished_ = true;
        return false;
      }
      if (rc == ARCHIVE_FATAL) {
        const char* why = archive_error_string(a_);
        finished_ = true;
        std::string after = member_.empty() ? "" : " (after member " + member_ + ")";
        error_message(out, "", std::string("archive unreadable from here on") + after + ": " +
                                   (why ? why : "unknown error"), "unreadable");
        return true;
      }
      if (rc == ARCHIVE_RETRY) {  // this entry is unreadable, the next may not be
        const char* why = archive_error_string(a_);
        if (++retries_ >= kMaxRetries) finished_ = true;  // never loop on a stuck archive
        error_message(out, "#" + std::to_string(++member_number_),
                      std::string("archive entry unreadable: ") + (why ? why : "unknown error"),
                      "unreadable");
        return true;
      }
      ++member_number_;
      const char* name = archive_entry_pathname(entry);
      member_ = name && *name ? name : "#" + std::to_string(member_number_);
      if (archive_entry_filetype(entry) == AE_IFDIR) continue;
      if (archive_entry_filetype(entry) != AE_IFREG) {
        error_message(out, member_, "archive member is not a regular file (link or device)",
                      "unreadable");
        return true;
      }
      if (budget_.total_used >= budget_.total_cap) {
        error_message(out, member_, "archive total size cap reached; member not read",
                      "archive_limit");
        return true;
      }
      std::uint64_t declared = 0;
      if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0)
        declared = static_cast<std::uint64_t>(archive_entry_size(entry));
      auto window = std::make_unique<MemberWindow>(a_, budget_, declared);
      window->fill(4);
      if (window->end() >= 4 && std::memcmp(window->at(0), "PK\x03\x04", 4) == 0) {
        error_message(out, member_, "zip inside the zip: not opened", "nested_archive");
        return true;
      }
      SourceLocation where;
      where.path = path_;
      where.member = member_;
      inner_ = sniffing_reader(std::move(window), where, opt_);
    }
  }

 private:
  void error_message(RawMessage& out, const std::string& member, const std::string& error,
                     const std::string& code) {
    out = RawMessage{};
    out.where.path = path_;
    out.where.member = member;
    out.error = error;
    out.error_code = code;
  }

  std::string path_;
  ReaderOptions opt_;
  ArchiveBudget budget_;
  struct archive* a_ = nullptr;
  std::string open_error_;
  std::unique_ptr<MessageSource> inner_;
  std::string member_;
  std::uint64_t member_number_ = 0;
  bool finished_ = false;
  static constexpr int kMaxRetries = 1000;
  int retries_ = 0;
};

}  // namespace

std::unique_ptr<MessageSource> zip_source(const std::string& path, const ReaderOptions& opt) {
  return std::make_unique<ZipSource>(path, opt);
}

}  // namespace hdrscan::mime::detail
