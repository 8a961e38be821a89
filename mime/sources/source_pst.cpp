// source_pst.cpp: Outlook PST and OST files, read with libpff (Debian libpff-dev): every item
// of every folder, depth first (a folder's items in order, then its subfolders in order), each
// message written as RFC 5322 by outlook.cpp exactly as a .msg is, located as
// "box.pst!/Top of Information Store/Inbox#17" (SourceLocation::folder = the folder path from
// the root, names joined with "/"; index = the item's position in its folder).
//
// Read per message: transport headers (0x007D), subject, sender, recipients (the recipients
// item's record sets), submit/delivery time, Message-ID, In-Reply-To, References, the plain
// body, PR_HTML, PR_RTF_COMPRESSED (raw, decompressed by rtf.cpp), attachments (data, file
// name, MIME tag; attached messages read the same way, to kMaxNesting). libpff converts 8-bit
// strings to UTF-8 with the message's code page.
// Items that are not mail (by message class: contacts, distribution lists, tasks, notes,
// appointments, free/busy data; outlook.hpp not_mail_item) are reported not_mail, one record
// each, so a PST of contacts says so. A PST
// with no item at all is one empty_input record.
// Limits: a file is opened by name (libpff reads what it needs); a PST inside an archive or on
// standard input is read into memory up to max_archive_member (more: too_large: extract it).
// Only one message and its attachments are held at a time; folder handles are held along the
// current path only (depth at most kMaxFolderDepth), so memory does not grow with the number
// of messages. A body or attachment over max_message_bytes is not read (a note says so).
// libpff and libbfio are opened on the first PST (dynlib.hpp: they cost every process start-up
// otherwise); when they cannot be, each PST is one library_missing record saying why.
// Diagnostics: a file libpff cannot open is corrupt with libpff's reason; an item it cannot
// read is one corrupt record and the walk goes on.
#include <libpff.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mime/sources/dynlib.hpp"
#include "mime/sources/outlook.hpp"
#include "mime/sources/readers.hpp"

