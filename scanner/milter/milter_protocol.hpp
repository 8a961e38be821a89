// milter_protocol.hpp: the milter protocol v6 (as Postfix 3.7 speaks it), without sockets.
//
// Purpose: a packet codec (PacketReader: bytes in, whole packets out; encode_packet) and a
// per-connection session state machine (Session: packets in, reply bytes out, plus the one
// moment where the caller must score a message: end of message). Everything here is a pure
// function of the bytes fed in, so it is unit-tested on byte sequences; the Boost.Asio
// server (milter_server.cpp) only moves bytes and runs the scoring off the I/O threads.
//
// Negotiation: we ask for ADDHDRS|CHGHDRS|QUARANTINE (only the actions we use) and for
// no-reply on every step before end of message (NR_CONN..NR_BODY), HDR_LEADSPC (header values
// verbatim, so the reconstructed message is byte-faithful) and NOUNKNOWN; every bit is ANDed
// with what the MTA offered. Steps whose NR bit the MTA did not grant get exactly one
// CONTINUE reply. D, A, Q and K are never answered.
//
// Limits: a packet longer than kMaxPacketData (1 MiB) or of length 0 is a protocol error (the
// 4-byte length is checked before any allocation); the message kept for scoring is bounded by
// SessionLimits (header bytes and body bytes; the rest is counted but not kept, and the message
// is still passed on); at most kMaxRecipients recipients and kMaxMacros macros per stage kept.
//
// Diagnostics: a protocol error puts the session in the `failed` state with a reason in words
// (Output::error); the caller then closes the connection. When the MTA was waiting for a reply
// at that point, the session first emits the configured error result (tempfail by default),
// otherwise it emits nothing and Postfix's milter_default_action applies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hdrscan::scanner::milter {

// Commands MTA -> milter.
namespace cmd {
constexpr char optneg = 'O', macro = 'D', connect = 'C', helo = 'H', mail = 'M', rcpt = 'R',
               data = 'T', header = 'L', eoh = 'N', body = 'B', eob = 'E', unknown = 'U',
               abort = 'A', quit = 'Q', quit_nc = 'K';
}
// Replies milter -> MTA.
namespace reply {
constexpr char accept = 'a', cont = 'c', discard = 'd', reject = 'r', tempfail = 't',
               replycode = 'y', progress = 'p', quarantine = 'q', addheader = 'h',
               insheader = 'i', chgheader = 'm', optneg = 'O', skip = 's';
}
// SMFIF_* action flags and SMFIP_* protocol flags (sendmail mfdef.h).
namespace act {
constexpr std::uint32_t addhdrs = 0x001, chgbody = 0x002, addrcpt = 0x004, delrcpt = 0x008,
                        chghdrs = 0x010, quarantine = 0x020, chgfrom = 0x040,
                        addrcpt_par = 0x080, setsymlist = 0x100;
}
namespace proto {
constexpr std::uint32_t noconnect = 0x000001, nohelo = 0x000002, nomail = 0x000004,
                        norcpt = 0x000008, nobody = 0x000010, nohdrs = 0x000020,
                        noeoh = 0x000040, nr_hdr = 0x000080, nounknown = 0x000100,
                        nodata = 0x000200, skip = 0x000400, rcpt_rej = 0x000800,
                        nr_conn = 0x001000, nr_helo = 0x002000, nr_mail = 0x004000,
                        nr_rcpt = 0x008000, nr_data = 0x010000, nr_unkn = 0x020000,
                        nr_eoh = 0x040000, nr_body = 0x080000, hdr_leadspc = 0x100000;
}

constexpr std::uint32_t kVersion = 6;
constexpr std::uint32_t kWantedActions = act::addhdrs | act::chghdrs | act::quarantine;
constexpr std::uint32_t kWantedProtocol =
    proto::nr_conn | proto::nr_helo | proto::nr_mail | proto::nr_rcpt | proto::nr_data |
    proto::nr_unkn | proto::nr_hdr | proto::nr_eoh | proto::nr_body | proto::hdr_leadspc |
    proto::nounknown;
constexpr std::size_t kMaxPacketData = 1u << 20;  // bytes after the length word
constexpr std::size_t kMaxRecipients = 1000;
constexpr std::size_t kMaxMacros = 64;            // name/value pairs kept per stage
constexpr std::size_t kMaxReplyText = 980;        // one SMTP reply line

struct Packet {
  char cmd = 0;
  std::string data;
};

// Frames a byte stream into packets. feed() appends; next() takes one whole packet out.
class PacketReader {
 public:
  enum class Status { need_more, packet, error };
  explicit PacketReader(std::size_t max_data = kMaxPacketData) : max_data_(max_data) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  Status next(Packet& out);
  const std::string& error() const { return error_; }
  // Bytes buffered that do not yet form a whole packet (a slow or stalled sender).
  std::size_t pending() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t max_data_;
  std::string error_;
};

