// outlook.cpp: an Outlook message's properties as one RFC 5322 message (outlook.hpp).
#include "mime/sources/outlook.hpp"

#include <ctime>
#include <string_view>

#include "mime/base64.hpp"
#include "mime/sources/rtf.hpp"
#include "mime/text.hpp"

namespace hdrscan::mime::detail {
namespace {

using text::iends_with;
using text::iequals;

bool plain_ascii(std::string_view s) {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b > 0x7E) return false;
  }
  return true;
}

// A header value: as is when printable ASCII, else one RFC 2047 encoded word.
std::string header_text(const OutlookText& t) {
  if (plain_ascii(t.bytes)) return t.bytes;
  return "=?" + t.charset + "?B?" + encode_base64(t.bytes) + "?=";
}

std::string mailbox(const OutlookText& name, const std::string& address) {
  std::string out;
  if (!name.empty() && name.bytes != address) {
    if (plain_ascii(name.bytes)) {
      out += '"';
      for (char c : name.bytes) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += "\" ";
    } else {
      out += header_text(name) + " ";
    }
  }
  if (!address.empty() && plain_ascii(address)) out += "<" + address + ">";
  else if (out.empty()) out = "undisclosed-recipients:;";
  return out;
}

std::string rfc5322_date(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return {};
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// The transport headers less the MIME structure fields, ending in CRLF (no empty line).
std::string transport_block(std::string_view h) {
  std::string out;
  bool dropping = false;
  std::size_t pos = 0;
  while (pos < h.size()) {
    std::size_t nl = h.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? h.size() : nl + 1;
    std::string_view line = h.substr(pos, end - pos);
    pos = end;
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
      content.remove_suffix(1);
    if (content.empty()) {
      // An empty line ends a header block; transport headers end with one (or two). Anything
      // after it is not header text.
      break;
    }
    const bool continuation = content[0] == ' ' || content[0] == '\t';
    if (!continuation) {
      const std::size_t colon = content.find(':');
      std::string_view name = content.substr(0, colon == std::string_view::npos ? 0 : colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      dropping = iequals(name, "MIME-Version") || iequals(name, "Content-Type") ||
                 iequals(name, "Content-Transfer-Encoding");
    }
    if (dropping) continue;
    out.append(line.data(), content.size());
    out += "\r\n";
  }
  return out;
}

std::string type_by_name(std::string_view name) {
  struct Ext {
    const char* ext;
    const char* type;
  };
  static constexpr Ext kTypes[] = {
      {".eml", "message/rfc822"}, {".msg", "application/vnd.ms-outlook"},
      {".htm", "text/html"}, {".html", "text/html"}, {".txt", "text/plain"},
      {".pdf", "application/pdf"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"}, {".gif", "image/gif"}, {".zip", "application/zip"},
      {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {".doc", "application/msword"}, {".xls", "application/vnd.ms-excel"},
      {".ics", "text/calendar"}, {".vcf", "text/vcard"}};
  for (const auto& e : kTypes)
    if (iends_with(name, e.ext)) return e.type;
  return "application/octet-stream";
}

// A boundary that occurs in none of `parts`.
std::string boundary_for(int depth, const std::vector<std::string_view>& parts) {
  for (unsigned n = 0;; ++n) {
    std::string b = "----=_hdrscan_outlook_" + std::to_string(depth) + "_" + std::to_string(n);
    bool clash = false;
    for (auto p : parts) clash = clash || p.find(b) != std::string_view::npos;
    if (!clash) return b;
  }
}

void add_note(std::string& notes, const std::string& note) {
  if (!notes.empty()) notes += "; ";
  notes += note;
}

std::string text_part(const char* type, const std::string& charset, std::string_view bytes) {
  std::string p = "Content-Type: ";
  p += type;
  p += "; charset=\"" + charset + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  p += encode_base64(bytes, true);
  return p;
}

}  // namespace

std::string not_mail_item(std::string_view cls) {
  auto starts = [&](std::string_view p) { return text::istarts_with(cls, p); };
  if (cls.empty() || iequals(cls, "IPM") || starts("IPM.Note") || starts("IPM.Post") ||
      starts("IPM.Schedule.Meeting") || starts("REPORT."))
    return {};
  struct Kind {
    const char* prefix;
    const char* what;
  };
  static constexpr Kind kKinds[] = {
      {"IPM.Contact", "contact"}, {"IPM.DistList", "distribution list"}, {"IPM.Task", "task"},
      {"IPM.StickyNote", "sticky note"}, {"IPM.Activity", "journal entry"},
      {"IPM.Appointment", "appointment"}, {"IPM.Microsoft.ScheduleData", "free/busy data"},
      {"IPM.Configuration", "configuration item"}};
  std::string what = "item";
  for (const auto& k : kKinds)
    if (starts(k.prefix)) what = k.what;
  std::string shown(cls.substr(0, 80));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return what + " (" + shown + ")";
}

std::string charset_of_codepage(std::uint32_t cp) {
  switch (cp) {
    case 65001: return "utf-8";
    case 20127: return "us-ascii";
    case 28591: return "iso-8859-1";
    case 28592: return "iso-8859-2";
    case 28595: return "iso-8859-5";
    case 28597: return "iso-8859-7";
    case 28605: return "iso-8859-15";
    case 932: return "shift_jis";
    case 936: return "gb2312";
    case 949: return "euc-kr";
    case 950: return "big5";
    case 20866: return "koi8-r";
    case 21866: return "koi8-u";
    case 50220: return "iso-2022-jp";
    case 51932: return "euc-jp";
    case 54936: return "gb18030";
    default: break;
  }
  if (cp >= 1250 && cp <= 1258) return "windows-" + std::to_string(cp);
  return "windows-1252";
}

std::int64_t filetime_to_unix(std::uint64_t filetime) {
  return static_cast<std::int64_t>(filetime / 10000000ull) - 11644473600ll;
}

std::string to_rfc822(const OutlookMessage& m, std::string& notes, int depth) {
  std::string head;
  if (!m.transport_headers.empty()) {
    head = transport_block(m.transport_headers.bytes);
  }
  if (head.empty()) {
    if (depth == 0)
      add_note(notes, "msg_no_transport_headers: no transport headers (a sent item, a draft or "
                      "a message never sent by mail): header fields made from its properties");
    if (!m.sender_address.empty() || !m.sender_name.empty())
      head += "From: " + mailbox(m.sender_name, m.sender_address) + "\r\n";
    for (int type : {1, 2, 3}) {
      std::string list;
      for (const auto& r : m.recipients) {
        if (r.type != type) continue;
        if (!list.empty()) list += ",\r\n ";
        list += mailbox(r.name, r.address);
      }
      if (!list.empty())
        head += (type == 1 ? "To: " : type == 2 ? "Cc: " : "Bcc: ") + list + "\r\n";
    }
    if (!m.subject.empty()) {
      // [MS-OXCMSG] 2.2.1.46: a subject may start with SOH and the length of its prefix
      // ("\x01\x05" before "FW: "): the marker is not part of the subject.
      OutlookText subject = m.subject;
      if (subject.bytes.size() >= 2 && subject.bytes[0] == '\x01') subject.bytes.erase(0, 2);
      head += "Subject: " + header_text(subject) + "\r\n";
    }
    if (m.date) head += "Date: " + rfc5322_date(*m.date) + "\r\n";
    if (!m.message_id.empty()) head += "Message-ID: " + m.message_id + "\r\n";
    if (!m.in_reply_to.empty()) head += "In-Reply-To: " + m.in_reply_to + "\r\n";
    if (!m.references.empty()) head += "References: " + m.references + "\r\n";
  }
  // The HTML body: PR_HTML, else the HTML encapsulated in the compressed RTF.
  std::string html = m.html;
  std::string html_charset = m.html_charset;
  if (html.empty() && !m.rtf_compressed.empty()) {
    std::string rtf, error;
    if (!rtf_decompress(m.rtf_compressed, 64u << 20, rtf, error)) {
      add_note(notes, "rtf_unreadable: " + error);
    } else if (auto h = rtf_html(rtf)) {
      html = std::move(*h);
      html_charset = "utf-8";
    }
  }
  std::vector<std::string> parts;
  {
    std::vector<std::string> alternatives;
    if (!m.body.empty())
      alternatives.push_back(text_part("text/plain", m.body.charset, m.body.bytes));
    if (!html.empty()) alternatives.push_back(text_part("text/html", html_charset, html));
    if (alternatives.size() == 1) {
      parts.push_back(std::move(alternatives[0]));
    } else if (alternatives.size() == 2) {
      const std::string b = boundary_for(depth * 2 + 1, {alternatives[0], alternatives[1]});
      std::string p = "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n";
      for (const auto& a : alternatives) p += "--" + b + "\r\n" + a + "\r\n";
      p += "--" + b + "--\r\n";
      parts.push_back(std::move(p));
    }
  }
  for (const auto& a : m.attachments) {
    std::string name = header_text(a.name);
    std::string disposition = "Content-Disposition: attachment";
    if (!a.name.empty()) disposition += "; filename=\"" + name + "\"";
    if (a.embedded) {
      if (depth + 1 >= kMaxNesting) {
        add_note(notes, "attachment_unreadable: an attached message nested deeper than " +
                            std::to_string(kMaxNesting) + " levels: not written");
        continue;
      }
      std::string inner = to_rfc822(*a.embedded, notes, depth + 1);
      parts.push_back("Content-Type: message/rfc822\r\n" + disposition + "\r\n\r\n" + inner);
      continue;
    }
    if (!a.error.empty()) add_note(notes, "attachment_unreadable: " + a.error);
    std::string type = a.mime_type.empty() || !plain_ascii(a.mime_type) ? type_by_name(a.name.bytes)
                                                                        : a.mime_type;
    if (iequals(type, "message/rfc822")) {  // an attached .eml: a nested message, as in mail
      parts.push_back("Content-Type: message/rfc822\r\n" + disposition + "\r\n\r\n" + a.data);
      continue;
    }
    std::string p = "Content-Type: " + type;
    if (!a.name.empty()) p += "; name=\"" + name + "\"";
    p += "\r\n" + disposition + "\r\n";
    if (!a.content_id.empty() && plain_ascii(a.content_id))
      p += "Content-ID: <" + a.content_id + ">\r\n";
    p += "Content-Transfer-Encoding: base64\r\n\r\n" + encode_base64(a.data, true);
    parts.push_back(std::move(p));
  }
  std::string out = head;
  out += "MIME-Version: 1.0\r\n";
  if (parts.empty()) {
    out += "Content-Type: text/plain; charset=\"us-ascii\"\r\n\r\n";
    return out;
  }
  if (parts.size() == 1 && m.attachments.empty()) {
    out += parts[0];
    return out;
  }
  std::vector<std::string_view> views(parts.begin(), parts.end());
  const std::string b = boundary_for(depth * 2, views);
  out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
  for (const auto& p : parts) {
    out += "--" + b + "\r\n" + p;
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  out += "--" + b + "--\r\n";
  return out;
}

}  // namespace hdrscan::mime::detail
