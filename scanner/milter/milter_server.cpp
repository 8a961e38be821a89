// milter_server.cpp: Boost.Asio server for `hdrscan milter`.
//
// Purpose: see milter_server.hpp. Structure: one io_context run by `io-threads` threads; one
// Connection per MTA connection, all of its handlers on its own strand; one thread pool for
// scoring (scanner::analyze, the same code path as `hdrscan scan`). A Connection reads,
// frames packets (PacketReader), feeds them to its Session, writes what the Session returns;
// at end of message it stops reading and scores the message: up to 128 KiB right there on its
// strand (cheaper than two thread hand-offs), larger ones on the pool, with a 'p' (progress)
// every progress-interval seconds, and on the result (or on scan-timeout) writes the
// end-of-message reply. The Analyzer and config live in one immutable Runtime snapshot held by
// shared_ptr and swapped under a mutex on SIGHUP; each message uses the snapshot it started
// scoring with.
// Limits: packet length (PacketReader), bytes kept per message (SessionLimits), max
// connections, idle/read/write/scan timeouts (Config). Reads stop while a message is being
// scored, so a client cannot make us buffer more than one read (64 KiB) plus one packet.
// Diagnostics: every failure is logged with the connection's client and contained to that
// connection: exceptions in handlers close the connection, never the server.
#include "scanner/milter/milter_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "scanner/asio.hpp"
#include "scanner/milter/milter_config.hpp"
#include "scanner/milter/milter_protocol.hpp"
#include "scanner/pipeline.hpp"

namespace hdrscan::scanner::milter {
namespace {

namespace asio = boost::asio;
using generic_stream = asio::generic::stream_protocol;
using Clock = std::chrono::steady_clock;

std::mutex g_log_mu;

void log_line(const std::string& text) {
  std::string line = "hdrscan milter: " + text + "\n";
  std::lock_guard<std::mutex> lock(g_log_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

// Log-safe rendering of peer-controlled text (queue id, client name): printable ASCII only,
// bounded.
std::string safe(std::string_view s, std::size_t max = 200, bool spaces = false) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back((u > 32 || (spaces && u == 32)) && u < 127 ? c : '?');
  }
  return out.empty() ? "-" : out;
}

struct Runtime {
  Config cfg;
  std::shared_ptr<const heuristics::Analyzer> analyzer;
  mime::Limits limits;
  std::size_t indicator_count = 0;
  // Test hook: HDRSCAN_MILTER_TEST_SCAN_DELAY_MS=N makes every scoring take N ms longer, so
  // the tests can show progress packets and scan-timeout end to end. Capped at 10 minutes.
  unsigned test_scan_delay_ms = 0;

  SessionLimits session_limits() const {
    SessionLimits l;
    l.max_body_bytes = cfg.max_body_bytes;
    l.max_header_bytes = cfg.max_header_bytes;
    l.on_error = cfg.on_error;
    return l;
  }
};

std::shared_ptr<const Runtime> load_runtime(const ServerOptions& opt) {
  auto rt = std::make_shared<Runtime>();
  if (!opt.config_path.empty()) rt->cfg = load_config_file(opt.config_path);
  if (!opt.listen.empty()) rt->cfg.listen = opt.listen;
  if (opt.dry_run) rt->cfg.dry_run = true;
  if (!opt.stats_file.empty()) rt->cfg.stats_file = opt.stats_file;
  AnalysisOptions a = opt.analysis;
  for (const auto& f : rt->cfg.indicators) a.add_indicators.push_back(f);
  rt->analyzer = a.make_analyzer();
  rt->indicator_count = rt->analyzer->indicators().size();
  rt->limits = a.limits;
  if (const char* d = std::getenv("HDRSCAN_MILTER_TEST_SCAN_DELAY_MS")) {
    char* end = nullptr;
    unsigned long ms = std::strtoul(d, &end, 10);
    if (end && *end == '\0') rt->test_scan_delay_ms = static_cast<unsigned>(std::min(ms, 600000ul));
  }
  // The message we reconstruct is bounded by the milter's own limits; keep the parser's
  // whole-message limit at least that large so a kept message is always fully parsed.
  std::size_t kept = rt->cfg.max_body_bytes + rt->cfg.max_header_bytes + 2;
  if (rt->limits.max_message_bytes < kept) rt->limits.max_message_bytes = kept;
  return rt;
}

struct Counters {
  std::atomic<std::uint64_t> connections{0}, active{0}, refused_connections{0}, messages{0},
      clean{0}, suspicious{0}, campaign{0}, tagged{0}, accepted{0}, quarantined{0},
      rejected{0}, tempfailed{0}, dry_run{0}, errors{0}, protocol_errors{0}, timeouts{0},
      aborted{0}, body_truncated{0}, forged_removed{0}, reloads{0}, reload_failures{0};

