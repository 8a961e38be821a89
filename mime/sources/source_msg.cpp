// source_msg.cpp: Outlook .msg files ([MS-OXMSG]): a compound file (cfb.hpp) whose storages
// hold MAPI properties, read into an OutlookMessage and written as RFC 5322 (outlook.hpp).
//
// Properties: a variable-length property is the stream "__substg1.0_IIIITTTT" (id, type: 001F
// UTF-16LE string, 001E 8-bit string in the message code page, 0102 binary); fixed-length ones
// (times, longs) are 16-byte entries of "__properties_version1.0" after a header of 32 bytes
// (the message), 24 (an embedded message) or 8 (a recipient, an attachment). Recipients are
// the "__recip_version1.0_#N" storages, attachments "__attach_version1.0_#N"; an attachment
// holding a "__substg1.0_3701000D" storage is an embedded message, read the same way.
// Read: transport headers (007D), subject (0037), sender (0C1A, 5D01/0C1F), recipients
// (3001, 39FE/3003, 0C15), submit/delivery time (0039/0E06), Message-ID (1035), In-Reply-To
// (1042), References (1039), body (1000), HTML (1013), compressed RTF (1009), code pages
// (3FFD, 3FDE), message class (001A), attachments (3707/3704, 370E, 3712, 3701).
// Not mail: a compound file without message properties (a Word or Excel document), or an
// Outlook item of a class that is no message (outlook.hpp, not_mail_item: contacts, tasks,
// appointments...): read, reported not_mail.
// Limits: the file is read into memory up to max_archive_member (more: too_large); a stream
// is read up to max_message_bytes; embedded messages nest to kMaxNesting.
// Diagnostics: a broken compound file is one message with error_code corrupt and the reason;
// an unreadable attachment is a note of the message (attachment_unreadable), not a failure.
#include <algorithm>
#include <cstring>
#include <map>

#include "mime/sources/cfb.hpp"
#include "mime/sources/outlook.hpp"
#include "mime/sources/readers.hpp"
#include "mime/utf8.hpp"

namespace hdrscan::mime::detail {
namespace {

enum class StorageKind { message, embedded, item };

// The properties of one storage.
class Props {
 public:
  Props(const Cfb& cfb, std::uint32_t storage, StorageKind kind, std::size_t max_stream)
      : cfb_(cfb), max_(max_stream) {
    for (std::uint32_t c : cfb.children(storage)) {
      const Cfb::Entry& e = cfb.entry(c);
      if (e.name.starts_with("__substg1.0_") && e.name.size() == 20) {
        std::uint32_t tag = 0;
        bool ok = true;
        for (std::size_t i = 12; i < 20 && ok; ++i) {
          const char h = e.name[i];
          tag <<= 4;
          if (h >= '0' && h <= '9') tag |= static_cast<std::uint32_t>(h - '0');
          else if (h >= 'A' && h <= 'F') tag |= static_cast<std::uint32_t>(h - 'A' + 10);
          else if (h >= 'a' && h <= 'f') tag |= static_cast<std::uint32_t>(h - 'a' + 10);
          else ok = false;
        }
        if (ok) streams_[tag] = c;
        ++property_streams_;
      } else if (e.name.starts_with("__recip_version1.0_#") && e.type == Cfb::Type::storage) {
        recipients_.push_back(c);
      } else if (e.name.starts_with("__attach_version1.0_#") && e.type == Cfb::Type::storage) {
        attachments_.push_back(c);
      } else if (e.name == "__properties_version1.0" && e.type == Cfb::Type::stream) {
        std::string bytes, error;
        if (cfb.read(c, max_stream, bytes, error)) {
          const std::size_t header = kind == StorageKind::message ? 32
                                     : kind == StorageKind::embedded ? 24 : 8;
          for (std::size_t at = header; at + 16 <= bytes.size(); at += 16) {
            std::uint32_t tag = 0;
            std::uint64_t value = 0;
            std::memcpy(&tag, bytes.data() + at, 4);
            std::memcpy(&value, bytes.data() + at + 8, 8);
            fixed_[tag] = value;
          }
        }
        has_properties_ = true;
      }
    }
  }

