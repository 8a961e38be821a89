// source_archive.cpp: messages inside archives and compressed files, read with libarchive:
// zip (stored, deflate, ZipCrypto, AES-128/256 with a password), 7z (not encrypted: libarchive
// does not decrypt 7z), RAR, tar, and gzip / bzip2 / xz / lzma / zstd / lzip / compress around
// anything (a tar.gz of a Maildir, an mbox.gz, an .eml.gz).
//
// Members are streamed (archive_read_data into a ByteWindow); nothing is ever extracted or
// written to disk, decrypted members included, so a member named "../x.eml" is only a label.
// Each member is opened by its content (readers.hpp: open_content): an mbox is split, an
// archive inside is opened in turn (to ReaderOptions::max_archive_depth), anything else is one
// message. A compressed single file (gzip and co. around something that is not a tar) is read
// as libarchive's "raw" format: its content is the stream itself and adds no member name to
// the location ("box.mbox.gz#12@4096"); an archive member adds its name ("q.zip!GUID/x.eml").
// Sources: a file is opened by name (libarchive seeks in a zip's central directory); a nested
// archive or standard input is read through its window, except zip and 7z, which need seeking
// and are read into memory first (at most max_archive_member bytes, else too_large).
// Passwords: ReaderOptions::passwords are all given to libarchive, which tries them in turn on
// each encrypted zip member and keeps the first that passes the member's check value. A wrong
// one passes it by chance (ZipCrypto: 1 in 256, AES: 1 in 65,536) and the member's data then
// fail their CRC, so with several passwords each is first tried alone on a second handle
// (choose_password: the member read through to its end, within the member cap) and the member
// is streamed from a handle holding only the one that read it cleanly. An encrypted member
// without passwords is not read
// (encrypted_no_password, with a hint naming the options); one that no password decrypts is
// wrong_password; an encrypted 7z (data or header) is unsupported_format.
// Limits: at most max_archive_member uncompressed bytes are read per member (not for the raw
// stream of a compressed file, whose messages are bounded by the mbox reader) and, per archive,
// max_archive_total or max_archive_ratio times the compressed bytes read so far, whichever is
// larger (zip bombs are cut, a genuine 2 GB mbox.gz is not). A member over its cap is yielded cut
// with truncated=true and error_code too_large; once the archive total is spent, the member
// being read is cut with archive_limit and every later member is still listed, as an error
// message with archive_limit (so none is lost silently). Directory entries are skipped; a
// link or device entry is yielded as not_mail (it has no content). An archive without any
// file entry is one empty_input message.
// libarchive is opened on the first archive (dynlib.hpp: with what it pulls in it cost every
// process start-up ~10 ms); when it cannot be, each archive is one library_missing record.
// Diagnostics: libarchive's reason in words in RawMessage::error; the code by what failed
// (code_of: truncated, corrupt, wrong_password, unsupported_format...). A fatal error ends the
// archive after that message; a bad entry (ARCHIVE_RETRY) only that entry.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>

#include "mime/sources/dynlib.hpp"
#include "mime/sources/readers.hpp"

