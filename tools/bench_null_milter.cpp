// bench_null_milter.cpp: the milter floor for tools/bench-milter.sh (not part of hdrscan).
//
// Purpose: what Postfix pays for having ANY milter attached, measured with a milter that costs
// as little as a milter can: one thread, one epoll loop, no allocation per packet, no
// analysis. It negotiates exactly what `hdrscan milter` negotiates (protocol v6, actions
// ADDHDRS|CHGHDRS|QUARANTINE, no-reply on every step before end of message, HDR_LEADSPC,
// NOUNKNOWN: scanner/milter/milter_protocol.hpp), so Postfix sends it the same packets, and it
// answers end of message with one 'h' (add a header, as hdrscan's tag does) and 'c'.
// Postfix's throughput with this milter is the ceiling for any milter that reads the message.
//   bench_null_milter PORT        listen on 127.0.0.1:PORT until SIGTERM/SIGINT
//   bench_null_milter /PATH       listen on the unix socket PATH instead (mode 0666)
// Limits: packets up to 1 MiB (else the connection is closed); loopback only.
// Build: g++ -O2 -std=c++20 bench_null_milter.cpp -o bench_null_milter
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

constexpr std::uint32_t kActions = 0x001 | 0x010 | 0x020;  // ADDHDRS|CHGHDRS|QUARANTINE
// NR_CONN..NR_BODY (no NR_DATA/NR_UNKN distinction needed), HDR_LEADSPC, NOUNKNOWN
constexpr std::uint32_t kProtocol = 0x001000 | 0x002000 | 0x004000 | 0x008000 | 0x010000 |
                                    0x020000 | 0x000080 | 0x040000 | 0x080000 | 0x100000 |
                                    0x000100
#ifdef NULL_MILTER_EXTRA_PROTOCOL  // experiments: extra SMFIP_NO* steps to skip
                                    | NULL_MILTER_EXTRA_PROTOCOL
#endif
    ;
volatile std::sig_atomic_t g_stop = 0;

struct Conn {
  std::string in;
  std::uint32_t protocol = 0;
};

std::uint32_t be32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
void put32(std::string& s, std::uint32_t v) {
  v = htonl(v);
  s.append(reinterpret_cast<const char*>(&v), 4);
}
void packet(std::string& out, char cmd, const std::string& data = {}) {
  put32(out, static_cast<std::uint32_t>(data.size() + 1));
  out.push_back(cmd);
  out += data;
}
// The no-reply bit for a step, 0 for steps that are never answered.
std::uint32_t nr_bit(char c) {
  switch (c) {
    case 'C': return 0x001000;
    case 'H': return 0x002000;
    case 'M': return 0x004000;
    case 'R': return 0x008000;
    case 'T': return 0x010000;
    case 'U': return 0x020000;
    case 'L': return 0x000080;
    case 'N': return 0x040000;
    case 'B': return 0x080000;
    default: return 0;
  }
}

// Handles every whole packet in c.in; appends replies to out; false = close the connection.
bool handle(Conn& c, std::string& out) {
  std::size_t at = 0;
  bool keep = true;
  while (c.in.size() - at >= 4) {
    std::uint32_t len = be32(c.in.data() + at);
    if (len == 0 || len > (1u << 20)) return false;
    if (c.in.size() - at - 4 < len) break;
    char cmd = c.in[at + 4];
    const char* data = c.in.data() + at + 5;
    if (cmd == 'O' && len >= 13) {
      std::string d;
      put32(d, 6);
      put32(d, kActions & be32(data + 4));
      c.protocol = kProtocol & be32(data + 8);
      put32(d, c.protocol);
      packet(out, 'O', d);
    } else if (cmd == 'E') {
#ifndef NULL_MILTER_NO_HEADER  // experiment: Postfix's cost without the header edit
      packet(out, 'h', std::string("X-Null-Milter\0yes\0", 18));
#endif
      packet(out, 'c');
    } else if (cmd == 'Q') {
      keep = false;
    } else if (std::uint32_t bit = nr_bit(cmd); bit && !(c.protocol & bit)) {
      packet(out, 'c');
    }
    at += 4 + len;
  }
  c.in.erase(0, at);
  return keep;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_null_milter PORT|/SOCKET-PATH\n");
    return 2;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  const bool unix_socket = argv[1][0] == '/';
  int ls = ::socket(unix_socket ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  int bound = -1;
  if (unix_socket) {
    sockaddr_un su{};
    su.sun_family = AF_UNIX;
    if (std::strlen(argv[1]) >= sizeof su.sun_path) {
      std::fprintf(stderr, "bench_null_milter: socket path too long\n");
      return 2;
    }
    std::strcpy(su.sun_path, argv[1]);
    ::unlink(argv[1]);
    bound = ::bind(ls, reinterpret_cast<sockaddr*>(&su), sizeof su);
    if (bound == 0) ::chmod(argv[1], 0666);  // Postfix's smtpd runs as user postfix
  } else {
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound = ::bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  if (bound != 0 || ::listen(ls, 1024)) {
    std::perror("bench_null_milter: bind/listen");
    return 1;
  }
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = ls;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  std::unordered_map<int, Conn> conns;
  char buf[65536];
  epoll_event evs[64];
  while (!g_stop) {
    int n = ::epoll_wait(ep, evs, 64, 200);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        for (int cfd; (cfd = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          if (!unix_socket) ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event ce{};
          ce.events = EPOLLIN;
          ce.data.fd = cfd;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ce);
          conns[cfd];
        }
        continue;
      }
      Conn& c = conns[fd];
      bool keep = true;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) {
        keep = false;
      } else {
        // the same ACK fix as hdrscan's (milter_server.cpp quick_ack): with no-reply steps the
        // MTA's Nagle would otherwise wait for our delayed ACK
        if (!unix_socket) ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        c.in.append(buf, static_cast<std::size_t>(r));
        std::string out;
        keep = handle(c, out);
        // replies are a few bytes: a blocking-style write loop is enough on loopback
        for (std::size_t w = 0; w < out.size();) {
          ssize_t k = ::write(fd, out.data() + w, out.size() - w);
          if (k <= 0) {
            keep = false;
            break;
          }
          w += static_cast<std::size_t>(k);
        }
      }
      if (!keep) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        conns.erase(fd);
      }
    }
  }
  if (unix_socket) ::unlink(argv[1]);
  return 0;
}