  bool is_message() const { return has_properties_ || property_streams_ > 0; }
  const std::vector<std::uint32_t>& recipients() const { return recipients_; }
  const std::vector<std::uint32_t>& attachments() const { return attachments_; }

  std::optional<std::uint64_t> fixed(std::uint16_t id, std::uint16_t type) const {
    auto it = fixed_.find(static_cast<std::uint32_t>(id) << 16 | type);
    if (it == fixed_.end()) return std::nullopt;
    return it->second;
  }
  bool stream(std::uint16_t id, std::uint16_t type, std::string& out) const {
    auto it = streams_.find(static_cast<std::uint32_t>(id) << 16 | type);
    if (it == streams_.end()) return false;
    std::string error;
    return cfb_.read(it->second, max_, out, error);
  }
  std::uint32_t storage(std::uint16_t id, std::uint16_t type) const {
    auto it = streams_.find(static_cast<std::uint32_t>(id) << 16 | type);
    return it == streams_.end() ? Cfb::kNone : it->second;
  }
  // A string property: UTF-16 (001F) as UTF-8, else 8-bit (001E) in `charset`; trailing NULs
  // dropped.
  OutlookText text(std::uint16_t id, const std::string& charset) const {
    OutlookText t;
    std::string raw;
    if (stream(id, 0x001F, raw)) {
      t.bytes = utf16le_to_utf8(raw);
    } else if (stream(id, 0x001E, raw)) {
      t.bytes = std::move(raw);
      t.charset = charset;
    }
    while (!t.bytes.empty() && t.bytes.back() == '\0') t.bytes.pop_back();
    return t;
  }
  std::string ascii(std::uint16_t id) const { return text(id, "us-ascii").bytes; }