namespace hdrscan::mime::detail {
namespace {

// libarchive, opened on first use (dynlib.hpp): the functions this reader calls.
#define HDRSCAN_LIBARCHIVE_FUNCTIONS(X) \
  X(archive_entry_filetype) \
  X(archive_entry_hardlink) \
  X(archive_entry_is_data_encrypted) \
  X(archive_entry_is_metadata_encrypted) \
  X(archive_entry_pathname) \
  X(archive_entry_pathname_utf8) \
  X(archive_entry_size) \
  X(archive_entry_size_is_set) \
  X(archive_entry_symlink) \
  X(archive_errno) \
  X(archive_error_string) \
  X(archive_filter_bytes) \
  X(archive_format) \
  X(archive_read_add_passphrase) \
  X(archive_read_data) \
  X(archive_read_free) \
  X(archive_read_new) \
  X(archive_read_next_header) \
  X(archive_read_open) \
  X(archive_read_open_filename) \
  X(archive_read_open_memory) \
  X(archive_read_support_filter_all) \
  X(archive_read_support_format_7zip) \
  X(archive_read_support_format_empty) \
  X(archive_read_support_format_rar) \
  X(archive_read_support_format_rar5) \
  X(archive_read_support_format_raw) \
  X(archive_read_support_format_tar) \
  X(archive_read_support_format_zip) \
  X(archive_set_error)

struct LibArchive {
#define HDRSCAN_SLOT(f) decltype(&::f) f = nullptr;
  HDRSCAN_LIBARCHIVE_FUNCTIONS(HDRSCAN_SLOT)
#undef HDRSCAN_SLOT
};

LibArchive g_libarchive;
#define HDRSCAN_NAME(f) #f,
#define HDRSCAN_ADDR(f) static_cast<void*>(&g_libarchive.f),
const char* const kLibarchiveNames[] = {HDRSCAN_LIBARCHIVE_FUNCTIONS(HDRSCAN_NAME)};
void* const kLibarchiveSlots[] = {HDRSCAN_LIBARCHIVE_FUNCTIONS(HDRSCAN_ADDR)};
#undef HDRSCAN_ADDR
#undef HDRSCAN_NAME
LazyLibraries g_libarchive_lib{{"libarchive.so.13", kLibarchiveNames, kLibarchiveSlots, std::size(kLibarchiveNames)}};

// Whether libarchive is usable; `why` otherwise.
bool libarchive_loaded(std::string& why) { return g_libarchive_lib.loaded(why); }

// The table; called only on paths reached after libarchive_loaded() returned true.
const LibArchive& la() { return g_libarchive; }

constexpr std::size_t kStreamBlock = 64 * 1024;  // bytes handed to libarchive per read

const char* why_of(struct archive* a) {
  const char* why = la().archive_error_string(a);
  return why && *why ? why : "unknown error";
}

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

// The stable code for libarchive's last error (sources.hpp). `encrypted`: the entry (or the
// archive) is encrypted, so a data error most likely means a wrong password.
std::string code_of(struct archive* a, bool encrypted, bool have_passwords) {
  const std::string_view why = why_of(a);
  if (contains(why, "not supported") || contains(why, "Unsupported") ||
      contains(why, "unsupported"))
    return "unsupported_format";
  if (contains(why, "Passphrase required") || contains(why, "passphrase required"))
    return have_passwords ? "wrong_password" : "encrypted_no_password";
  if (contains(why, "Incorrect passphrase")) return "wrong_password";
  if (encrypted) return have_passwords ? "wrong_password" : "encrypted_no_password";
  if (contains(why, "runcated") || contains(why, "Premature end") ||
      contains(why, "nexpected end") || contains(why, "EOF"))
    return "truncated";
  if (la().archive_errno(a) == EIO) return "io_error";
  return "corrupt";
}

struct ArchiveBudget {
  std::uint64_t member_cap = 0;  // 0: no per-member cap (the raw stream of a compressed file)
  std::uint64_t total_cap = 0;
  std::uint64_t total_used = 0;
  std::uint64_t ratio = 0;
};

// The uncompressed bytes this archive may yield now: the fixed cap, or max_archive_ratio
// times the compressed bytes read so far when that is more.
std::uint64_t archive_total_cap(struct archive* a, const ArchiveBudget& budget) {
  const la_int64_t packed = la().archive_filter_bytes(a, -1);
  if (packed <= 0 || budget.ratio == 0) return budget.total_cap;
  return std::max(budget.total_cap, budget.ratio * static_cast<std::uint64_t>(packed));
}

// The current member's data, capped; ends with limit_code() set when a cap cut it.
class MemberWindow final : public BufferedWindow {
 public:
  MemberWindow(struct archive* a, ArchiveBudget& budget, std::uint64_t declared_size,
               bool encrypted, bool have_passwords)
      : a_(a), budget_(budget), encrypted_(encrypted), have_passwords_(have_passwords) {
    size_hint_ = declared_size;  // only sizes the first buffer; the caps are what bind
  }
  bool drain_needed() const override { return false; }  // the next header skips the rest

 protected:
  long read_some(char* dst, std::size_t n) override {
    std::uint64_t member_left =
        budget_.member_cap == 0 ? ~std::uint64_t{0}
                                : budget_.member_cap - std::min(budget_.member_cap, read_);
    const std::uint64_t total_cap = archive_total_cap(a_, budget_);
    std::uint64_t total_left = total_cap - std::min(total_cap, budget_.total_used);
    std::uint64_t allowed = std::min(member_left, total_left);
    if (allowed == 0) {
      // At a cap: is there more? One probe byte tells (and is dropped: the member is cut).
      char probe;
      la_ssize_t r = la().archive_read_data(a_, &probe, 1);
      if (r > 0) limit_code_ = member_left == 0 ? "too_large" : "archive_limit";
      if (r < 0) fail();
      return r < 0 ? -1 : 0;
    }
    // At most kStreamBlock per call: archive_read_data drops what it copied in a call that
    // ends in an error, so a truncated stream would lose up to a whole request.
    std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::min<std::uint64_t>(n, allowed), kStreamBlock));
    la_ssize_t r = la().archive_read_data(a_, dst, want);
    if (r < 0) {
      fail();
      return -1;
    }
    read_ += static_cast<std::uint64_t>(r);
    budget_.total_used += static_cast<std::uint64_t>(r);
    return static_cast<long>(r);
  }