namespace hdrscan::mime::detail {
namespace {

// libpff and libbfio, opened on first use (dynlib.hpp): the functions this reader calls.
#define HDRSCAN_LIBPFF_FUNCTIONS(X) \
  X(libpff_attachment_data_read_buffer) \
  X(libpff_attachment_get_data_size) \
  X(libpff_attachment_get_item) \
  X(libpff_attachment_get_type) \
  X(libpff_error_backtrace_sprint) \
  X(libpff_error_free) \
  X(libpff_file_close) \
  X(libpff_file_free) \
  X(libpff_file_get_root_folder) \
  X(libpff_file_initialize) \
  X(libpff_file_open) \
  X(libpff_file_open_file_io_handle) \
  X(libpff_folder_get_number_of_sub_folders) \
  X(libpff_folder_get_number_of_sub_messages) \
  X(libpff_folder_get_sub_folder) \
  X(libpff_folder_get_sub_message) \
  X(libpff_folder_get_utf8_name) \
  X(libpff_folder_get_utf8_name_size) \
  X(libpff_item_free) \
  X(libpff_item_get_number_of_record_sets) \
  X(libpff_item_get_record_set_by_index) \
  X(libpff_message_get_attachment) \
  X(libpff_message_get_number_of_attachments) \
  X(libpff_message_get_recipients) \
  X(libpff_record_entry_free) \
  X(libpff_record_entry_get_data) \
  X(libpff_record_entry_get_data_as_32bit_integer) \
  X(libpff_record_entry_get_data_as_filetime) \
  X(libpff_record_entry_get_data_as_utf8_string) \
  X(libpff_record_entry_get_data_as_utf8_string_size) \
  X(libpff_record_entry_get_data_size) \
  X(libpff_record_set_free) \
  X(libpff_record_set_get_entry_by_type)
#define HDRSCAN_LIBBFIO_FUNCTIONS(X) \
  X(libbfio_error_free) \
  X(libbfio_handle_free) \
  X(libbfio_handle_initialize)

struct LibPff {
#define HDRSCAN_SLOT(f) decltype(&::f) f = nullptr;
  HDRSCAN_LIBPFF_FUNCTIONS(HDRSCAN_SLOT)
  HDRSCAN_LIBBFIO_FUNCTIONS(HDRSCAN_SLOT)
#undef HDRSCAN_SLOT
};

LibPff g_libpff;
#define HDRSCAN_NAME(f) #f,
#define HDRSCAN_ADDR(f) static_cast<void*>(&g_libpff.f),
const char* const kPffNames[] = {HDRSCAN_LIBPFF_FUNCTIONS(HDRSCAN_NAME)};
void* const kPffSlots[] = {HDRSCAN_LIBPFF_FUNCTIONS(HDRSCAN_ADDR)};
const char* const kBfioNames[] = {HDRSCAN_LIBBFIO_FUNCTIONS(HDRSCAN_NAME)};
void* const kBfioSlots[] = {HDRSCAN_LIBBFIO_FUNCTIONS(HDRSCAN_ADDR)};
#undef HDRSCAN_ADDR
#undef HDRSCAN_NAME
LazyLibraries g_libpff_libs{{"libpff.so.1", kPffNames, kPffSlots, std::size(kPffNames)},
                            {"libbfio.so.1", kBfioNames, kBfioSlots, std::size(kBfioNames)}};

// Whether libpff and libbfio are usable; `why` otherwise.
bool libpff_loaded(std::string& why) { return g_libpff_libs.loaded(why); }

// The table; called only on paths reached after libpff_loaded() returned true.
const LibPff& pff() { return g_libpff; }

constexpr std::size_t kMaxFolderDepth = 64;

std::string take_error(libpff_error_t** error) {
  std::string out;
  if (error && *error) {
    char buf[1024];
    if (pff().libpff_error_backtrace_sprint(*error, buf, sizeof buf) > 0) out = buf;
    pff().libpff_error_free(error);
    // One line: the backtrace's lines (innermost cause last) joined with "; ".
    std::string joined;
    std::size_t pos = 0;
    while (pos < out.size()) {
      std::size_t nl = out.find('\n', pos);
      std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) joined += (joined.empty() ? "" : "; ") + line;
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    out = joined.substr(0, 600);
  }
  return out.empty() ? "no reason given by libpff" : out;
}

struct ItemDeleter {
  void operator()(libpff_item_t* i) const {
    if (i) pff().libpff_item_free(&i, nullptr);
  }
};
using Item = std::unique_ptr<libpff_item_t, ItemDeleter>;

// The properties of one record set of an item (set 0: the item itself; a recipients item has
// one set per recipient), read through libpff's record-entry API.
class Props {
 public:
  Props(libpff_item_t* item, int set, std::size_t max) : max_(max) {
    libpff_error_t* error = nullptr;
    if (pff().libpff_item_get_record_set_by_index(item, set, &set_, &error) != 1) set_ = nullptr;
    pff().libpff_error_free(&error);
  }
  ~Props() {
    if (set_) pff().libpff_record_set_free(&set_, nullptr);
  }
  Props(const Props&) = delete;
  Props& operator=(const Props&) = delete;

  // A string (001E converted with the message's code page, or 001F), "" when absent.
  std::string text(std::uint32_t type) const {
    std::string out;
    with_entry(type, 0, [&](libpff_record_entry_t* e, libpff_error_t** error) {
      std::size_t size = 0;
      if (pff().libpff_record_entry_get_data_as_utf8_string_size(e, &size, error) != 1 || size == 0 ||
          size > max_)
        return;
      out.resize(size);
      if (pff().libpff_record_entry_get_data_as_utf8_string(
              e, reinterpret_cast<std::uint8_t*>(out.data()), size, error) != 1)
        out.clear();
      while (!out.empty() && out.back() == '\0') out.pop_back();
    });
    return out;
  }
  std::string binary(std::uint32_t type) const {
    std::string out;
    with_entry(type, 0x0102, [&](libpff_record_entry_t* e, libpff_error_t** error) {
      std::size_t size = 0;
      if (pff().libpff_record_entry_get_data_size(e, &size, error) != 1 || size == 0 || size > max_)
        return;
      out.resize(size);
      if (pff().libpff_record_entry_get_data(e, reinterpret_cast<std::uint8_t*>(out.data()), size,
                                       error) != 1)
        out.clear();
    });
    return out;
  }
  std::optional<std::uint32_t> u32(std::uint32_t type) const {
    std::optional<std::uint32_t> out;
    with_entry(type, 0x0003, [&](libpff_record_entry_t* e, libpff_error_t** error) {
      std::uint32_t v = 0;
      if (pff().libpff_record_entry_get_data_as_32bit_integer(e, &v, error) == 1) out = v;
    });
    return out;
  }
  std::optional<std::uint64_t> filetime(std::uint32_t type) const {
    std::optional<std::uint64_t> out;
    with_entry(type, 0x0040, [&](libpff_record_entry_t* e, libpff_error_t** error) {
      std::uint64_t v = 0;
      if (pff().libpff_record_entry_get_data_as_filetime(e, &v, error) == 1) out = v;
    });
    return out;
  }

