// milter_protocol.cpp: milter v6 packet codec and session state machine (no sockets).
//
// Purpose: see milter_protocol.hpp. Every field is bounds-checked before use (short CONNECT
// packets, odd macro counts, empty header values, empty D packets are all tolerated); only
// framing errors, an unknown command, a missing/duplicate negotiation or a packet while a
// reply is still owed are protocol errors.
// Limits: packet data <= kMaxPacketData; kept header/body bytes per SessionLimits.
// Diagnostics: protocol errors are returned in Output::error; nothing here logs or throws
// (except std::bad_alloc, which the server catches per connection).
#include "scanner/milter/milter_protocol.hpp"

#include "mime/text.hpp"

#include <algorithm>
#include <cctype>

namespace hdrscan::scanner::milter {

const char* const kVerdictHeader = "X-Hdrscan-Verdict";
const char* const kScoreHeader = "X-Hdrscan-Score";

namespace {

using mime::text::iequals;

// The NUL-terminated string starting at `at` (to the end of data when unterminated);
// advances `at` past the NUL.
std::string_view take_cstr(std::string_view data, std::size_t& at) {
  if (at >= data.size()) return {};
  std::size_t end = data.find('\0', at);
  if (end == std::string_view::npos) end = data.size();
  std::string_view s = data.substr(at, end - at);
  at = end + 1;
  return s;
}

std::vector<std::string_view> split_argv(std::string_view data) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < data.size()) out.push_back(take_cstr(data, at));
  return out;
}