 private:
  void fail() {
    error_code_ = code_of(a_, encrypted_, have_passwords_);
    error_ = std::string("archive member unreadable: ") + why_of(a_);
  }

  struct archive* a_;
  ArchiveBudget& budget_;
  bool encrypted_, have_passwords_;
  std::uint64_t read_ = 0;
};

class ArchiveSource final : public MessageSource {
 public:
  // `path` non-empty: open the file by name; else read `window` (a stream, or for zip and 7z
  // its whole content in memory).
  ArchiveSource(const std::string& path, std::unique_ptr<ByteWindow> window, SourceLocation where,
                const ReaderOptions& opt, int depth, const Content& content)
      : where_(std::move(where)), opt_(opt), depth_(depth), window_(std::move(window)),
        path_(path), compression_(content.compression) {
    budget_.member_cap = opt.max_archive_member;
    budget_.total_cap = opt.max_archive_total;
    budget_.ratio = opt.max_archive_ratio;
    a_ = new_handle();
    for (const auto& pw : opt.passwords) la().archive_read_add_passphrase(a_, pw.c_str());
    int rc = ARCHIVE_FATAL;
    if (!path.empty()) {
      rc = la().archive_read_open_filename(a_, path.c_str(), 64 * 1024);
    } else if (content.seekable_archive) {
      if (!slurp_window(content)) return;
      rc = la().archive_read_open_memory(a_, memory_.data(), memory_.size());
    } else {
      rc = la().archive_read_open(a_, this, nullptr, &ArchiveSource::read_cb, nullptr);
    }
    if (rc != ARCHIVE_OK && open_error_.empty()) {
      open_error_ = std::string("cannot open ") + content.what + ": " + why_of(a_);
      open_code_ = outer_code().empty() ? code_of(a_, false, false) : outer_code();
    }
  }
  ~ArchiveSource() override {
    inner_.reset();  // its window reads through a_ (or member_a_)
    if (member_a_) la().archive_read_free(member_a_);
    la().archive_read_free(a_);
  }

  bool next(RawMessage& out) override {
    if (!open_error_.empty()) {
      error_message(out, open_error_, open_code_);
      open_error_.clear();
      finished_ = true;
      return true;
    }
    for (;;) {
      if (inner_) {
        if (inner_->next(out)) return true;
        inner_.reset();
        if (member_a_) la().archive_read_free(member_a_);
        member_a_ = nullptr;
      }
      if (finished_) return false;
      struct archive_entry* entry = nullptr;
      int rc = la().archive_read_next_header(a_, &entry);
      if (rc == ARCHIVE_EOF) {
        finished_ = true;
        if (files_ == 0 && reported_ == 0) {
          error_message(out, "archive holds no file", "empty_input");
          return true;
        }
        return false;
      }
      if (rc == ARCHIVE_FATAL) {
        finished_ = true;
        std::string after = last_name_.empty() ? "" : " (after member " + last_name_ + ")";
        std::string code = outer_code().empty() ? code_of(a_, false, !opt_.passwords.empty())
                                                : outer_code();
        error_message(out, std::string("archive unreadable") +
                               (files_ + reported_ > 0 ? " from here on" : "") + after + ": " +
                               why_of(a_), code);
        return true;
      }
      if (rc == ARCHIVE_RETRY) {  // this entry is unreadable, the next may not be
        if (++retries_ >= kMaxRetries) finished_ = true;  // never loop on a stuck archive
        ++entry_number_;
        error_message(out, std::string("archive entry unreadable: ") + why_of(a_), "corrupt",
                      "#" + std::to_string(entry_number_));
        return true;
      }
      ++entry_number_;
      const bool raw = la().archive_format(a_) == ARCHIVE_FORMAT_RAW;
      const char* name = la().archive_entry_pathname_utf8(entry);
      if (!name || !*name) name = la().archive_entry_pathname(entry);
      last_name_ = name && *name ? name : "#" + std::to_string(entry_number_);
      const auto type = la().archive_entry_filetype(entry);
      if (type == AE_IFDIR) continue;
      SourceLocation where = where_;
      if (!raw) where.add_member(last_name_);
      if (type != AE_IFREG) {
        ++reported_;
        const char* target = la().archive_entry_symlink(entry);
        if (!target) target = la().archive_entry_hardlink(entry);
        message_at(out, where);
        out.not_mail = std::string("archive entry without content (link or device") +
                       (target ? std::string(" to ") + target : std::string()) + ")";
        return true;
      }
      ++files_;
      const bool encrypted = la().archive_entry_is_data_encrypted(entry) ||
                             la().archive_entry_is_metadata_encrypted(entry);
      if (encrypted && la().archive_format(a_) == ARCHIVE_FORMAT_7ZIP) {
        message_at(out, where);
        out.error = "encrypted 7z member: libarchive does not decrypt 7z (extract it with "
                    "7z x -p and scan the files)";
        out.error_code = "unsupported_format";
        return true;
      }
      if (encrypted && opt_.passwords.empty()) {
        message_at(out, where);
        out.error = "encrypted member: give its password with --password, --password-file "
                    "or HDRSCAN_PASSWORD";
        out.error_code = "encrypted_no_password";
        return true;
      }
      if (!raw && budget_.total_used >= archive_total_cap(a_, budget_)) {
        message_at(out, where);
        out.error = "archive total size cap reached; member not read";
        out.error_code = "archive_limit";
        return true;
      }
      std::uint64_t declared = 0;
      if (la().archive_entry_size_is_set(entry) && la().archive_entry_size(entry) > 0)
        declared = static_cast<std::uint64_t>(la().archive_entry_size(entry));
      ArchiveBudget& budget = raw ? raw_budget() : budget_;
      if (encrypted && opt_.passwords.size() > 1) member_a_ = choose_password();
      inner_ = open_content(std::make_unique<MemberWindow>(member_a_ ? member_a_ : a_, budget,
                                                           declared, encrypted,
                                                           !opt_.passwords.empty()),
                            std::move(where), opt_, depth_ + 1);
    }
  }

