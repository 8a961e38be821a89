// milter_protocol_test.cpp: the milter packet codec and session state machine on byte
// sequences (no sockets): framing across arbitrary splits, hostile lengths, a Postfix-like
// session byte for byte, empty macro packets, leading spaces, 65535-byte body chunks,
// abort mid-message, several messages per connection, forged-header deletion, replies.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "scanner/milter/milter_protocol.hpp"

using namespace hdrscan::scanner::milter;

namespace {

std::string u32(std::uint32_t v) {
  std::string s;
  put_u32(s, v);
  return s;
}

std::string optneg(std::uint32_t actions = 0x1FF, std::uint32_t proto = 0x1FFFFF) {
  return encode_packet('O', u32(6) + u32(actions) + u32(proto));
}

std::string S(const char* p, std::size_t n) { return std::string(p, n); }

// Feeds bytes into reader+session like the server does; collects replies and events.
struct Driver {
  PacketReader reader;
  Session session;
  std::string replies;
  int eoms = 0;
  bool closed = false;
  std::string error;

  explicit Driver(SessionLimits l = {}) : session(l) {}

  void feed(const std::string& bytes) {
    reader.feed(bytes);
    Packet p;
    for (;;) {
      auto st = reader.next(p);
      if (st == PacketReader::Status::need_more) return;
      if (st == PacketReader::Status::error) {
        error = reader.error();
        replies += session.fail();
        closed = true;
        return;
      }
      auto o = session.on_packet(p);
      replies += o.bytes;
      if (!o.error.empty()) error = o.error;
      if (o.close) {
        closed = true;
        return;
      }
      if (o.eom) {
        ++eoms;
        return;
      }
    }
  }
};

// Splits reply bytes into packets.
std::vector<Packet> packets(const std::string& bytes) {
  PacketReader r;
  r.feed(bytes);
  std::vector<Packet> out;
  Packet p;
  while (r.next(p) == PacketReader::Status::packet) out.push_back(p);
  REQUIRE(r.pending() == 0);
  return out;
}

// A Postfix-like message (macros before each event, as Postfix 3.7 sends them).
std::string postfix_message(const std::string& qid, const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body) {
  std::string b;
  b += encode_packet('D', S("M", 1));  // no i at MAIL time on smtpd
  b += encode_packet('M', S("<alice@example.org>\0size=10\0", 26));
  b += encode_packet('D', "R" + S("i\0", 2) + qid + S("\0", 1));
  b += encode_packet('R', S("<bob@test.local>\0", 17));
  b += encode_packet('D', "T" + S("i\0", 2) + qid + S("\0", 1));
  b += encode_packet('T');
  for (const auto& [n, v] : headers) {
    b += encode_packet('D', "L" + S("i\0", 2) + qid + S("\0", 1));
    b += encode_packet('L', n + S("\0", 1) + v + S("\0", 1));
  }
  b += encode_packet('D', "N" + S("i\0", 2) + qid + S("\0", 1));
  b += encode_packet('N');
  for (std::size_t i = 0; i < body.size(); i += 65535) {
    b += encode_packet('D', "B" + S("i\0", 2) + qid + S("\0", 1));
    b += encode_packet('B', body.substr(i, 65535));
  }
  b += encode_packet('D', "E" + S("i\0", 2) + qid + S("\0", 1));
  b += encode_packet('E');
  return b;
}

std::string postfix_connect() {
  return optneg() + encode_packet('D', "C" + S("j\0mx.test.local\0{daemon_name}\0mx\0v\0Postfix 3.7.11\0", 46)) +
         encode_packet('C', S("client.example\0" "4\xBA\x4E" "127.0.0.1\0", 28)) +
         encode_packet('D', "H") + encode_packet('H', S("client.example\0", 15));
}

}  // namespace