// Header values and reasons we send: no NUL, no CR; LF only when followed by a blank
// (a fold); anything else becomes a space.
std::string clean_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\0' || c == '\r') {
      out.push_back(' ');
    } else if (c == '\n') {
      bool fold = i + 1 < v.size() && (v[i + 1] == ' ' || v[i + 1] == '\t');
      out.push_back(fold ? '\n' : ' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool is_message_stage(char stage) {
  switch (stage) {
    case cmd::mail: case cmd::rcpt: case cmd::data: case cmd::header: case cmd::eoh:
    case cmd::body: case cmd::eob:
      return true;
    default:
      return false;
  }
}

}  // namespace

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::optional<std::uint32_t> get_u32(std::string_view data, std::size_t at) {
  if (at > data.size() || data.size() - at < 4) return std::nullopt;
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

std::string encode_packet(char c, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put_u32(out, static_cast<std::uint32_t>(data.size() + 1));
  out.push_back(c);
  out.append(data);
  return out;
}

PacketReader::Status PacketReader::next(Packet& out) {
  if (!error_.empty()) return Status::error;
  std::string_view avail(buf_.data() + pos_, buf_.size() - pos_);
  if (avail.size() < 4) {
    if (pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return Status::need_more;
  }
  std::uint32_t len = *get_u32(avail, 0);
  if (len == 0) {
    error_ = "bad packet length 0";
    return Status::error;
  }
  if (static_cast<std::uint64_t>(len) - 1 > max_data_) {
    error_ = "bad packet length " + std::to_string(len) + " (limit " +
             std::to_string(max_data_ + 1) + ")";
    return Status::error;
  }
  if (avail.size() - 4 < len) {
    if (pos_ > (64u << 10)) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return Status::need_more;
  }
  out.cmd = avail[4];
  out.data.assign(avail.data() + 5, len - 1);
  pos_ += 4 + static_cast<std::size_t>(len);
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return Status::packet;
}

std::string check_smtp_reply(std::string_view t) {
  if (t.size() < 4) return "reply too short (want '550 5.7.1 text')";
  if (t.size() > kMaxReplyText) return "reply longer than 980 characters";
  if (t[0] != '4' && t[0] != '5') return "reply code must be 4xx or 5xx";
  if (!std::isdigit(static_cast<unsigned char>(t[1])) ||
      !std::isdigit(static_cast<unsigned char>(t[2])))
    return "reply must start with a 3-digit code";
  if (t[3] != ' ') return "reply code must be followed by one space (single line only)";
  for (char c : t)
    if (c == '\r' || c == '\n' || c == '\0') return "reply must be one line";
  // Optional enhanced status code x.y.z: its class must equal the reply's first digit.
  std::string_view rest = t.substr(4);
  std::size_t sp = rest.find(' ');
  std::string_view first = rest.substr(0, sp);
  if (!first.empty() && std::isdigit(static_cast<unsigned char>(first[0])) &&
      first.find('.') != std::string_view::npos) {
    int dots = 0;
    for (char c : first) {
      if (c == '.') ++dots;
      else if (!std::isdigit(static_cast<unsigned char>(c))) return "malformed enhanced status code";
    }
    if (dots != 2) return "malformed enhanced status code";
    if (first[0] != t[0]) return "enhanced status class must match the reply code";
  }
  return {};
}

std::string escape_percent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out.push_back(c);
    if (c == '%') out.push_back('%');
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Session

std::string Session::macro(std::string_view name) const {
  for (auto it = macros_.rbegin(); it != macros_.rend(); ++it)
    for (const auto& [n, v] : it->second)
      if (n == name) return v;
  // Long names may be configured with or without braces.
  if (name.size() > 2 && name.front() == '{' && name.back() == '}')
    return macro(name.substr(1, name.size() - 2));
  return {};
}

std::string Session::error_reply() const {
  switch (limits_.on_error) {
    case ErrorResult::accept: return encode_packet(reply::cont);
    case ErrorResult::reject: return encode_packet(reply::reject);
    case ErrorResult::tempfail: break;
  }
  return encode_packet(reply::tempfail);
}

std::string Session::fail() {
  std::string out;
  if (reply_due_ && !failed_) out = error_reply();
  failed_ = true;
  reply_due_ = false;
  eom_pending_ = false;
  return out;
}

Session::Output Session::protocol_error(std::string reason) {
  Output o;
  o.bytes = fail();
  o.error = std::move(reason);
  o.close = true;
  return o;
}

Session::Output Session::step(std::uint32_t nr_flag) {
  Output o;
  if (!(protocol_ & nr_flag)) o.bytes = encode_packet(reply::cont);
  return o;
}

void Session::reset_message(char keep_stage) {
  msg_ = MessageData{};
  in_message_ = false;
  macros_.erase(std::remove_if(macros_.begin(), macros_.end(),
                               [keep_stage](const auto& m) {
                                 return m.first != keep_stage && is_message_stage(m.first);
                               }),
                macros_.end());
}

void Session::add_header(std::string_view name, std::string_view value) {
  msg_.data_seen = true;
  ++msg_.header_count;
  for (const char* ours : {kVerdictHeader, kScoreHeader}) {
    if (!iequals(name, ours)) continue;
    auto it = std::find_if(msg_.forged.begin(), msg_.forged.end(),
                           [&](const auto& f) { return f.first == ours; });
    if (it == msg_.forged.end()) msg_.forged.emplace_back(ours, 1);
    else ++it->second;
  }
  // Rebuild "Name:value\r\n". With HDR_LEADSPC the value is verbatim (leading blank kept);
  // without it Postfix removed one space after the colon, which we put back. Folds arrive
  // as LF: restore CRLF.
  std::string line;
  line.reserve(name.size() + value.size() + 8);
  line.append(name);
  line.push_back(':');
  if (!(protocol_ & proto::hdr_leadspc)) line.push_back(' ');
  for (std::size_t from = 0; from < value.size();) {  // copy runs between LFs
    std::size_t lf = value.find('\n', from);
    if (lf == std::string_view::npos) lf = value.size();
    line.append(value.substr(from, lf - from));
    if (lf == value.size()) break;
    if (lf == 0 || value[lf - 1] != '\r') line.push_back('\r');
    line.push_back('\n');
    from = lf + 1;
  }
  line.append("\r\n");
  if (msg_.headers_truncated || msg_.bytes.size() + line.size() > limits_.max_header_bytes) {
    msg_.headers_truncated = true;
    return;
  }
  msg_.bytes.append(line);
}

void Session::add_body(std::string_view bytes) {
  msg_.data_seen = true;
  if (!msg_.eoh_seen) {
    msg_.bytes.append("\r\n");
    msg_.eoh_seen = true;
  }
  std::size_t kept = std::min(msg_.body_seen, limits_.max_body_bytes);
  msg_.body_seen += bytes.size();
  std::size_t room = limits_.max_body_bytes - kept;
  if (bytes.size() > room) {
    msg_.body_truncated = true;
    bytes = bytes.substr(0, room);
  }
  msg_.bytes.append(bytes);
}

Session::Output Session::on_packet(const Packet& p) {
  if (failed_) return Output{{}, false, true, "session already failed"};
  if (eom_pending_)
    return protocol_error(std::string("command '") + p.cmd + "' while end-of-message reply pending");
  if (!negotiated_ && p.cmd != cmd::optneg)
    return protocol_error(std::string("expected option negotiation first, got command 0x") +
                          "0123456789abcdef"[(p.cmd >> 4) & 15] + "0123456789abcdef"[p.cmd & 15]);
  switch (p.cmd) {
    case cmd::optneg: {
      if (negotiated_) return protocol_error("second option negotiation");
      auto ver = get_u32(p.data, 0), acts = get_u32(p.data, 4), prot = get_u32(p.data, 8);
      if (!ver || !acts || !prot) return protocol_error("short option negotiation packet");
      if (*ver < 2) return protocol_error("MTA milter protocol version " + std::to_string(*ver) + " too old");
      mta_version_ = *ver;
      actions_ = kWantedActions & *acts;
      protocol_ = kWantedProtocol & *prot;
      negotiated_ = true;
      std::string d;
      put_u32(d, std::min(kVersion, *ver));
      put_u32(d, actions_);
      put_u32(d, protocol_);
      return Output{encode_packet(reply::optneg, d), false, false, {}};
    }
    case cmd::macro: {
      if (p.data.empty()) return {};  // tolerated: nothing to record
      char stage = p.data[0];
      auto argv = split_argv(std::string_view(p.data).substr(1));
      std::vector<std::pair<std::string, std::string>> kv;
      for (std::size_t i = 0; i + 1 < argv.size() && kv.size() < kMaxMacros; i += 2)
        kv.emplace_back(std::string(argv[i]), std::string(argv[i + 1]));
      auto it = std::find_if(macros_.begin(), macros_.end(),
                             [&](const auto& m) { return m.first == stage; });
      if (it != macros_.end()) macros_.erase(it);
      macros_.emplace_back(stage, std::move(kv));
      return {};
    }
    case cmd::connect: {
      std::string_view d = p.data;
      std::size_t at = 0;
      client_name_ = std::string(take_cstr(d, at));
      client_addr_.clear();
      if (at < d.size()) {
        char family = d[at++];
        if ((family == '4' || family == '6' || family == 'L') && at + 2 <= d.size()) {
          at += 2;  // port
          client_addr_ = std::string(take_cstr(d, at));
        }
      }
      return step(proto::nr_conn);
    }
    case cmd::helo: {
      std::size_t at = 0;
      helo_ = std::string(take_cstr(p.data, at));
      return step(proto::nr_helo);
    }
    case cmd::mail: {
      if (in_message_ && msg_.data_seen) ++aborted_with_data_;
      reset_message(cmd::mail);  // the D M packet that preceded this command stays
      in_message_ = true;
      std::size_t at = 0;
      msg_.sender = std::string(take_cstr(p.data, at));
      return step(proto::nr_mail);
    }
    case cmd::rcpt: {
      in_message_ = true;
      std::size_t at = 0;
      if (msg_.recipients.size() < kMaxRecipients)
        msg_.recipients.emplace_back(take_cstr(p.data, at));
      return step(proto::nr_rcpt);
    }
    case cmd::data:
      in_message_ = true;
      msg_.data_seen = true;
      return step(proto::nr_data);
    case cmd::header: {
      in_message_ = true;
      std::size_t at = 0;
      std::string_view name = take_cstr(p.data, at);
      std::string_view value = take_cstr(p.data, at);
      add_header(name, value);
      return step(proto::nr_hdr);
    }
    case cmd::eoh:
      in_message_ = true;
      if (!msg_.eoh_seen) msg_.bytes.append("\r\n");
      msg_.eoh_seen = true;
      msg_.data_seen = true;
      return step(proto::nr_eoh);
    case cmd::body:
      in_message_ = true;
      add_body(p.data);
      return step(proto::nr_body);
    case cmd::eob: {
      in_message_ = true;
      if (!p.data.empty()) add_body(p.data);  // sendmail may put the last chunk here
      if (!msg_.eoh_seen) {
        msg_.bytes.append("\r\n");
        msg_.eoh_seen = true;
      }
      msg_.queue_id = macro("i");
      eom_pending_ = true;
      reply_due_ = true;
      Output o;
      o.eom = true;
      return o;
    }
    case cmd::unknown:
      return step(proto::nr_unkn);
    case cmd::abort:
      if (in_message_ && msg_.data_seen) ++aborted_with_data_;
      reset_message();
      return {};
    case cmd::quit:
      reset_message();
      return Output{{}, false, true, {}};
    case cmd::quit_nc:  // "quit, a new connection follows": forget the client, keep options
      reset_message();
      macros_.clear();
      client_name_.clear();
      client_addr_.clear();
      helo_.clear();
      return {};
    default: {
      static const char* hex = "0123456789abcdef";
      unsigned char c = static_cast<unsigned char>(p.cmd);
      return protocol_error(std::string("unknown command 0x") + hex[c >> 4] + hex[c & 15]);
    }
  }
}

std::string Session::finish_eom(const EomDecision& d) {
  if (!eom_pending_ || failed_) return {};
  std::string out;
  const bool lead = protocol_ & proto::hdr_leadspc;
  if (d.delete_forged && (actions_ & act::chghdrs)) {
    // Highest index first, so each deletion leaves the lower indices unchanged whatever
    // the MTA's renumbering rule.
    for (const auto& [name, count] : msg_.forged) {
      for (std::size_t i = count; i >= 1; --i) {
        std::string data;
        put_u32(data, static_cast<std::uint32_t>(i));
        data.append(name);
        data.push_back('\0');
        data.push_back('\0');  // empty value = delete
        out += encode_packet(reply::chgheader, data);
      }
    }
  }
  if (actions_ & act::addhdrs) {
    for (const auto& [name, value] : d.add_headers) {
      std::string data = clean_value(name);
      data.push_back('\0');
      if (lead) data.push_back(' ');
      data += clean_value(value);
      data.push_back('\0');
      out += encode_packet(reply::addheader, data);
    }
  }
  if (!d.quarantine_reason.empty() && (actions_ & act::quarantine)) {
    std::string reason = clean_value(d.quarantine_reason);
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    reason.push_back('\0');
    out += encode_packet(reply::quarantine, reason);
  }
  switch (d.final) {
    case Final::cont: out += encode_packet(reply::cont); break;
    case Final::accept: out += encode_packet(reply::accept); break;
    case Final::reject: out += encode_packet(reply::reject); break;
    case Final::tempfail: out += encode_packet(reply::tempfail); break;
    case Final::replycode:
      if (check_smtp_reply(d.reply_text).empty()) {
        std::string text = escape_percent(d.reply_text);
        text.push_back('\0');
        out += encode_packet(reply::replycode, text);
      } else {
        out += encode_packet(!d.reply_text.empty() && d.reply_text[0] == '4' ? reply::tempfail
                                                                             : reply::reject);
      }
      break;
  }
  ++messages_;
  eom_pending_ = false;
  reply_due_ = false;
  reset_message();
  return out;
}

}  // namespace hdrscan::scanner::milter