 private:
  struct archive* new_handle() const {
    struct archive* a = la().archive_read_new();
    if (!compression_) {
      la().archive_read_support_format_zip(a);
      la().archive_read_support_format_7zip(a);
      la().archive_read_support_format_rar(a);
      la().archive_read_support_format_rar5(a);
      la().archive_read_support_format_tar(a);
    } else {
      // A compression layer: a tar inside, or anything else as the raw stream.
      la().archive_read_support_filter_all(a);
      la().archive_read_support_format_tar(a);
      la().archive_read_support_format_raw(a);
      la().archive_read_support_format_empty(a);
    }
    return a;
  }

  // A second handle on this archive holding only `password`, at the current member (the
  // entry_number_-th header, named last_name_); null when the archive cannot be re-read (a
  // stream) or the member is not found again.
  struct archive* open_alone(const std::string& password) const {
    if (path_.empty() && memory_.empty()) return nullptr;
    struct archive* a = new_handle();
    la().archive_read_add_passphrase(a, password.c_str());
    int rc = path_.empty() ? la().archive_read_open_memory(a, memory_.data(), memory_.size())
                           : la().archive_read_open_filename(a, path_.c_str(), 64 * 1024);
    struct archive_entry* entry = nullptr;
    for (std::uint64_t i = 0; rc == ARCHIVE_OK && i < entry_number_; ++i) {
      rc = la().archive_read_next_header(a, &entry);
      if (rc == ARCHIVE_WARN) rc = ARCHIVE_OK;
    }
    const char* name = entry ? la().archive_entry_pathname_utf8(entry) : nullptr;
    if (entry && (!name || !*name)) name = la().archive_entry_pathname(entry);
    if (rc != ARCHIVE_OK || !name || last_name_ != name) {
      la().archive_read_free(a);
      return nullptr;
    }
    return a;
  }

  // The handle to stream the current encrypted member from: one holding only the first
  // password that reads the member to its end without error (CRC included), or null (stream
  // from a_, whose error then says wrong_password). Reads at most the member cap per password.
  struct archive* choose_password() const {
    std::string sink(kStreamBlock, '\0');  // per call: scan threads share no buffer
    for (const auto& pw : opt_.passwords) {
      struct archive* probe = open_alone(pw);
      if (!probe) return nullptr;
      std::uint64_t read = 0;
      la_ssize_t r = 0;
      while ((r = la().archive_read_data(probe, sink.data(), sink.size())) > 0) {
        read += static_cast<std::uint64_t>(r);
        if (budget_.member_cap && read >= budget_.member_cap) break;
      }
      la().archive_read_free(probe);
      if (r >= 0) return open_alone(pw);
    }
    return nullptr;
  }