TEST_CASE("packet framing survives any split of the byte stream") {
  std::string stream = optneg() + encode_packet('D', "C") + encode_packet('B', std::string(70000, 'x')) +
                       encode_packet('Q');
  for (std::size_t step : {1u, 3u, 4u, 5u, 4096u, 65536u}) {
    PacketReader r;
    std::vector<Packet> got;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      r.feed(std::string_view(stream).substr(i, step));
      Packet p;
      while (r.next(p) == PacketReader::Status::packet) got.push_back(p);
    }
    REQUIRE(got.size() == 4);
    CHECK(got[0].cmd == 'O');
    CHECK(got[0].data.size() == 12);
    CHECK(got[1].cmd == 'D');
    CHECK(got[1].data == "C");
    CHECK(got[2].data.size() == 70000);
    CHECK(got[3].cmd == 'Q');
    CHECK(got[3].data.empty());
    CHECK(r.pending() == 0);
  }
}

TEST_CASE("hostile lengths are refused before any allocation") {
  SUBCASE("4 GB length") {
    PacketReader r;
    r.feed(std::string("\xFF\xFF\xFF\xFF" "B", 5));
    Packet p;
    CHECK(r.next(p) == PacketReader::Status::error);
    CHECK(r.error().find("4294967295") != std::string::npos);
  }
  SUBCASE("HTTP request on the milter port") {
    PacketReader r;
    r.feed("GET / HTTP/1.0\r\n\r\n");
    Packet p;
    CHECK(r.next(p) == PacketReader::Status::error);
    CHECK(r.error().find("1195725856") != std::string::npos);  // "GET " as a length
  }
  SUBCASE("zero length") {
    PacketReader r;
    r.feed(std::string("\0\0\0\0", 4));
    Packet p;
    CHECK(r.next(p) == PacketReader::Status::error);
  }
  SUBCASE("limit is exact") {
    PacketReader r(100);
    r.feed(encode_packet('L', std::string(100, 'a')));
    Packet p;
    CHECK(r.next(p) == PacketReader::Status::packet);
    r.feed(encode_packet('L', std::string(101, 'a')));
    CHECK(r.next(p) == PacketReader::Status::error);
  }
  SUBCASE("default limit accepts a 1 MiB header packet and a 65535-byte chunk") {
    PacketReader r;
    r.feed(encode_packet('L', std::string(kMaxPacketData, 'h')));
    r.feed(encode_packet('B', std::string(65535, 'b')));
    Packet p;
    CHECK(r.next(p) == PacketReader::Status::packet);
    CHECK(r.next(p) == PacketReader::Status::packet);
    CHECK(p.data.size() == 65535);
  }
}

TEST_CASE("random garbage never crashes the reader or the session") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    Driver d;
    std::string junk(1 + rng() % 2000, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (round % 2) junk = optneg() + junk;  // garbage after a valid negotiation too
    d.feed(junk);
    // Either framing/protocol error (closed) or waiting for more: both are fine, no crash.
    CHECK((d.closed || d.reader.pending() < 5 + kMaxPacketData));
  }
}

TEST_CASE("negotiation: v6 - only our actions - no-reply steps ANDed with the offer") {
  Driver d;
  d.feed(optneg());
  auto ps = packets(d.replies);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].cmd == 'O');
  CHECK(*get_u32(ps[0].data, 0) == 6);
  CHECK(*get_u32(ps[0].data, 4) == (act::addhdrs | act::chghdrs | act::quarantine));
  std::uint32_t pr = *get_u32(ps[0].data, 8);
  CHECK(pr == kWantedProtocol);
  CHECK((pr & proto::hdr_leadspc));
  CHECK((pr & proto::nr_body));

  SUBCASE("an MTA offering fewer flags gets a subset and a CONTINUE per step") {
    Driver e;
    e.feed(optneg(act::addhdrs, 0));
    auto q = packets(e.replies);
    CHECK(*get_u32(q[0].data, 4) == act::addhdrs);
    CHECK(*get_u32(q[0].data, 8) == 0);
    e.replies.clear();
    e.feed(encode_packet('C', S("h\0U", 3)) + encode_packet('H', S("x\0", 2)) +
           encode_packet('M', S("<a>\0", 4)) + encode_packet('L', S("A\0b\0", 4)) +
           encode_packet('D', "L"));
    auto r = packets(e.replies);
    REQUIRE(r.size() == 4);  // C, H, M, L answered; D never
    for (auto& p : r) CHECK(p.cmd == 'c');
  }
}