  nlohmann::json to_json() const {
    return {{"connections", connections.load()},   {"active", active.load()},
            {"refused_connections", refused_connections.load()},
            {"messages", messages.load()},         {"clean", clean.load()},
            {"suspicious", suspicious.load()},     {"campaign", campaign.load()},
            {"tagged", tagged.load()},             {"accepted", accepted.load()},
            {"quarantined", quarantined.load()},   {"rejected", rejected.load()},
            {"tempfailed", tempfailed.load()},     {"dry_run", dry_run.load()},
            {"errors", errors.load()},             {"protocol_errors", protocol_errors.load()},
            {"timeouts", timeouts.load()},         {"aborted", aborted.load()},
            {"body_truncated", body_truncated.load()},
            {"forged_removed", forged_removed.load()},
            {"reloads", reloads.load()},           {"reload_failures", reload_failures.load()}};
  }
};

class Connection;

class Server {
 public:
  Server(const ServerOptions& opt, std::shared_ptr<const Runtime> rt)
      : opt_(opt),
        rt_(std::move(rt)),
        strand_(asio::make_strand(io_)),
        acceptor_(strand_),
        signals_(strand_),
        pool_(rt_->cfg.scan_threads ? rt_->cfg.scan_threads
                                    : std::max(1u, std::thread::hardware_concurrency())),
        retry_timer_(strand_),
        drain_timer_(strand_),
        exit_timer_(strand_) {}

  int run();

  std::shared_ptr<const Runtime> runtime() {
    std::lock_guard<std::mutex> lock(rt_mu_);
    return rt_;
  }
  asio::thread_pool& pool() { return pool_; }
  asio::io_context& io() { return io_; }
  Counters& counters() { return counters_; }
  // set by listen() before the first accept, constant afterwards
  bool on_unix_socket() const { return !unix_path_.empty(); }
  void remove(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(conns_mu_);
    conns_.erase(id);
  }

 private:
  bool listen();
  void accept();
  void on_signal(int sig);
  void reload();
  void report_stats(const char* why);
  void begin_drain();
  void check_exit();

  ServerOptions opt_;
  asio::io_context io_;
  std::mutex rt_mu_;
  std::shared_ptr<const Runtime> rt_;
  // Acceptor, signals and server timers share one strand: their handlers never race, whatever
  // io-threads is.
  asio::strand<asio::io_context::executor_type> strand_;
  asio::basic_socket_acceptor<generic_stream> acceptor_;
  asio::signal_set signals_;
  asio::thread_pool pool_;
  asio::steady_timer retry_timer_, drain_timer_, exit_timer_;
  Counters counters_;
  std::mutex conns_mu_;
  std::map<std::uint64_t, std::weak_ptr<Connection>> conns_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> draining_{false};
  std::string unix_path_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& srv, std::uint64_t id, asio::strand<asio::io_context::executor_type> strand)
      : srv_(srv), id_(id), strand_(strand), sock_(strand), deadline_(strand), scan_timer_(strand),
        tcp_(!srv.on_unix_socket()) {
    session_.set_limits(srv_.runtime()->session_limits());
  }
  generic_stream::socket& socket() { return sock_; }