 private:
  const Cfb& cfb_;
  std::size_t max_;
  std::map<std::uint32_t, std::uint32_t> streams_;
  std::map<std::uint32_t, std::uint64_t> fixed_;
  std::vector<std::uint32_t> recipients_, attachments_;
  bool has_properties_ = false;
  std::size_t property_streams_ = 0;
};

std::string trimmed(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void read_message(const Cfb& cfb, std::uint32_t storage, StorageKind kind, std::size_t max,
                  int depth, OutlookMessage& m) {
  const Props p(cfb, storage, kind, max);
  const std::uint32_t cp = static_cast<std::uint32_t>(p.fixed(0x3FFD, 0x0003).value_or(1252));
  const std::string charset = charset_of_codepage(cp);
  m.transport_headers = p.text(0x007D, charset);
  m.subject = p.text(0x0037, charset);
  m.sender_name = p.text(0x0C1A, charset);
  m.sender_address = p.ascii(0x5D01);
  if (m.sender_address.empty() && p.ascii(0x0C1E) != "EX") m.sender_address = p.ascii(0x0C1F);
  if (auto t = p.fixed(0x0039, 0x0040)) m.date = filetime_to_unix(*t);
  else if (auto d = p.fixed(0x0E06, 0x0040)) m.date = filetime_to_unix(*d);
  m.message_id = trimmed(p.ascii(0x1035));
  m.in_reply_to = trimmed(p.ascii(0x1042));
  m.references = trimmed(p.ascii(0x1039));
  m.body = p.text(0x1000, charset);
  if (p.stream(0x1013, 0x0102, m.html)) {
    const auto cpid = p.fixed(0x3FDE, 0x0003);
    m.html_charset = charset_of_codepage(static_cast<std::uint32_t>(cpid.value_or(cp)));
  } else {
    OutlookText h = p.text(0x1013, charset);
    m.html = std::move(h.bytes);
    m.html_charset = h.charset;
  }
  if (m.html.empty()) p.stream(0x1009, 0x0102, m.rtf_compressed);
  for (std::uint32_t r : p.recipients()) {
    const Props rp(cfb, r, StorageKind::item, max);
    OutlookRecipient rec;
    rec.name = rp.text(0x3001, charset);
    rec.address = rp.ascii(0x39FE);
    if (rec.address.empty() && rp.ascii(0x3002) != "EX") rec.address = rp.ascii(0x3003);
    rec.type = static_cast<int>(rp.fixed(0x0C15, 0x0003).value_or(1));
    m.recipients.push_back(std::move(rec));
  }
  for (std::uint32_t a : p.attachments()) {
    const Props ap(cfb, a, StorageKind::item, max);
    OutlookAttachment att;
    att.name = ap.text(0x3707, charset);
    if (att.name.empty()) att.name = ap.text(0x3704, charset);
    att.mime_type = ap.ascii(0x370E);
    att.content_id = ap.ascii(0x3712);
    const std::uint32_t obj = ap.storage(0x3701, 0x000D);
    if (obj != Cfb::kNone && cfb.entry(obj).type == Cfb::Type::storage) {
      if (depth + 1 < kMaxNesting) {
        att.embedded = std::make_unique<OutlookMessage>();
        read_message(cfb, obj, StorageKind::embedded, max, depth + 1, *att.embedded);
      } else {
        att.error = "an attached message nested deeper than " + std::to_string(kMaxNesting) +
                    " levels";
      }
    } else if (!ap.stream(0x3701, 0x0102, att.data) && ap.fixed(0x3701, 0x0102)) {
      att.error = "attachment data unreadable (" + att.name.bytes + ")";
    }
    m.attachments.push_back(std::move(att));
  }
}

class MsgSource final : public MessageSource {
 public:
  MsgSource(std::unique_ptr<ByteWindow> window, SourceLocation where, const ReaderOptions& opt)
      : w_(std::move(window)), where_(std::move(where)), opt_(opt) {}

  bool next(RawMessage& out) override {
    if (done_) return false;
    done_ = true;
    out = RawMessage{};
    out.where = where_;
    const std::uint64_t cap = opt_.max_archive_member;
    while (!w_->at_eof() && w_->end() <= cap) w_->fill(w_->end() + BufferedWindow::kChunkBytes);
    if (w_->end() > cap) {
      out.error = "Outlook .msg larger than " + std::to_string(cap) + " bytes: not read";
      out.error_code = "too_large";
      out.truncated = true;
      return true;
    }
    if (!w_->error().empty() || !w_->limit_code().empty()) {
      out.error = w_->error().empty() ? "Outlook .msg cut at an archive cap" : w_->error();
      out.error_code = !w_->limit_code().empty() ? w_->limit_code()
                       : w_->error_code().empty() ? "io_error" : w_->error_code();
      return true;
    }
    std::string_view bytes(w_->at(0), static_cast<std::size_t>(w_->end()));
    std::string error;
    auto cfb = Cfb::open(bytes, error);
    if (!cfb) {
      out.error = "Outlook .msg unreadable: " + error;
      out.error_code = "corrupt";
      return true;
    }
    const Props root(*cfb, cfb->root(), StorageKind::message, opt_.max_message_bytes);
    if (!root.is_message()) {
      out.bytes.assign(bytes);
      out.not_mail = "OLE compound file without message properties (an Office document?)";
      return true;
    }
    const std::string item = not_mail_item(root.ascii(0x001A));
    if (!item.empty()) {
      out.bytes.assign(bytes);
      out.not_mail = "Outlook " + item + ", not a message";
      return true;
    }
    OutlookMessage m;
    read_message(*cfb, cfb->root(), StorageKind::message, opt_.max_message_bytes, 0, m);
    out.bytes = to_rfc822(m, out.note);
    if (out.bytes.size() > opt_.max_message_bytes) {
      out.bytes.resize(opt_.max_message_bytes);
      out.truncated = true;
      out.error_code = "too_large";
      out.error = "message written from the .msg is larger than " +
                  std::to_string(opt_.max_message_bytes) + " bytes; truncated";
    }
    return true;
  }

 private:
  std::unique_ptr<ByteWindow> w_;
  SourceLocation where_;
  ReaderOptions opt_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<MessageSource> msg_source(std::unique_ptr<ByteWindow> window, SourceLocation where,
                                          const ReaderOptions& opt) {
  return std::make_unique<MsgSource>(std::move(window), std::move(where), opt);
}

}  // namespace hdrscan::mime::detail