  // The raw stream of a compressed file has no per-member cap (its messages are bounded by
  // the readers); the total (ratio) cap still holds.
  ArchiveBudget& raw_budget() {
    budget_.member_cap = 0;
    return budget_;
  }

  // The code of the window this archive is read from, when it failed or was cut.
  std::string outer_code() const {
    if (!window_) return {};
    if (!window_->limit_code().empty()) return window_->limit_code();
    return window_->error_code();
  }

  // Reads the whole window into memory_ (zip and 7z need to seek), within max_archive_member.
  bool slurp_window(const Content& content) {
    const std::uint64_t cap = opt_.max_archive_member;
    for (;;) {
      window_->fill(window_->end() + BufferedWindow::kChunkBytes);
      if (window_->end() > cap) {
        open_error_ = std::string(content.what) + " inside another container is larger than " +
                      std::to_string(cap) + " bytes (it is read in memory to seek in it): " +
                      "not opened";
        open_code_ = "too_large";
        return false;
      }
      if (window_->at_eof()) break;
    }
    if (!window_->error().empty() || !window_->limit_code().empty()) {
      open_error_ = std::string("cannot read ") + content.what + ": " +
                    (window_->error().empty() ? "cut at a size cap" : window_->error());
      open_code_ = outer_code();
      return false;
    }
    memory_.assign(window_->at(0), static_cast<std::size_t>(window_->end()));
    window_->release(window_->end());
    return true;
  }

  static la_ssize_t read_cb(struct archive* a, void* self_ptr, const void** buffer) {
    auto* self = static_cast<ArchiveSource*>(self_ptr);
    ByteWindow& w = *self->window_;
    w.release(self->stream_pos_);  // the block handed out last time is done
    w.fill(self->stream_pos_ + kStreamBlock);
    const std::uint64_t n = std::min<std::uint64_t>(w.end() - self->stream_pos_, kStreamBlock);
    if (n == 0 && !w.error().empty()) {
      la().archive_set_error(a, EIO, "%s", w.error().c_str());
      return ARCHIVE_FATAL;
    }
    *buffer = w.at(self->stream_pos_);
    self->stream_pos_ += n;
    return static_cast<la_ssize_t>(n);
  }

  void message_at(RawMessage& out, const SourceLocation& where) {
    out = RawMessage{};
    out.where = where;
  }

  void error_message(RawMessage& out, const std::string& error, const std::string& code,
                     const std::string& member = "") {
    message_at(out, where_);
    if (!member.empty()) out.where.add_member(member);
    out.error = error;
    out.error_code = code.empty() ? "corrupt" : code;
    ++reported_;
  }

  SourceLocation where_;
  ReaderOptions opt_;
  int depth_;
  std::unique_ptr<ByteWindow> window_;  // null when opened by file name
  std::string memory_;                  // a nested zip/7z, read whole
  std::string path_;                    // the archive's file name, when opened by name
  bool compression_ = false;            // a compression layer (tar or raw inside)
  struct archive* member_a_ = nullptr;  // the current member's own handle (choose_password)
  std::uint64_t stream_pos_ = 0;
  ArchiveBudget budget_;
  struct archive* a_ = nullptr;
  std::string open_error_, open_code_;
  std::unique_ptr<MessageSource> inner_;
  std::string last_name_;
  std::uint64_t entry_number_ = 0, files_ = 0, reported_ = 0;
  bool finished_ = false;
  static constexpr int kMaxRetries = 1000;
  int retries_ = 0;
};

}  // namespace

std::unique_ptr<MessageSource> archive_file_source(const std::string& path, SourceLocation where,
                                                   const ReaderOptions& opt, int depth,
                                                   const Content& content) {
  if (std::string why; !libarchive_loaded(why)) return error_source(std::move(where), why, "library_missing");
  return std::make_unique<ArchiveSource>(path, nullptr, std::move(where), opt, depth, content);
}

std::unique_ptr<MessageSource> archive_stream_source(std::unique_ptr<ByteWindow> window,
                                                     SourceLocation where,
                                                     const ReaderOptions& opt, int depth,
                                                     const Content& content) {
  if (std::string why; !libarchive_loaded(why)) return error_source(std::move(where), why, "library_missing");
  return std::make_unique<ArchiveSource>("", std::move(window), std::move(where), opt, depth,
                                         content);
}

}  // namespace hdrscan::mime::detail