TEST_CASE("the first packet must be option negotiation") {
  Driver d;
  d.feed(encode_packet('D', "C") + optneg());
  CHECK(d.closed);
  CHECK(d.replies.empty());
  CHECK(d.error.find("negotiation") != std::string::npos);
}

TEST_CASE("a Postfix session: exact message bytes - leading spaces - folds - queue id - empty macros") {
  Driver d;
  d.feed(postfix_connect());
  CHECK(d.session.client_name() == "client.example");
  CHECK(d.session.client_addr() == "127.0.0.1");
  CHECK(d.session.helo() == "client.example");
  CHECK(d.session.macro("j") == "mx.test.local");
  CHECK(d.session.macro("{daemon_name}") == "mx");
  d.replies.clear();
  d.feed(postfix_message("4F2A1C0", {{"Subject", "  two leading spaces"}, {"X-Tab", "\tv"},
                                     {"X-Folded", " a\n\tb"}, {"X-Empty", ""}},
                         "line1\r\nline2\r\n"));
  CHECK(d.replies.empty());  // every step negotiated no-reply
  REQUIRE(d.eoms == 1);
  CHECK(d.session.awaiting_reply());
  CHECK(d.session.message().queue_id == "4F2A1C0");
  CHECK(d.session.message().sender == "<alice@example.org>");
  REQUIRE(d.session.message().recipients.size() == 1);
  CHECK(d.session.message().header_count == 4);
  CHECK(d.session.take_bytes() ==
        "Subject:  two leading spaces\r\nX-Tab:\tv\r\nX-Folded: a\r\n\tb\r\nX-Empty:\r\n\r\n"
        "line1\r\nline2\r\n");
}

TEST_CASE("header values: bare LF folds become CRLF - existing CRLF kept - LF first or last") {
  // the rule, written out per byte: every LF not preceded by CR gets a CR
  auto reference = [](std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) out.push_back('\r');
      out.push_back(v[i]);
    }
    return out;
  };
  const std::vector<std::string> values = {"", "\n", "\r\n", "\n\n", " a\n\tb\r\n\tc\n\td",
                                           "\nx", "x\n", "\r\r\n\n\r", "no fold at all"};
  for (const auto& v : values) {
    Driver d;
    d.feed(postfix_connect());
    d.feed(postfix_message("Q", {{"X-V", v}}, "b\r\n"));
    REQUIRE(d.eoms == 1);
    CHECK(d.session.take_bytes() == "X-V:" + reference(v) + "\r\n\r\nb\r\n");
  }
}

TEST_CASE("empty macro packets are tolerated and never answered") {
  Driver d;
  d.feed(optneg());
  d.replies.clear();
  d.feed(encode_packet('D') + encode_packet('D', "H") + encode_packet('D', S("C\0\0", 3)) +
         encode_packet('D', S("Mi\0", 3)) /* odd count */ + encode_packet('D', "\x7f"));
  CHECK_FALSE(d.closed);
  CHECK(d.replies.empty());
  CHECK(d.session.macro("i").empty());
}