  void start() {
    srv_.counters().active++;
    pump();
  }
  void drain() {
    asio::post(strand_, [self = shared_from_this()] {
      self->drain_requested_ = true;
      if (!self->busy_ && !self->writing_ && !self->session_.in_message()) self->close();
    });
  }
  void force_close() {
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->closed_ && self->session_.in_message())
        log_line("conn " + std::to_string(self->id_) + " client=" + self->client() +
                 ": closed by shutdown mid-message (MTA applies milter_default_action)");
      self->close();
    });
  }

 private:
  std::string client() const {
    std::string name = session_.client_name(), addr = session_.client_addr();
    if (name.empty() && addr.empty()) return "unknown";
    return safe(name, 100) + "[" + safe(addr, 60) + "]";
  }

  // Runs the connection forward: write what is queued, else handle buffered packets, else
  // read. Every handler ends here, so there is exactly one place that decides what is next.
  void pump() {
    try {
      while (!closed_) {
        if (writing_) return;
        if (!out_.empty()) {
          write();
          return;
        }
        if (close_after_write_) {
          close();
          return;
        }
        if (busy_) return;
        if (process_packets()) continue;  // produced output, started a scan or must close
        if (drain_requested_ && !session_.in_message()) {
          close();
          return;
        }
        read();
        return;
      }
    } catch (const std::exception& e) {
      log_line("conn " + std::to_string(id_) + " client=" + client() +
               ": internal error: " + e.what() + "; closing");
      srv_.counters().errors++;
      close();
    }
  }

  // Handles every whole packet buffered; true when something changed pump's decision.
  bool process_packets() {
    bool changed = false;
    Packet p;
    for (;;) {
      auto st = reader_.next(p);
      if (st == PacketReader::Status::need_more) return changed;
      if (st == PacketReader::Status::error) {
        srv_.counters().protocol_errors++;
        log_line("conn " + std::to_string(id_) + " client=" + client() +
                 ": protocol error: " + reader_.error() + "; closing");
        out_ += session_.fail();
        close_after_write_ = true;
        return true;
      }
      Session::Output o = session_.on_packet(p);
      if (p.cmd == cmd::optneg && session_.negotiated() && session_.actions() != kWantedActions)
        log_line("conn " + std::to_string(id_) + ": warning: the MTA does not allow every action we "
                 "need (granted 0x" + [](std::uint32_t v) {
                   static const char* hex = "0123456789abcdef";
                   std::string h;
                   for (int i = 28; i >= 0; i -= 4) h.push_back(hex[(v >> i) & 15]);
                   return h;
                 }(session_.actions()) + ", want 0x00000031): tagging, header deletion or "
                 "quarantine will not happen on this connection");
      if (p.cmd == cmd::abort || p.cmd == cmd::mail) {
        if (session_.aborted_with_data() != aborted_seen_) {
          srv_.counters().aborted += session_.aborted_with_data() - aborted_seen_;
          aborted_seen_ = session_.aborted_with_data();
        }
      }
      if (!o.bytes.empty()) {
        out_ += o.bytes;
        changed = true;
      }
      if (!o.error.empty()) {
        srv_.counters().protocol_errors++;
        log_line("conn " + std::to_string(id_) + " client=" + client() +
                 ": protocol error: " + o.error + "; closing");
      }
      if (o.close) {
        close_after_write_ = true;
        return true;
      }
      if (o.eom) {
        start_scan();
        return true;
      }
    }
  }

  void read() {
    reading_ = true;
    unsigned secs;
    const auto rt = srv_.runtime();
    if (!session_.negotiated() || reader_.pending() > 0) secs = rt->cfg.read_timeout;
    else secs = rt->cfg.idle_timeout;
    arm_deadline(secs);
    sock_.async_read_some(asio::buffer(rbuf_), asio::bind_executor(strand_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          self->reading_ = false;
          if (self->closed_) return;
          if (ec) {
            if (self->session_.in_message() && self->session_.message().data_seen)
              log_line("conn " + std::to_string(self->id_) + " client=" + self->client() +
                       ": MTA closed the connection mid-message (" + ec.message() + ")");
            self->close();
            return;
          }
          self->quick_ack();
          self->reader_.feed(std::string_view(self->rbuf_.data(), n));
          self->pump();
        }));
  }

  // Acknowledge what was read at once. With the no-reply steps negotiated (SMFIP_NR_*) the MTA
  // sends packet after packet and we answer none of them, so the kernel delays its ACK (40 ms
  // on Linux) while the MTA's Nagle algorithm holds its next small packet until that ACK: one
  // 40-50 ms stall per message (measured with tools/bench-milter.sh, Postfix 3.7). Linux
  // clears TCP_QUICKACK by itself, so it is set again after every read. Not on unix sockets
  // (no ACKs; the call would fail, one wasted system call per read).
  void quick_ack() {
#ifdef TCP_QUICKACK
    if (!tcp_) return;
    int one = 1;
    ::setsockopt(sock_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#endif
  }

  void write() {
    writing_ = true;
    wbuf_ = std::move(out_);
    out_.clear();
    arm_deadline(srv_.runtime()->cfg.read_timeout);
    asio::async_write(sock_, asio::buffer(wbuf_), asio::bind_executor(strand_,
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing_ = false;
          if (self->closed_) return;
          if (ec) {
            log_line("conn " + std::to_string(self->id_) + " client=" + self->client() +
                     ": write failed: " + ec.message());
            self->close();
            return;
          }
          self->pump();
        }));
  }

  void arm_deadline(unsigned secs) {
    std::uint64_t gen = ++deadline_gen_;
    deadline_.expires_after(std::chrono::seconds(secs));
    deadline_.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (ec || self->closed_ || gen != self->deadline_gen_) return;
      if (!self->reading_ && !self->writing_) return;
      const char* what = self->writing_ ? "write timeout"
                         : !self->session_.negotiated() ? "no option negotiation in time"
                         : self->reader_.pending() > 0 ? "read timeout (incomplete packet)"
                                                        : "idle timeout";
      self->srv_.counters().timeouts++;
      log_line("conn " + std::to_string(self->id_) + " client=" + self->client() + ": " + what +
               "; closing");
      self->close();
    });
  }

  // Scores the message at end of message. A message of at most kInlineScanBytes is scored
  // right here on the connection's strand (about 0.1 ms at 300 MB/s) instead of being handed
  // to the pool and back: tools/bench-milter.sh, 11 rounds, the milter's CPU per message fell
  // from 0.28 to 0.25 ms and the p50 latency by 0.5-1 ms; throughput did not change beyond the
  // noise. Larger messages go to the pool, so a big message never holds an I/O thread, and
  // they get progress packets and the scan timeout.
  static constexpr std::size_t kInlineScanBytes = 128 * 1024;

  struct ScanResult {
    MessageReport rep;
    std::string err;
  };
  static ScanResult score(const mime::RawMessage& raw, const Runtime& rt) {
    ScanResult r;
    try {
      if (rt.test_scan_delay_ms)
        std::this_thread::sleep_for(std::chrono::milliseconds(rt.test_scan_delay_ms));
      // the milter neither logs nor returns the message digest: not computed
      r.rep = analyze(raw, *rt.analyzer, rt.limits, Digest::skip, Features::skip);
      for (const auto& e : r.rep.errors)
        if (e.code == "internal_error") r.err = e.detail;
    } catch (const std::exception& e) {
      r.err = std::string("internal error: ") + e.what();
    } catch (...) {
      r.err = "internal error";
    }
    return r;
  }

  // Called from pump (via process_packets); leaves the reply in out_ or the scan running.
  void start_scan() {
    busy_ = true;
    std::uint64_t gen = ++scan_gen_;
    scan_started_ = Clock::now();
    auto rt = srv_.runtime();
    auto raw = std::make_shared<mime::RawMessage>();
    raw->bytes = session_.take_bytes();
    raw->where.path = "milter:" + safe(session_.message().queue_id, 40);
    // the test hook's delay must show progress packets and the timeout: never inline
    if (raw->bytes.size() <= kInlineScanBytes && !rt->test_scan_delay_ms) {
      ScanResult r = score(*raw, *rt);
      finish_scan(std::move(r.rep), r.err, *rt);
      return;
    }
    auto self = shared_from_this();
    asio::post(srv_.pool(), [self, raw, rt, gen] {
      ScanResult r = score(*raw, *rt);
      asio::post(self->strand_, [self, r = std::move(r), rt, gen]() mutable {
        self->scan_done(std::move(r.rep), r.err, *rt, gen);
      });
    });
    arm_progress(gen, rt->cfg.progress_interval, rt->cfg.scan_timeout);
  }

  void arm_progress(std::uint64_t gen, unsigned interval, unsigned limit) {
    scan_timer_.expires_after(std::chrono::seconds(std::min(interval, limit)));
    scan_timer_.async_wait([self = shared_from_this(), gen, interval,
                            limit](const boost::system::error_code& ec) {
      if (ec || self->closed_ || !self->busy_ || gen != self->scan_gen_) return;
      auto elapsed = Clock::now() - self->scan_started_;
      if (elapsed >= std::chrono::seconds(limit)) {
        self->busy_ = false;
        ++self->scan_gen_;  // the late result is dropped
        self->srv_.counters().timeouts++;
        self->srv_.counters().errors++;
        auto rt = self->srv_.runtime();
        self->log_message(nullptr, "error:" + std::string(to_string(rt->cfg.on_error)),
                          "scan timeout");
        self->out_ += self->session_.fail();
        self->close_after_write_ = true;
        self->pump();
        return;
      }
      self->out_ += encode_packet(reply::progress);
      self->pump();
      self->arm_progress(gen, interval, limit);
    });
  }

  // A pool scan's result, back on the strand.
  void scan_done(MessageReport rep, const std::string& err, const Runtime& rt, std::uint64_t gen) {
    if (closed_ || !busy_ || gen != scan_gen_) return;
    scan_timer_.cancel();
    finish_scan(std::move(rep), err, rt);
    pump();
  }

  // Counts, logs and queues the end-of-message reply; the caller pumps.
  void finish_scan(MessageReport rep, const std::string& err, const Runtime& rt) {
    busy_ = false;
    auto& c = srv_.counters();
    if (!err.empty()) {
      c.errors++;
      log_message(nullptr, "error:" + std::string(to_string(rt.cfg.on_error)), err);
      out_ += session_.fail();
      close_after_write_ = true;
      return;
    }
    const auto& a = rep.assessment;
    auto signals = top_signals(a, rt.cfg.top_signals);
    EomDecision d = decide(rt.cfg, a.verdict, a.score, signals, a.nested_from);
    Action act = rt.cfg.action_for(a.verdict, !a.nested_from.empty());
    c.messages++;
    (a.verdict == heuristics::Verdict::campaign     ? c.campaign
     : a.verdict == heuristics::Verdict::suspicious ? c.suspicious
                                                    : c.clean)++;
    if (session_.message().body_truncated) c.body_truncated++;
    std::string action(to_string(act));
    if (rt.cfg.dry_run) {
      c.dry_run++;
      action = "dry-run:" + action;
    } else {
      switch (act) {
        case Action::accept: c.accepted++; break;
        case Action::tag: c.tagged++; break;
        case Action::quarantine: c.quarantined++; break;
        case Action::reject: c.rejected++; break;
        case Action::tempfail: c.tempfailed++; break;
      }
      if (d.delete_forged && (session_.actions() & act::chghdrs))
        for (const auto& f : session_.message().forged) c.forged_removed += f.second;
    }
    log_message(&rep, action, {}, &signals,
                !rt.cfg.dry_run && d.delete_forged && (session_.actions() & act::chghdrs));
    out_ += session_.finish_eom(d);
    session_.set_limits(srv_.runtime()->session_limits());
  }

  void log_message(const MessageReport* rep, const std::string& action, const std::string& error,
                   const std::vector<std::string>* signals = nullptr, bool forged_removed = false) {
    const auto& m = session_.message();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - scan_started_);
    std::string line = "qid=" + safe(m.queue_id, 40) + " client=" + client();
    if (rep) {
      line += " verdict=" + std::string(heuristics::to_string(rep->assessment.verdict)) +
              " score=" + std::to_string(rep->assessment.score);
    } else {
      line += " verdict=- score=-";
    }
    line += " action=" + action + " ms=" + std::to_string(ms.count());
    if (rep) line += " size=" + std::to_string(rep->size);
    if (m.body_truncated) line += " body_truncated=" + std::to_string(m.body_seen);
    std::size_t forged = 0;
    for (const auto& f : m.forged) forged += f.second;
    if (forged) line += (forged_removed ? " forged_removed=" : " forged_seen=") + std::to_string(forged);
    if (signals && !signals->empty()) {
      line += " signals=";
      for (std::size_t i = 0; i < signals->size(); ++i) line += (i ? "," : "") + (*signals)[i];
    }
    // A wrapper: the verdict (and the action, wrapper-action) came from an attached message.
    if (rep && !rep->assessment.nested_from.empty())
      line += " nested_from=" + safe(rep->assessment.nested_from, 80);
    if (!error.empty()) line += " error=\"" + safe(error, 300, true) + "\"";
    log_line(line);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    deadline_.cancel();
    scan_timer_.cancel();
    sock_.shutdown(asio::socket_base::shutdown_both, ec);
    sock_.close(ec);
    srv_.counters().active--;
    srv_.remove(id_);
  }

  Server& srv_;
  std::uint64_t id_;
  asio::strand<asio::io_context::executor_type> strand_;
  generic_stream::socket sock_;
  asio::steady_timer deadline_, scan_timer_;
  std::array<char, 16384> rbuf_{};  // per connection: keep 1000 idle sessions cheap
  PacketReader reader_;
  Session session_;
  std::string out_, wbuf_;
  bool reading_ = false, writing_ = false, busy_ = false, closed_ = false,
       close_after_write_ = false, drain_requested_ = false;
  const bool tcp_;  // loopback/remote TCP, not a unix socket
  std::uint64_t deadline_gen_ = 0, scan_gen_ = 0;
  std::size_t aborted_seen_ = 0;
  Clock::time_point scan_started_ = Clock::now();
};

