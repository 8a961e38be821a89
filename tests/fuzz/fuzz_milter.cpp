// fuzz_milter.cpp: the milter packet decoder (PacketReader) and the per-connection Session
// state machine (scanner/milter/milter_protocol.hpp), driven the way milter_server.cpp drives
// them: bytes in (in chunks of input-chosen sizes), packets out, Session::on_packet, fail() on a
// framing error, finish_eom() with an input-chosen decision at end of message.
// Two modes (first byte, bit 0): raw (the input is the byte stream, framing included) or
// structured (an option negotiation packet first, then the input is read as
// [cmd][len lo][len hi][data...] records encoded with encode_packet, so the fuzzer reaches
// deep session states instead of failing on the length word).
// Invariants: kept header/body bytes within SessionLimits (+ one field / chunk), no output
// after close, every reply the session writes is itself a well-framed packet stream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "scanner/milter/milter_protocol.hpp"

using namespace hdrscan::scanner::milter;
namespace fuzz = hdrscan::fuzz;

namespace {

void check_replies(const std::string& bytes) {
  PacketReader r;
  r.feed(bytes);
  Packet p;
  PacketReader::Status st;
  while ((st = r.next(p)) == PacketReader::Status::packet) {
  }
  fuzz::check(st != PacketReader::Status::error, "session replies are well-framed packets");
  fuzz::check(r.pending() == 0, "session replies are whole packets");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::uint8_t chunk_seed = data[1];
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  SessionLimits lim;
  lim.max_header_bytes = 512;
  lim.max_body_bytes = 256;
  lim.on_error = static_cast<ErrorResult>((mode >> 1) % 3);

  std::string stream;
  if (mode & 1) {
    stream.assign(in);
  } else {
    std::string neg;
    put_u32(neg, 6);
    put_u32(neg, 0x1FF);
    put_u32(neg, (mode & 8) ? 0x1FFFFF : 0);
    stream += encode_packet('O', neg);
    std::size_t i = 0;
    while (i < in.size()) {
      char cmd = in[i++];
      std::size_t len = 0;
      if (i < in.size()) len = static_cast<unsigned char>(in[i++]);
      if (i < in.size()) len |= static_cast<std::size_t>(static_cast<unsigned char>(in[i++])) << 8;
      len = std::min(len, in.size() - i);
      stream += encode_packet(cmd, in.substr(i, len));
      i += len;
    }
  }

  PacketReader reader;
  Session session(lim);
  bool closed = false;
  std::size_t pos = 0;
  std::size_t chunk = (chunk_seed % 64) + 1;
  while (pos < stream.size() && !closed) {
    std::size_t n = std::min(chunk, stream.size() - pos);
    reader.feed(std::string_view(stream).substr(pos, n));
    pos += n;
    chunk = ((chunk * 7 + chunk_seed) % 257) + 1;
    Packet p;
    for (;;) {
      auto st = reader.next(p);
      if (st == PacketReader::Status::need_more) break;
      if (st == PacketReader::Status::error) {
        check_replies(session.fail());
        closed = true;
        break;
      }
      auto o = session.on_packet(p);
      check_replies(o.bytes);
      const auto& m = session.message();
      fuzz::check(m.recipients.size() <= kMaxRecipients, "recipients within kMaxRecipients");
      fuzz::check(m.bytes.size() <= lim.max_header_bytes + lim.max_body_bytes + kMaxPacketData + 8,
                  "kept message bytes bounded");
      if (o.close || !o.error.empty()) {
        closed = true;
        break;
      }
      if (o.eom) {
        std::string msg = session.take_bytes();
        EomDecision d;
        d.delete_forged = (chunk_seed & 1) != 0;
        if (chunk_seed & 2) d.add_headers.push_back({kVerdictHeader, "campaign"});
        if (chunk_seed & 4) d.quarantine_reason = "hdrscan: campaign (score 90)";
        d.final = static_cast<Final>((chunk_seed >> 3) % 5);
        if (d.final == Final::replycode) d.reply_text = (chunk_seed & 0x80) ? "550 5.7.1 no %s" : "bad reply";
        check_replies(session.finish_eom(d));
      }
    }
  }
  return 0;
}
