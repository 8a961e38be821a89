// source_detect.cpp: what a stream is, by its first bytes (readers.hpp: detect_content,
// open_content), and whether a single-message input looks like mail at all (not_mail_reason).
//
// Decisions: containers and binaries are recognised by their magic numbers only; names never
// decide a kind (the one exception, kept from the mbox rules: a "From "-led file named .eml or
// .msg is one message). The mail-likeness check is deliberately loose: one header field with
// a known mail header name among the first lines (after leading blank lines), before any NUL
// byte, is enough; so a header-only paste, a broken message or an odd relay's output stay mail,
// and only data that is clearly something else (an executable, an image, an XML manifest, a
// CSV table, a plain text file) becomes not_mail.
// Limits: detection reads kProbeBytes; the mail-likeness check looks at kLikenessLines lines
// within kLikenessBytes bytes.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "mime/sources/readers.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime::detail {
namespace {

constexpr std::size_t kLikenessBytes = 16 * 1024;
constexpr std::size_t kLikenessLines = 60;

bool has_prefix(const char* p, std::size_t n, std::string_view magic, std::size_t at = 0) {
  return n >= at + magic.size() && std::memcmp(p + at, magic.data(), magic.size()) == 0;
}

using namespace std::string_view_literals;

struct Magic {
  std::string_view bytes;
  std::size_t at;
  ContentKind kind;
  const char* what;
  bool seekable;
  bool compression = false;
};

// Order matters only where one magic is a prefix of another (none today).
const Magic kMagic[] = {
    {"PK\x03\x04"sv, 0, ContentKind::archive, "zip archive", true},
    {"PK\x05\x06"sv, 0, ContentKind::archive, "zip archive (empty)", true},
    {"PK\x07\x08"sv, 0, ContentKind::archive, "zip archive (spanned)", true},
    {"7z\xBC\xAF\x27\x1C"sv, 0, ContentKind::archive, "7z archive", true},
    {"Rar!\x1A\x07"sv, 0, ContentKind::archive, "RAR archive", true},
    {"\x1F\x8B"sv, 0, ContentKind::archive, "gzip stream", false, true},
    {"BZh"sv, 0, ContentKind::archive, "bzip2 stream", false, true},
    {"\xFD" "7zXZ\x00"sv, 0, ContentKind::archive, "xz stream", false, true},
    {"\x28\xB5\x2F\xFD"sv, 0, ContentKind::archive, "zstd stream", false, true},
    {"LZIP"sv, 0, ContentKind::archive, "lzip stream", false, true},
    {"\x1F\x9D"sv, 0, ContentKind::archive, "compress (.Z) stream", false, true},
    {"ustar"sv, 257, ContentKind::archive, "tar archive", false},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv, 0, ContentKind::cfb, "OLE compound file", false},
    {"!BDN"sv, 0, ContentKind::pst, "Outlook PST/OST", false},
    {"\x7F" "ELF"sv, 0, ContentKind::binary, "ELF executable", false},
    {"MZ"sv, 0, ContentKind::binary, "Windows executable (MZ)", false},
    {"\xCF\xFA\xED\xFE"sv, 0, ContentKind::binary, "Mach-O executable", false},
    {"\xCA\xFE\xBA\xBE"sv, 0, ContentKind::binary, "Mach-O universal binary or Java class", false},
    {"%PDF-"sv, 0, ContentKind::binary, "PDF document", false},
    {"\x89PNG\r\n\x1A\n"sv, 0, ContentKind::binary, "PNG image", false},
    {"\xFF\xD8\xFF"sv, 0, ContentKind::binary, "JPEG image", false},
    {"GIF87a"sv, 0, ContentKind::binary, "GIF image", false},
    {"GIF89a"sv, 0, ContentKind::binary, "GIF image", false},
    {"SQLite format 3\x00"sv, 0, ContentKind::binary, "SQLite database", false},
    {"<?xml"sv, 0, ContentKind::binary, "XML document", false},
    {"\xEF\xBB\xBF<?xml"sv, 0, ContentKind::binary, "XML document", false},
};

using text::istarts_with;