bool parse_listen(const std::string& spec, generic_stream::endpoint& ep, std::string& unix_path,
                  std::string& err) {
  if (spec.rfind("unix:", 0) == 0 || spec.rfind("local:", 0) == 0) {
    unix_path = spec.substr(spec.find(':') + 1);
    if (unix_path.empty() || unix_path.size() > 100) {
      err = "unix socket path empty or longer than 100 bytes";
      return false;
    }
    ep = generic_stream::endpoint(asio::local::stream_protocol::endpoint(unix_path));
    return true;
  }
  std::string rest;
  if (spec.rfind("inet:", 0) == 0) rest = spec.substr(5);
  else if (spec.rfind("inet6:", 0) == 0) rest = spec.substr(6);
  else {
    err = "listen address must be inet:HOST:PORT or unix:PATH, not '" + spec + "'";
    return false;
  }
  std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    err = "listen address needs a port: inet:HOST:PORT";
    return false;
  }
  std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned long p = 0;
  try {
    std::size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size() || p == 0 || p > 65535) throw std::invalid_argument("port");
  } catch (const std::exception&) {
    err = "bad port '" + port + "'";
    return false;
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    err = "listen host must be an IP address (or localhost), not '" + host + "'";
    return false;
  }
  ep = generic_stream::endpoint(asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(p)));
  return true;
}