TEST_CASE("65535-byte body chunks - body beyond max-body-bytes is counted - not kept") {
  SessionLimits l;
  l.max_body_bytes = 100000;
  Driver d(l);
  d.feed(postfix_connect());
  std::string body;
  for (int i = 0; body.size() < 3 * 65535 + 1234; ++i) body += "line " + std::to_string(i) + "\r\n";
  d.feed(postfix_message("Q1", {{"Subject", " big"}}, body));
  REQUIRE(d.eoms == 1);
  const auto& m = d.session.message();
  CHECK(m.body_seen == body.size());
  CHECK(m.body_truncated);
  std::string bytes = d.session.take_bytes();
  std::string head = "Subject: big\r\n\r\n";
  CHECK(bytes.size() == head.size() + 100000);
  CHECK(bytes == head + body.substr(0, 100000));
  // The message is still passed on: the reply is an ordinary CONTINUE with our headers.
  EomDecision dec;
  dec.add_headers = {{kVerdictHeader, "clean"}};
  auto ps = packets(d.session.finish_eom(dec));
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].cmd == 'h');
  CHECK(ps[1].cmd == 'c');
}

TEST_CASE("header block bounded by max-header-bytes") {
  SessionLimits l;
  l.max_header_bytes = 1024;
  Driver d(l);
  d.feed(optneg());
  std::string b = encode_packet('M', S("<a>\0", 4));
  for (int i = 0; i < 100; ++i) b += encode_packet('L', S("X-Pad\0", 6) + std::string(50, 'p') + S("\0", 1));
  b += encode_packet('N') + encode_packet('B', "body") + encode_packet('E');
  d.feed(b);
  REQUIRE(d.eoms == 1);
  CHECK(d.session.message().headers_truncated);
  CHECK(d.session.message().header_count == 100);
  std::string bytes = d.session.take_bytes();
  CHECK(bytes.size() <= 1024 + 2 + 4);
  CHECK(bytes.substr(bytes.size() - 6) == "\r\nbody");
}

TEST_CASE("forged X-Hdrscan-* headers: deleted highest index first - ours added once") {
  Driver d;
  d.feed(postfix_connect());
  d.feed(postfix_message("Q2", {{"X-Hdrscan-Verdict", " clean"}, {"Subject", " s"},
                                {"x-hdrscan-verdict", "   clean"}, {"X-HDRSCAN-SCORE", "\t0"}},
                         "b\r\n"));
  REQUIRE(d.eoms == 1);
  EomDecision dec;
  dec.add_headers = {{kVerdictHeader, "campaign"}, {kScoreHeader, "91 signals=a.b,c.d"}};
  dec.quarantine_reason = "held by hdrscan";
  auto ps = packets(d.session.finish_eom(dec));
  REQUIRE(ps.size() == 7);
  CHECK(ps[0].cmd == 'm');
  CHECK(ps[0].data == u32(2) + S("X-Hdrscan-Verdict\0\0", 19));
  CHECK(ps[1].data == u32(1) + S("X-Hdrscan-Verdict\0\0", 19));
  CHECK(ps[2].data == u32(1) + S("X-Hdrscan-Score\0\0", 17));
  CHECK(ps[3].cmd == 'h');
  CHECK(ps[3].data == S("X-Hdrscan-Verdict\0 campaign\0", 28));  // leading space: HDR_LEADSPC
  CHECK(ps[4].data == S("X-Hdrscan-Score\0 91 signals=a.b,c.d\0", 36));
  CHECK(ps[5].cmd == 'q');
  CHECK(ps[5].data == S("held by hdrscan\0", 16));
  CHECK(ps[6].cmd == 'c');
  CHECK_FALSE(d.session.awaiting_reply());
}