 private:
  // Calls f with the entry of `type` (value type `vtype`, 0: any), when there is one.
  template <typename F>
  void with_entry(std::uint32_t type, std::uint32_t vtype, F&& f) const {
    if (!set_) return;
    libpff_error_t* error = nullptr;
    libpff_record_entry_t* e = nullptr;
    const std::uint8_t flags = vtype == 0 ? LIBPFF_ENTRY_VALUE_FLAG_MATCH_ANY_VALUE_TYPE : 0;
    if (pff().libpff_record_set_get_entry_by_type(set_, type, vtype, &e, flags, &error) == 1 && e) {
      f(e, &error);
      pff().libpff_record_entry_free(&e, nullptr);
    }
    pff().libpff_error_free(&error);
  }

  libpff_record_set_t* set_ = nullptr;
  std::size_t max_;
};

// A libbfio handle over bytes in memory whose reads stop at the end of the bytes: libbfio's
// own memory range handle (Debian libbfio 20170123) reads past the end of its range when libpff
// asks for a block beyond it (found by fuzz_pst: a heap over-read), so it is not used.
struct MemoryIo {
  const std::string* bytes = nullptr;
  std::uint64_t pos = 0;
  bool open = false;
};

int mem_free(intptr_t** io, libbfio_error_t**) {
  delete reinterpret_cast<MemoryIo*>(*io);
  *io = nullptr;
  return 1;
}
int mem_clone(intptr_t** dst, intptr_t* src, libbfio_error_t**) {
  auto* copy = new MemoryIo(*reinterpret_cast<MemoryIo*>(src));
  copy->pos = 0;
  copy->open = false;
  *dst = reinterpret_cast<intptr_t*>(copy);
  return 1;
}
int mem_open(intptr_t* io, int, libbfio_error_t**) {
  reinterpret_cast<MemoryIo*>(io)->open = true;
  return 1;
}
int mem_close(intptr_t* io, libbfio_error_t**) {
  reinterpret_cast<MemoryIo*>(io)->open = false;
  return 0;  // libbfio: 0 is success for close
}
ssize_t mem_read(intptr_t* io, std::uint8_t* buf, std::size_t size, libbfio_error_t**) {
  auto* m = reinterpret_cast<MemoryIo*>(io);
  const std::uint64_t total = m->bytes->size();
  if (m->pos >= total) return 0;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, total - m->pos));
  std::memcpy(buf, m->bytes->data() + m->pos, n);
  m->pos += n;
  return static_cast<ssize_t>(n);
}
ssize_t mem_write(intptr_t*, const std::uint8_t*, std::size_t, libbfio_error_t**) { return -1; }
off64_t mem_seek(intptr_t* io, off64_t offset, int whence, libbfio_error_t**) {
  auto* m = reinterpret_cast<MemoryIo*>(io);
  const off64_t base = whence == SEEK_SET ? 0
                       : whence == SEEK_CUR ? static_cast<off64_t>(m->pos)
                       : static_cast<off64_t>(m->bytes->size());
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return -1;
  if (offset < 0 && -offset > base) return -1;
  m->pos = static_cast<std::uint64_t>(base + offset);
  return static_cast<off64_t>(m->pos);
}
int mem_exists(intptr_t*, libbfio_error_t**) { return 1; }
int mem_is_open(intptr_t* io, libbfio_error_t**) {
  return reinterpret_cast<MemoryIo*>(io)->open ? 1 : 0;
}
int mem_get_size(intptr_t* io, size64_t* size, libbfio_error_t**) {
  *size = reinterpret_cast<MemoryIo*>(io)->bytes->size();
  return 1;
}