bool Server::listen() {
  auto rt = runtime();
  if (rt->cfg.listen.empty()) {
    log_line("no listen address: give --listen inet:HOST:PORT|unix:PATH or `listen` in the config");
    return false;
  }
  generic_stream::endpoint ep;
  std::string err;
  if (!parse_listen(rt->cfg.listen, ep, unix_path_, err)) {
    log_line(err);
    return false;
  }
  boost::system::error_code ec;
  if (!unix_path_.empty()) {
    struct stat st {};
    if (::lstat(unix_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(unix_path_.c_str());
  }
  acceptor_.open(ep.protocol(), ec);
  if (!ec && unix_path_.empty()) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(1024, ec);
  if (ec) {
    log_line("cannot listen on " + rt->cfg.listen + ": " + ec.message());
    return false;
  }
  if (!unix_path_.empty()) ::chmod(unix_path_.c_str(), 0660);
  return true;
}

void Server::accept() {
  auto strand = asio::make_strand(io_);
  std::uint64_t id = next_id_++;
  auto conn = std::make_shared<Connection>(*this, id, strand);
  acceptor_.async_accept(conn->socket(), [this, conn, id](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || draining_) return;
    if (ec) {
      log_line(std::string("accept failed: ") + ec.message() + "; retrying in 100 ms");
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !draining_) accept();
      });
      return;
    }
    counters_.connections++;
    bool full;
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
      full = conns_.size() >= runtime()->cfg.max_connections;
      if (!full) conns_[id] = conn;
    }
    if (full) {
      counters_.refused_connections++;
      log_line("too many connections (max-connections); closing a new one");
      boost::system::error_code ignored;
      conn->socket().close(ignored);
    } else {
      asio::post(conn->socket().get_executor(), [conn] { conn->start(); });
    }
    accept();
  });
}