// One packet on the wire: 4-byte big-endian length (1 + data), command byte, data.
std::string encode_packet(char cmd, std::string_view data = {});
void put_u32(std::string& out, std::uint32_t v);
std::optional<std::uint32_t> get_u32(std::string_view data, std::size_t at);
// "550 5.7.1 text" -> ok when: 4xx/5xx code, optional x.y.z whose class matches, one line,
// <= kMaxReplyText. Returns "" when valid, else the reason.
std::string check_smtp_reply(std::string_view text);
// Sendmail/Postfix treat reply text as a format: '%' must be doubled.
std::string escape_percent(std::string_view text);

// What the server decided for a message at end of message.
enum class Final { cont, accept, reject, tempfail, replycode };
struct EomDecision {
  bool delete_forged = true;                                // remove X-Hdrscan-* from outside
  std::vector<std::pair<std::string, std::string>> add_headers;  // values without lead space
  std::string quarantine_reason;                            // "" = no quarantine
  Final final = Final::cont;
  std::string reply_text;  // for Final::replycode: "550 5.7.1 text" (unescaped; we escape '%')
};

// The configured result when something fails while the MTA waits for a reply.
enum class ErrorResult { tempfail, accept, reject };

struct SessionLimits {
  std::size_t max_header_bytes = 4u << 20;  // reconstructed header block kept for scoring
  std::size_t max_body_bytes = 2u << 20;    // body bytes kept for scoring
  ErrorResult on_error = ErrorResult::tempfail;
};

// Everything one message left with us, for scoring and for the log line.
struct MessageData {
  std::string queue_id;            // macro i (from any stage)
  std::string sender;              // MAIL FROM argument as sent
  std::vector<std::string> recipients;
  std::string bytes;               // "Name:value\r\n"... "\r\n" body (bounded)
  std::size_t header_count = 0;
  std::size_t body_seen = 0;       // body bytes received (kept or not)
  bool headers_truncated = false;
  bool body_truncated = false;
  bool eoh_seen = false;
  bool data_seen = false;          // T (or any header/body) arrived
  // Number of X-Hdrscan-* headers per name that arrived from outside (to delete them).
  std::vector<std::pair<std::string, std::size_t>> forged;
};

// Names of the headers we own (added by us, deleted when they arrive from outside).
extern const char* const kVerdictHeader;  // "X-Hdrscan-Verdict"
extern const char* const kScoreHeader;    // "X-Hdrscan-Score"

class Session {
 public:
  struct Output {
    std::string bytes;     // to write to the MTA (may be empty)
    bool eom = false;      // end of message: score message(), then call finish_eom()
    bool close = false;    // close the connection after writing `bytes`
    std::string error;     // protocol error (logged by the caller); implies close
  };

  explicit Session(SessionLimits limits = {}) : limits_(limits) {}
  Output on_packet(const Packet& p);
  // Builds the EOM modification packets and final reply, then resets message state.
  std::string finish_eom(const EomDecision& d);
  // The configured error result as reply bytes when the MTA awaits a reply, else "" (then
  // closing the connection makes Postfix apply milter_default_action). Marks the session failed.
  std::string fail();

  const MessageData& message() const { return msg_; }
  // Moves the reconstructed message bytes out (at end of message, for scoring).
  std::string take_bytes() { return std::move(msg_.bytes); }
  bool negotiated() const { return negotiated_; }
  bool in_message() const { return in_message_; }
  bool awaiting_reply() const { return reply_due_; }
  bool failed() const { return failed_; }
  std::uint32_t actions() const { return actions_; }
  std::uint32_t protocol() const { return protocol_; }
  std::uint32_t mta_version() const { return mta_version_; }
  // Macro lookup: the newest stage that has it (libmilter semantics); "" when absent.
  std::string macro(std::string_view name) const;
  const std::string& client_name() const { return client_name_; }
  const std::string& client_addr() const { return client_addr_; }
  const std::string& helo() const { return helo_; }
  std::size_t messages() const { return messages_; }
  std::size_t aborted_with_data() const { return aborted_with_data_; }
  void set_limits(const SessionLimits& l) { limits_ = l; }

 private:
  Output protocol_error(std::string reason);
  Output step(std::uint32_t nr_flag);
  void reset_message(char keep_stage = 0);
  void add_header(std::string_view name, std::string_view value);
  void add_body(std::string_view bytes);
  std::string error_reply() const;

  SessionLimits limits_;
  bool negotiated_ = false, in_message_ = false, reply_due_ = false, failed_ = false,
       eom_pending_ = false;
  std::uint32_t actions_ = 0, protocol_ = 0, mta_version_ = 0;
  std::vector<std::pair<char, std::vector<std::pair<std::string, std::string>>>> macros_;
  std::string client_name_, client_addr_, helo_;
  MessageData msg_;
  std::size_t messages_ = 0, aborted_with_data_ = 0;
};

}  // namespace hdrscan::scanner::milter