OutlookText utf8(std::string s) {
  OutlookText t;
  t.bytes = std::move(s);
  return t;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void read_message(libpff_item_t* msg, std::size_t max, int depth, OutlookMessage& m,
                  std::string& notes) {
  const Props p(msg, 0, max);
  m.transport_headers = utf8(p.text(0x007D));
  m.subject = utf8(p.text(0x0037));
  m.sender_name = utf8(p.text(0x0C1A));
  m.sender_address = p.text(0x5D01);
  if (m.sender_address.empty() && p.text(0x0C1E) != "EX") m.sender_address = p.text(0x0C1F);
  if (auto t = p.filetime(0x0039)) m.date = filetime_to_unix(*t);
  else if (auto d = p.filetime(0x0E06)) m.date = filetime_to_unix(*d);
  m.message_id = trimmed(p.text(0x1035));
  m.in_reply_to = trimmed(p.text(0x1042));
  m.references = trimmed(p.text(0x1039));
  m.body = utf8(p.text(0x1000));
  m.html = p.binary(0x1013);
  if (m.html.empty()) {
    m.html = p.text(0x1013);
  } else if (auto cpid = p.u32(0x3FDE)) {
    m.html_charset = charset_of_codepage(*cpid);
  }
  if (m.html.empty()) m.rtf_compressed = p.binary(0x1009);
  libpff_error_t* error = nullptr;
  libpff_item_t* raw_recipients = nullptr;
  if (pff().libpff_message_get_recipients(msg, &raw_recipients, &error) == 1) {
    Item recipients(raw_recipients);
    int sets = 0;
    if (pff().libpff_item_get_number_of_record_sets(recipients.get(), &sets, &error) != 1) sets = 0;
    for (int i = 0; i < sets && i < 10000; ++i) {
      const Props rp(recipients.get(), i, max);
      OutlookRecipient r;
      r.name = utf8(rp.text(0x3001));
      r.address = rp.text(0x39FE);
      if (r.address.empty() && rp.text(0x3002) != "EX") r.address = rp.text(0x3003);
      r.type = static_cast<int>(rp.u32(0x0C15).value_or(1));
      m.recipients.push_back(std::move(r));
    }
  }
  pff().libpff_error_free(&error);
  int count = 0;
  if (pff().libpff_message_get_number_of_attachments(msg, &count, &error) != 1) count = 0;
  pff().libpff_error_free(&error);
  for (int i = 0; i < count && i < 10000; ++i) {
    libpff_item_t* raw = nullptr;
    if (pff().libpff_message_get_attachment(msg, i, &raw, &error) != 1) {
      OutlookAttachment bad;
      bad.error = "attachment " + std::to_string(i) + ": " + take_error(&error);
      m.attachments.push_back(std::move(bad));
      continue;
    }
    Item att(raw);
    const Props ap(att.get(), 0, max);
    OutlookAttachment a;
    a.name = utf8(ap.text(0x3707));
    if (a.name.empty()) a.name = utf8(ap.text(0x3704));
    a.mime_type = ap.text(0x370E);
    a.content_id = ap.text(0x3712);
    int type = 0;
    if (pff().libpff_attachment_get_type(att.get(), &type, &error) != 1) type = 0;
    pff().libpff_error_free(&error);
    if (type == LIBPFF_ATTACHMENT_TYPE_ITEM) {
      libpff_item_t* sub = nullptr;
      if (depth + 1 < kMaxNesting && pff().libpff_attachment_get_item(att.get(), &sub, &error) == 1) {
        Item inner(sub);
        a.embedded = std::make_unique<OutlookMessage>();
        read_message(inner.get(), max, depth + 1, *a.embedded, notes);
      } else {
        a.error = "attached message unreadable: " + take_error(&error);
      }
    } else if (type == LIBPFF_ATTACHMENT_TYPE_DATA) {
      size64_t size = 0;
      if (pff().libpff_attachment_get_data_size(att.get(), &size, &error) != 1 || size > max) {
        a.error = size > max ? "attachment over " + std::to_string(max) + " bytes: not read"
                             : "attachment size unreadable: " + take_error(&error);
      } else {
        a.data.resize(static_cast<std::size_t>(size));
        ssize_t got = size == 0 ? 0
                                : pff().libpff_attachment_data_read_buffer(
                                      att.get(), reinterpret_cast<std::uint8_t*>(a.data.data()),
                                      a.data.size(), &error);
        if (got < 0 || static_cast<std::size_t>(got) != a.data.size()) {
          a.error = "attachment data unreadable: " + take_error(&error);
          a.data.clear();
        }
      }
    }
    pff().libpff_error_free(&error);
    m.attachments.push_back(std::move(a));
  }
}

class PstSource final : public MessageSource {
 public:
  PstSource(const std::string& path, std::unique_ptr<ByteWindow> window, SourceLocation where,
            const ReaderOptions& opt)
      : where_(std::move(where)), opt_(opt) {
    libpff_error_t* error = nullptr;
    if (pff().libpff_file_initialize(&file_, &error) != 1) {
      fail("libpff: " + take_error(&error), "io_error");
      return;
    }
    int rc = -1;
    if (!path.empty()) {
      rc = pff().libpff_file_open(file_, path.c_str(), LIBPFF_OPEN_READ, &error);
    } else {
      const std::uint64_t cap = opt.max_archive_member;
      while (!window->at_eof() && window->end() <= cap)
        window->fill(window->end() + BufferedWindow::kChunkBytes);
      if (window->end() > cap) {
        fail("PST larger than " + std::to_string(cap) + " bytes inside an archive or a pipe "
             "(read in memory): extract it and scan the file", "too_large");
        return;
      }
      if (!window->error().empty() || !window->limit_code().empty()) {
        fail(window->error().empty() ? "PST cut at an archive cap" : window->error(),
             !window->limit_code().empty() ? window->limit_code()
             : window->error_code().empty() ? "io_error" : window->error_code());
        return;
      }
      memory_.assign(window->at(0), static_cast<std::size_t>(window->end()));
      window.reset();
      libbfio_error_t* berror = nullptr;
      auto* io = new MemoryIo{&memory_, 0, false};
      if (pff().libbfio_handle_initialize(&bfio_, reinterpret_cast<intptr_t*>(io), mem_free, mem_clone,
                                    mem_open, mem_close, mem_read, mem_write, mem_seek,
                                    mem_exists, mem_is_open, mem_get_size,
                                    LIBBFIO_FLAG_IO_HANDLE_MANAGED |
                                        LIBBFIO_FLAG_IO_HANDLE_CLONE_BY_FUNCTION,
                                    &berror) != 1) {
        delete io;
        pff().libbfio_error_free(&berror);
        fail("libbfio: cannot read the PST from memory", "io_error");
        return;
      }
      rc = pff().libpff_file_open_file_io_handle(file_, bfio_, LIBPFF_OPEN_READ, &error);
    }
    if (rc != 1) {
      fail("PST/OST unreadable: " + take_error(&error), "corrupt");
      return;
    }
    opened_ = true;
    libpff_item_t* root = nullptr;
    if (pff().libpff_file_get_root_folder(file_, &root, &error) != 1 || !root) {
      fail("PST/OST without a readable root folder (truncated or damaged): " +
               take_error(&error), "corrupt");
      empty_reported_ = true;  // that error says it all
      return;
    }
    stack_.push_back(Frame{Item(root), "/", 0, 0, -1, -1});
  }

  ~PstSource() override {
    stack_.clear();  // items before the file
    if (file_) {
      if (opened_) pff().libpff_file_close(file_, nullptr);
      pff().libpff_file_free(&file_, nullptr);
    }
    if (bfio_) pff().libbfio_handle_free(&bfio_, nullptr);
  }

  bool next(RawMessage& out) override {
    if (!pending_error_.empty()) {
      out = RawMessage{};
      out.where = where_;
      out.error = pending_error_;
      out.error_code = pending_code_;
      pending_error_.clear();
      return true;
    }
    libpff_error_t* error = nullptr;
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      if (f.messages < 0) {
        if (pff().libpff_folder_get_number_of_sub_messages(f.folder.get(), &f.messages, &error) != 1)
          f.messages = 0;
        if (pff().libpff_folder_get_number_of_sub_folders(f.folder.get(), &f.folders, &error) != 1)
          f.folders = 0;
        pff().libpff_error_free(&error);
      }
      if (f.next_message < f.messages) {
        const int index = f.next_message++;
        out = RawMessage{};
        out.where = where_;
        out.where.folder = f.path;
        out.where.index = static_cast<std::uint64_t>(index);
        ++items_;
        libpff_item_t* raw = nullptr;
        if (pff().libpff_folder_get_sub_message(f.folder.get(), index, &raw, &error) != 1) {
          out.error = "PST item unreadable: " + take_error(&error);
          out.error_code = "corrupt";
          return true;
        }
        Item item(raw);
        const std::string kind = not_mail_item(Props(item.get(), 0, 4096).text(0x001A));
        if (!kind.empty()) {
          out.not_mail = "Outlook " + kind + ", not a message";
          return true;
        }
        OutlookMessage m;
        read_message(item.get(), opt_.max_message_bytes, 0, m, out.note);
        out.bytes = to_rfc822(m, out.note);
        if (out.bytes.size() > opt_.max_message_bytes) {
          out.bytes.resize(opt_.max_message_bytes);
          out.truncated = true;
          out.error_code = "too_large";
          out.error = "message written from the PST is larger than " +
                      std::to_string(opt_.max_message_bytes) + " bytes; truncated";
        }
        return true;
      }
      if (f.next_folder < f.folders && stack_.size() < kMaxFolderDepth) {
        const int index = f.next_folder++;
        libpff_item_t* raw = nullptr;
        if (pff().libpff_folder_get_sub_folder(f.folder.get(), index, &raw, &error) != 1) {
          out = RawMessage{};
          out.where = where_;
          out.where.folder = f.path;
          out.error = "PST folder " + std::to_string(index) + " unreadable: " + take_error(&error);
          out.error_code = "corrupt";
          return true;
        }
        Item sub(raw);
        std::string name;
        std::size_t size = 0;
        if (pff().libpff_folder_get_utf8_name_size(sub.get(), &size, &error) == 1 && size > 1 &&
            size < 4096) {
          name.resize(size);
          if (pff().libpff_folder_get_utf8_name(sub.get(), reinterpret_cast<std::uint8_t*>(name.data()),
                                          size, &error) != 1)
            name.clear();
          while (!name.empty() && name.back() == '\0') name.pop_back();
        }
        pff().libpff_error_free(&error);
        if (name.empty()) name = "#" + std::to_string(index);
        std::string path = f.path == "/" ? "/" + name : f.path + "/" + name;
        stack_.push_back(Frame{std::move(sub), std::move(path), 0, 0, -1, -1});
        continue;
      }
      stack_.pop_back();
    }
    if (items_ == 0 && !empty_reported_ && opened_) {
      empty_reported_ = true;
      out = RawMessage{};
      out.where = where_;
      out.error = "PST/OST holds no item";
      out.error_code = "empty_input";
      return true;
    }
    return false;
  }

 private:
  struct Frame {
    Item folder;
    std::string path;
    int next_message = 0, next_folder = 0;
    int messages = -1, folders = -1;
  };

  void fail(std::string why, std::string code) {
    pending_error_ = std::move(why);
    pending_code_ = std::move(code);
  }

  SourceLocation where_;
  ReaderOptions opt_;
  libpff_file_t* file_ = nullptr;
  libbfio_handle_t* bfio_ = nullptr;
  std::string memory_;
  bool opened_ = false, empty_reported_ = false;
  std::vector<Frame> stack_;
  std::uint64_t items_ = 0;
  std::string pending_error_, pending_code_;
};

}  // namespace

std::unique_ptr<MessageSource> pst_file_source(const std::string& path, SourceLocation where,
                                               const ReaderOptions& opt) {
  if (std::string why; !libpff_loaded(why)) return error_source(std::move(where), why, "library_missing");
  return std::make_unique<PstSource>(path, nullptr, std::move(where), opt);
}

std::unique_ptr<MessageSource> pst_stream_source(std::unique_ptr<ByteWindow> window,
                                                 SourceLocation where, const ReaderOptions& opt) {
  if (std::string why; !libpff_loaded(why)) return error_source(std::move(where), why, "library_missing");
  return std::make_unique<PstSource>("", std::move(window), std::move(where), opt);
}

}  // namespace hdrscan::mime::detail