void Server::report_stats(const char* why) {
  auto j = counters_.to_json();
  std::string line = std::string("stats (") + why + "):";
  for (auto it = j.begin(); it != j.end(); ++it) line += " " + it.key() + "=" + it.value().dump();
  log_line(line);
  auto rt = runtime();
  if (rt->cfg.stats_file.empty()) return;
  std::string tmp = rt->cfg.stats_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) {
      log_line("cannot write stats file " + tmp);
      return;
    }
  }
  if (std::rename(tmp.c_str(), rt->cfg.stats_file.c_str()) != 0)
    log_line("cannot rename stats file to " + rt->cfg.stats_file);
}

void Server::reload() {
  // Loading the pack may take a moment: do it off the I/O threads.
  asio::post(pool_, [this] {
    try {
      auto fresh = load_runtime(opt_);
      auto old = runtime();
      if (fresh->cfg.listen != old->cfg.listen)
        log_line("reload: listen address change ignored until restart");
      if (fresh->cfg.io_threads != old->cfg.io_threads ||
          fresh->cfg.scan_threads != old->cfg.scan_threads)
        log_line("reload: thread counts take effect at restart");
      {
        std::lock_guard<std::mutex> lock(rt_mu_);
        rt_ = fresh;
      }
      counters_.reloads++;
      log_line("reloaded: " + std::to_string(fresh->indicator_count) + " indicators; clean=" +
               std::string(to_string(fresh->cfg.on_clean)) + " suspicious=" +
               std::string(to_string(fresh->cfg.on_suspicious)) + " campaign=" +
               std::string(to_string(fresh->cfg.on_campaign)) +
               (fresh->cfg.dry_run ? " dry-run" : ""));
    } catch (const std::exception& e) {
      counters_.reload_failures++;
      log_line(std::string("reload failed, keeping the previous configuration: ") + e.what());
    }
  });
}