// Header names that only mail carries (lower case). "x-" and the ARC/DKIM families are
// prefixes; the rest whole names.
bool known_mail_header(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "received", "from", "to", "cc", "bcc", "subject", "date", "message-id", "return-path",
      "mime-version", "content-type", "content-transfer-encoding", "delivered-to", "reply-to",
      "sender", "in-reply-to", "references", "authentication-results", "received-spf",
      "dkim-signature", "thread-topic", "thread-index", "importance", "list-id",
      "list-unsubscribe", "envelope-to", "x-original-to", "user-agent", "organization"};
  const std::string lower = text::lower(name.substr(0, 64));
  for (std::string_view n : kNames)
    if (lower == n) return true;
  return istarts_with(lower, "x-") || istarts_with(lower, "arc-") || istarts_with(lower, "resent-") ||
         istarts_with(lower, "list-");
}

// The field name of `line` when it is "Name:" or "Name :" (RFC 5322 ftext), else "".
std::string_view field_name(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && i < 100) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == ':' || c < 33 || c > 126) break;
    ++i;
  }
  if (i == 0) return {};
  std::size_t j = i;
  while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
  if (j >= line.size() || line[j] != ':') return {};
  return line.substr(0, i);
}

}  // namespace

Content detect_content(const char* head, std::size_t size, std::string_view name) {
  if (size == 0) return {ContentKind::empty, "empty input"};
  for (const auto& m : kMagic)
    if (has_prefix(head, size, m.bytes, m.at)) return {m.kind, m.what, m.seekable, m.compression};
  // HTML saved from a browser or a web export, not a message.
  std::string_view text(head, std::min<std::size_t>(size, 64));
  std::size_t lead = text.find_first_not_of(" \t\r\n");
  if (lead != std::string_view::npos) {
    std::string_view t = text.substr(lead);
    if (istarts_with(t, "<!doctype html") || istarts_with(t, "<html"))
      return {ContentKind::binary, "HTML document"};
  }
  if (starts_with_from_line(head, size) && !has_single_message_extension(name))
    return {ContentKind::mbox, "mbox"};
  return {ContentKind::message, "message"};
}

std::string not_mail_reason(std::string_view bytes) {
  std::string_view probe = bytes.substr(0, kLikenessBytes);
  if (probe.size() >= 3 && probe.substr(0, 3) == "\xEF\xBB\xBF") probe.remove_prefix(3);
  Content c = detect_content(probe.data(), probe.size(), "");
  if (c.kind == ContentKind::binary) return std::string(c.what);
  std::size_t pos = 0, lines = 0;
  while (pos < probe.size() && lines < kLikenessLines) {
    std::size_t nl = probe.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? probe.size() : nl;
    std::string_view line = probe.substr(pos, end - pos);
    std::string_view name = field_name(line);
    if (!name.empty() && known_mail_header(name)) return "";
    if (line.find('\0') != std::string_view::npos)
      return "binary data (NUL bytes) before any mail header field";
    ++lines;
    pos = end + 1;
  }
  return "no mail header field (From, Received, Subject, X-...) in its first " +
         std::to_string(lines) + " lines";
}

std::unique_ptr<MessageSource> open_content(std::unique_ptr<ByteWindow> window,
                                            SourceLocation where, const ReaderOptions& opt,
                                            int depth) {
  window->fill(kProbeBytes);
  const std::size_t avail =
      static_cast<std::size_t>(std::min<std::uint64_t>(window->end(), kProbeBytes));
  if (avail == 0 && !window->error().empty()) {
    // Nothing could be read at all (a dead pipe, a member whose first block fails).
    return error_source(std::move(where), window->error(),
                        window->error_code().empty() ? "io_error" : window->error_code());
  }
  const std::string name = where.member.empty() ? where.path : where.member;
  const Content content = detect_content(window->at(0), avail, name);
  switch (content.kind) {
    case ContentKind::archive:
      if (depth >= opt.max_archive_depth)
        return error_source(std::move(where),
                            std::string(content.what) + " nested " + std::to_string(depth) +
                                " deep: over the nesting limit (" +
                                std::to_string(opt.max_archive_depth) + "), not opened",
                            "too_deep");
      return archive_stream_source(std::move(window), std::move(where), opt, depth, content);
    case ContentKind::cfb:
      return msg_source(std::move(window), std::move(where), opt);
    case ContentKind::pst:
      return pst_stream_source(std::move(window), std::move(where), opt);
    case ContentKind::mbox:
      return mbox_reader(std::move(window), std::move(where), opt);
    case ContentKind::binary:  // read as one message: single_reader finds it is not mail
    case ContentKind::empty:
    case ContentKind::message:
      break;
  }
  return single_reader(std::move(window), std::move(where), opt);
}

}  // namespace hdrscan::mime::detail