TEST_CASE("abort mid-message resets everything of that message - A is never answered") {
  Driver d;
  d.feed(postfix_connect());
  d.replies.clear();
  std::string first = postfix_message("Q3", {{"X-Hdrscan-Verdict", " x"}, {"Subject", " one"}}, "aaa");
  first.resize(first.rfind(encode_packet('D', "E" + S("i\0", 2) + "Q3" + S("\0", 1))));  // no EOM
  d.feed(first + encode_packet('A') + encode_packet('A'));
  CHECK(d.eoms == 0);
  CHECK(d.replies.empty());
  CHECK_FALSE(d.session.in_message());
  CHECK(d.session.aborted_with_data() == 1);
  CHECK(d.session.macro("i").empty());  // message-stage macros dropped
  CHECK(d.session.macro("j") == "mx.test.local");  // connection macros kept
  d.feed(postfix_message("Q4", {{"Subject", " two"}}, "bbb"));
  REQUIRE(d.eoms == 1);
  CHECK(d.session.message().forged.empty());
  CHECK(d.session.message().queue_id == "Q4");
  CHECK(d.session.take_bytes() == "Subject: two\r\n\r\nbbb");
}

TEST_CASE("several messages on one connection") {
  Driver d;
  d.feed(postfix_connect());
  for (int i = 0; i < 5; ++i) {
    d.replies.clear();
    d.feed(postfix_message("QM" + std::to_string(i), {{"Subject", " n" + std::to_string(i)}}, "x"));
    REQUIRE(d.eoms == i + 1);
    CHECK(d.session.message().queue_id == "QM" + std::to_string(i));
    CHECK(d.session.take_bytes() == "Subject: n" + std::to_string(i) + "\r\n\r\nx");
    auto ps = packets(d.session.finish_eom(EomDecision{}));
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].cmd == 'c');
    d.feed(encode_packet('A'));  // Postfix sends ABORT after each transaction
  }
  CHECK(d.session.messages() == 5);
  CHECK(d.session.aborted_with_data() == 0);
  d.feed(encode_packet('Q'));
  CHECK(d.closed);
}

TEST_CASE("the i macro sent before MAIL (non-SMTP path) survives the MAIL reset") {
  Driver d;
  d.feed(optneg());
  d.feed(encode_packet('D', S("Mi\0NS1\0", 7)) + encode_packet('M', S("root@mx\0", 8)) +
         encode_packet('N') + encode_packet('E'));
  REQUIRE(d.eoms == 1);
  CHECK(d.session.message().queue_id == "NS1");
}

TEST_CASE("reply codes: reject text with % - invalid text falls back - tempfail and accept") {
  auto eom_with = [](const EomDecision& dec) {
    Driver d;
    d.feed(postfix_connect());
    d.feed(postfix_message("R1", {{"Subject", " x"}}, "y"));
    REQUIRE(d.eoms == 1);
    return packets(d.session.finish_eom(dec));
  };
  EomDecision dec;
  dec.final = Final::replycode;
  dec.reply_text = "550 5.7.1 Refused (100% sure)";
  auto ps = eom_with(dec);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].cmd == 'y');
  CHECK(ps[0].data == S("550 5.7.1 Refused (100%% sure)\0", 31));
  dec.reply_text = "250 2.0.0 fine";  // Postfix would call this malformed: send 'r' instead
  ps = eom_with(dec);
  CHECK(ps[0].cmd == 'r');
  dec.final = Final::tempfail;
  CHECK(eom_with(dec)[0].cmd == 't');
  dec.final = Final::accept;
  CHECK(eom_with(dec)[0].cmd == 'a');
}

TEST_CASE("check_smtp_reply") {
  CHECK(check_smtp_reply("550 5.7.1 No thanks").empty());
  CHECK(check_smtp_reply("451 4.7.1 Later").empty());
  CHECK(check_smtp_reply("550 No enhanced code").empty());
  CHECK_FALSE(check_smtp_reply("550 4.7.1 class mismatch").empty());
  CHECK_FALSE(check_smtp_reply("250 2.0.0 ok").empty());
  CHECK_FALSE(check_smtp_reply("550-5.7.1 multi").empty());
  CHECK_FALSE(check_smtp_reply("550 5.7.1 a\r\nb").empty());
  CHECK_FALSE(check_smtp_reply("55").empty());
  CHECK_FALSE(check_smtp_reply("550 5.7 bad").empty());
  CHECK_FALSE(check_smtp_reply("550 " + std::string(1000, 'x')).empty());
}