void Server::begin_drain() {
  if (draining_.exchange(true)) return;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (auto& [id, w] : conns_)
      if (auto c = w.lock()) live.push_back(c);
  }
  log_line("draining: " + std::to_string(live.size()) + " connection(s) open");
  for (auto& c : live) c->drain();
  auto secs = runtime()->cfg.drain_timeout;
  drain_timer_.expires_after(std::chrono::seconds(secs));
  drain_timer_.async_wait([this](const boost::system::error_code& e) {
    if (e) return;
    std::vector<std::shared_ptr<Connection>> rest;
    {
      std::lock_guard<std::mutex> lock(conns_mu_);
      for (auto& [id, w] : conns_)
        if (auto c = w.lock()) rest.push_back(c);
    }
    if (!rest.empty()) log_line("drain timeout: closing " + std::to_string(rest.size()) + " connection(s)");
    for (auto& c : rest) c->force_close();
  });
  check_exit();
}

void Server::check_exit() {
  bool empty;
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->second.expired()) it = conns_.erase(it);
      else ++it;
    }
    empty = conns_.empty();
  }
  if (empty) {
    boost::system::error_code ec;
    signals_.cancel(ec);
    drain_timer_.cancel();
    io_.stop();
    return;
  }
  exit_timer_.expires_after(std::chrono::milliseconds(50));
  exit_timer_.async_wait([this](const boost::system::error_code& e) {
    if (!e) check_exit();
  });
}

