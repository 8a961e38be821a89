// outlook.hpp (internal to mime/sources/): an Outlook message as its MAPI properties give it
// (a .msg file, a PST/OST message), and its rewriting as one RFC 5322 message the parser and
// the detectors read like any other mail.
//
// The message written by to_rfc822:
//   - header block: the transport headers (PR_TRANSPORT_MESSAGE_HEADERS, 0x007D) verbatim,
//     less the MIME structure fields (MIME-Version, Content-Type, Content-Transfer-Encoding:
//     the body is rebuilt); without transport headers (sent items, drafts), From, To, Cc,
//     Subject, Date, Message-ID, In-Reply-To and References made from the properties, and the
//     note "msg_no_transport_headers" (a defect in the record);
//   - body: multipart/mixed of a multipart/alternative (text/plain from PR_BODY, text/html
//     from PR_HTML, else from the HTML encapsulated in PR_RTF_COMPRESSED, rtf.hpp), then the
//     attachments (base64, typed by their MIME tag or file name), then embedded messages as
//     message/rfc822 parts written the same way (nested to kMaxNesting).
// Text in an 8-bit property keeps its bytes and is labelled with its code page's charset
// (PR_INTERNET_CPID / PR_MESSAGE_CODEPAGE), so the parser decodes it as it decodes mail.
// Limits: attachments and bodies are as large as the caller read them (bounded by the reader);
// the result is bounded by their sum plus a third for base64.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hdrscan::mime::detail {

// A text property: UTF-8 (charset "utf-8") or 8-bit bytes in `charset`.
struct OutlookText {
  std::string bytes;
  std::string charset = "utf-8";
  bool empty() const { return bytes.empty(); }
};

struct OutlookRecipient {
  OutlookText name;
  std::string address;  // SMTP address when known, else the email address property
  int type = 1;         // 1 To, 2 Cc, 3 Bcc (PR_RECIPIENT_TYPE)
};

struct OutlookMessage;

struct OutlookAttachment {
  OutlookText name;            // long file name, else the 8.3 one
  std::string mime_type;       // PR_ATTACH_MIME_TAG
  std::string content_id;      // PR_ATTACH_CONTENT_ID
  std::string data;            // PR_ATTACH_DATA_BIN
  std::unique_ptr<OutlookMessage> embedded;  // an attached message (PR_ATTACH_DATA_OBJ)
  std::string error;           // why the data could not be read (the part says so)
};

struct OutlookMessage {
  OutlookText transport_headers;
  OutlookText subject;
  OutlookText sender_name;
  std::string sender_address;
  std::vector<OutlookRecipient> recipients;
  std::optional<std::int64_t> date;  // unix seconds: client submit time, else delivery time
  std::string message_id, in_reply_to, references;
  OutlookText body;            // PR_BODY
  std::string html;            // PR_HTML bytes
  std::string html_charset = "utf-8";
  std::string rtf_compressed;  // PR_RTF_COMPRESSED, used only when there is no PR_HTML
  std::vector<OutlookAttachment> attachments;
};

inline constexpr int kMaxNesting = 8;

// What an Outlook item of message class `cls` (PR_MESSAGE_CLASS) is when it is not mail
// ("contact (IPM.Contact)"...), or "" for mail: IPM.Note*, IPM.Post*, IPM.Schedule.Meeting*,
// REPORT.*, a bare "IPM", and an unknown or missing class (read as mail rather than dropped).
std::string not_mail_item(std::string_view cls);

// The charset name of a Windows code page ("windows-1252" when unknown).
std::string charset_of_codepage(std::uint32_t codepage);
// FILETIME (100 ns since 1601-01-01) to unix seconds.
std::int64_t filetime_to_unix(std::uint64_t filetime);

// The message as RFC 5322 bytes (CRLF line ends). `notes` gets "code: detail" remarks joined
// with "; " (msg_no_transport_headers, rtf_html_deencapsulated, attachment_unreadable).
std::string to_rfc822(const OutlookMessage& m, std::string& notes, int depth = 0);

}  // namespace hdrscan::mime::detail