TEST_CASE("failures: error result only where the MTA awaits a reply") {
  SUBCASE("a packet while the EOM reply is pending: tempfail, then close") {
    Driver d;
    d.feed(postfix_connect() + postfix_message("F1", {{"Subject", " x"}}, "y"));
    REQUIRE(d.eoms == 1);
    d.replies.clear();
    auto o = d.session.on_packet(Packet{'B', "more"});
    CHECK(o.close);
    CHECK_FALSE(o.error.empty());
    auto ps = packets(o.bytes);
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].cmd == 't');
    CHECK(d.session.failed());
    CHECK(d.session.finish_eom(EomDecision{}).empty());  // nothing after failing
  }
  SUBCASE("on-error accept at EOM (e.g. a scan timeout)") {
    SessionLimits l;
    l.on_error = ErrorResult::accept;
    Driver d(l);
    d.feed(postfix_connect() + postfix_message("F2", {{"Subject", " x"}}, "y"));
    auto ps = packets(d.session.fail());
    REQUIRE(ps.size() == 1);
    CHECK(ps[0].cmd == 'c');
  }
  SUBCASE("on-error reject") {
    SessionLimits l;
    l.on_error = ErrorResult::reject;
    Driver d(l);
    d.feed(postfix_connect() + postfix_message("F3", {{"Subject", " x"}}, "y"));
    CHECK(packets(d.session.fail())[0].cmd == 'r');
  }
  SUBCASE("no reply owed (no-reply steps): nothing is sent, the close lets Postfix decide") {
    Driver d;
    d.feed(postfix_connect() + encode_packet('M', S("<a>\0", 4)));
    CHECK(d.session.fail().empty());
  }
  SUBCASE("bad length mid-session closes without a reply") {
    Driver d;
    d.feed(postfix_connect());
    d.replies.clear();
    d.feed(std::string("\xFF\xFF\xFF\xFF", 4));
    CHECK(d.closed);
    CHECK(d.replies.empty());
  }
  SUBCASE("unknown command") {
    Driver d;
    d.feed(optneg() + encode_packet('Z', "x"));
    CHECK(d.closed);
    CHECK(d.error.find("0x5a") != std::string::npos);
  }
  SUBCASE("second negotiation") {
    Driver d;
    d.feed(optneg() + optneg());
    CHECK(d.closed);
  }
  SUBCASE("short negotiation packet") {
    Driver d;
    d.feed(encode_packet('O', u32(6)));
    CHECK(d.closed);
  }
}

TEST_CASE("short and odd CONNECT / HEADER packets are bounds-checked") {
  Driver d;
  d.feed(optneg());
  d.feed(encode_packet('C', S("host\0" "4", 6)));            // family, no port
  CHECK(d.session.client_addr().empty());
  d.feed(encode_packet('C', S("host\0" "4\x01", 7)));        // half a port
  d.feed(encode_packet('C', S("host\0" "U", 6)));            // unknown family
  d.feed(encode_packet('C', S("host\0" "6\x00\x19" "::1\0", 11)));
  CHECK(d.session.client_addr() == "::1");
  d.feed(encode_packet('C', S("L\0\0", 3)));
  d.feed(encode_packet('C'));
  d.feed(encode_packet('M') + encode_packet('R') + encode_packet('H'));
  d.feed(encode_packet('L', "NoNulName") + encode_packet('L') + encode_packet('L', S("\0\0", 2)));
  d.feed(encode_packet('U', S("XYZZY\0", 6)));
  d.feed(encode_packet('E'));
  CHECK_FALSE(d.closed);
  CHECK(d.eoms == 1);
  CHECK(d.session.message().header_count == 3);
}