void Server::on_signal(int sig) {
  switch (sig) {
    case SIGHUP:
      log_line("SIGHUP: reloading config and indicators");
      reload();
      break;
    case SIGUSR1:
      report_stats("SIGUSR1");
      break;
    default:
      log_line(std::string("signal ") + std::to_string(sig) + ": stop accepting, draining");
      begin_drain();
      return;  // no re-arm: a second SIGTERM is not needed, drain-timeout bounds the wait
  }
  signals_.async_wait([this](const boost::system::error_code& ec, int s) {
    if (!ec) on_signal(s);
  });
}

int Server::run() {
  if (!listen()) return 2;
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.add(SIGUSR1);
  signals_.async_wait([this](const boost::system::error_code& ec, int s) {
    if (!ec) on_signal(s);
  });
  auto rt = runtime();
  log_line("listening on " + rt->cfg.listen + " (protocol v6; " +
           std::to_string(rt->indicator_count) + " indicators; clean=" +
           std::string(to_string(rt->cfg.on_clean)) + " suspicious=" +
           std::string(to_string(rt->cfg.on_suspicious)) + " campaign=" +
           std::string(to_string(rt->cfg.on_campaign)) + " on-error=" +
           std::string(to_string(rt->cfg.on_error)) + (rt->cfg.dry_run ? "; DRY RUN" : "") +
           (rt->test_scan_delay_ms
                ? "; TEST HOOK: every scan delayed " + std::to_string(rt->test_scan_delay_ms) + " ms"
                : "") +
           ")");
  asio::post(strand_, [this] { accept(); });
  // An exception escaping a handler must not end the server: log it and keep running.
  auto run_io = [this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        counters_.errors++;
        log_line(std::string("internal error in an I/O handler (contained): ") + e.what());
      } catch (...) {
        counters_.errors++;
        log_line("internal error in an I/O handler (contained)");
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < rt->cfg.io_threads; ++i) threads.emplace_back(run_io);
  run_io();
  for (auto& t : threads) t.join();
  pool_.join();
  report_stats("exit");
  log_line("stopped");
  return 0;
}

}  // namespace

int run_server(const ServerOptions& options) {
  std::shared_ptr<const Runtime> rt;
  try {
    rt = load_runtime(options);
  } catch (const std::exception& e) {
    log_line(std::string("cannot start: ") + e.what());
    return 2;
  }
  try {
    Server server(options, rt);
    return server.run();
  } catch (const std::exception& e) {
    log_line(std::string("fatal: ") + e.what());
    return 2;
  }
}

}  // namespace hdrscan::scanner::milter
