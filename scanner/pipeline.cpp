// pipeline.cpp: one message from bytes to a report. Shared by scan, explain and milter.
// Diagnostics: read errors from the source, parse errors (Defect::is_error) and any exception
// escaping parser or detectors become entries in MessageReport::errors; the message is always
// reported.
#include "scanner/pipeline.hpp"

#include <openssl/evp.h>

#include <exception>

#include "heuristics/digest.hpp"
#include "mime/decode.hpp"

namespace hdrscan::scanner {
namespace {

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, heuristics::sha_digest(false), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string header_text(const mime::ParsedMessage& m, std::string_view name) {
  const mime::HeaderField* f = m.headers.first(name);
  if (!f) return {};
  std::string_view v = f->decoded;
  if (v.size() > 998) v = v.substr(0, 998);
  return mime::sanitize_utf8(v);
}

// The message a verdict path ("", "nested[0]", "nested[0].nested[1]") names; `msg` itself when
// the path is empty or does not resolve.
const mime::ParsedMessage& verdict_message(const mime::ParsedMessage& msg, std::string_view path) {
  const mime::ParsedMessage* m = &msg;
  while (!path.empty()) {
    if (path.front() == '.') path.remove_prefix(1);
    if (path.rfind("nested[", 0) != 0) return msg;
    path.remove_prefix(7);
    std::size_t i = 0, k = 0;
    while (k < path.size() && path[k] >= '0' && path[k] <= '9' && i < 1000000)
      i = i * 10 + static_cast<std::size_t>(path[k++] - '0');
    if (k == 0 || k >= path.size() || path[k] != ']' || i >= m->nested.size()) return msg;
    m = &m->nested[i];
    path.remove_prefix(k + 1);
  }
  return *m;
}

}  // namespace

std::string_view verdict_word(const MessageReport& r) {
  switch (r.status) {
    case Status::unreadable: return "unreadable";
    case Status::not_mail: return "not_mail";
    case Status::analysed: break;
  }
  return heuristics::to_string(r.assessment.verdict);
}

MessageReport analyze(const mime::RawMessage& raw, const heuristics::Analyzer& analyzer,
                      const mime::Limits& limits, Digest digest, Features features) {
  MessageReport r;
  r.where = raw.where;
  r.size = raw.bytes.size();
  try {
    if (digest == Digest::sha256) r.sha256 = sha256_hex(raw.bytes);
    if (!raw.error.empty()) {
      const std::string code = raw.error_code.empty() ? "io_error" : raw.error_code;
      r.errors.push_back({code, raw.error, true});
      if (raw.bytes.empty() || mime::is_fatal_read_error(code)) {
        r.status = Status::unreadable;
        r.failed = true;
        return r;
      }
    }
    if (!raw.not_mail.empty()) {
      r.errors.push_back({"not_mail", "not a message: " + raw.not_mail, true});
      r.status = Status::not_mail;
      return r;
    }
    if (!raw.note.empty()) {
      // A reader's remark (e.g. an mbox Content-Length that did not check out): shown, not an error.
      std::string code = raw.note.substr(0, raw.note.find(':'));
      r.defects.push_back({code.empty() ? "reader_note" : code, raw.note, false});
    }
    mime::ParsedMessage msg = mime::parse_message(raw.bytes, limits);
    r.message_id = header_text(msg, "Message-ID");
    r.date = header_text(msg, "Date");
    r.from = header_text(msg, "From");
    r.subject = header_text(msg, "Subject");
    for (auto& d : msg.defects) (d.is_error ? r.errors : r.defects).push_back(d);
    r.assessment = analyzer.assess(msg);
    // Only flagged messages are grouped (hdrscan waves): a clean one pays nothing for it.
    if (features != Features::skip) {
      const mime::ParsedMessage& vm = verdict_message(msg, r.assessment.nested_from);
      if (r.assessment.verdict != heuristics::Verdict::clean) {
        r.features = mime::extract_features(vm, features == Features::extract_with_recipients
                                                    ? mime::Recipients::addresses
                                                    : mime::Recipients::domains);
        r.tenant_name = r.features->tenant_name;
      } else if (r.assessment.connection) {
        r.tenant_name = mime::sending_tenant_name(vm);
      }
    }
  } catch (const std::exception& e) {
    r.errors.push_back({"internal_error", std::string("internal error: ") + e.what(), true});
    r.assessment = {};
    r.status = Status::unreadable;
    r.failed = true;
  } catch (...) {
    r.errors.push_back({"internal_error", "internal error", true});
    r.assessment = {};
    r.status = Status::unreadable;
    r.failed = true;
  }
  return r;
}

}  // namespace hdrscan::scanner
