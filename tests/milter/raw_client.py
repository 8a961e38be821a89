#!/usr/bin/env python3
"""raw_client.py: byte-level milter client for the hostile-input tests of `hdrscan milter`.

Usage:
  raw_client.py session PORT EML EXPECTED_VERDICT
      A real Postfix-like session (v6 negotiation, stage-only D packets, leading-space header
      values, 65535-byte body chunks, two messages on the connection) with exact byte checks
      of the replies. Exit 0 when every check passed.
  raw_client.py hostile PORT
      Sends each hostile input on its own connection and checks the server closes it
      (EOF) instead of hanging or answering garbage. Exit 0 when all were handled.
  raw_client.py halfopen PORT N SECONDS
      Opens N connections that go quiet (nothing sent / half a packet / negotiated then
      silent), prints "held N" once all are open, and checks the server closes every one of
      them within SECONDS (idle and read timeouts). Prints "closed K of N".
Every socket operation has a timeout; nothing here can block forever.
"""
import random
import socket
import struct
import sys
import time


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def optneg(actions=0x1FF, proto=0x1FFFFF):
    return pkt(b"O", struct.pack(">III", 6, actions, proto))


def read_packet(s):
    hdr = recv_exact(s, 4)
    if hdr is None:
        return None
    (n,) = struct.unpack(">I", hdr)
    body = recv_exact(s, n)
    if body is None:
        return None
    return body[:1], body[1:]


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def wait_closed(s, limit):
    """True when the peer closes within `limit` seconds (reading and discarding)."""
    s.settimeout(limit)
    end = time.time() + limit
    try:
        while time.time() < end:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True  # reset counts as closed
    return False


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.settimeout(10)
    return s


def parse_eml(path):
    data = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = data.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\n" + line
        elif b":" in line:
            name, _, value = line.partition(b":")
            headers.append([name, value])
    return headers, body.replace(b"\n", b"\r\n")


def session(port, eml, expected):
    s = connect(port)
    s.sendall(optneg())
    cmd, data = read_packet(s)
    assert cmd == b"O", cmd
    ver, act, proto = struct.unpack(">III", data[:12])
    assert ver == 6 and act == 0x31, (ver, hex(act))
    assert proto & 0x100000 and proto & 0x80, hex(proto)  # HDR_LEADSPC, NR_HDR
    # Postfix-like: a D before each event, stage-only D packets for empty lists.
    s.sendall(pkt(b"D", b"Cj\0mx.test.local\0") + pkt(b"C", b"client.example\x004\xba\x4e127.0.0.1\0")
              + pkt(b"D", b"H") + pkt(b"H", b"client.example\0"))
    headers, body = parse_eml(eml)
    for n in range(2):
        qid = b"RAW%d" % n
        msg = pkt(b"D", b"M") + pkt(b"M", b"<alice@example.org>\0SIZE=100\0")
        msg += pkt(b"D", b"Ri\0" + qid + b"\0") + pkt(b"R", b"<bob@test.local>\0")
        msg += pkt(b"D", b"Ti\0" + qid + b"\0") + pkt(b"T")
        for name, value in headers + [[b"X-Hdrscan-Verdict", b"  forged"]]:
            msg += pkt(b"D", b"Li\0" + qid + b"\0") + pkt(b"L", name + b"\0" + value + b"\0")
        msg += pkt(b"D", b"N") + pkt(b"N")
        for i in range(0, len(body), 65535):
            msg += pkt(b"D", b"B") + pkt(b"B", body[i:i + 65535])
        msg += pkt(b"D", b"Ei\0" + qid + b"\0") + pkt(b"E")
        s.sendall(msg)
        got = []
        while True:
            r = read_packet(s)
            assert r is not None, "connection closed before the EOM reply"
            if r[0] == b"p":
                continue
            got.append(r)
            if r[0] in (b"c", b"a", b"r", b"t", b"y"):
                break
        cmds = b"".join(c for c, _ in got)
        assert got[0] == (b"m", struct.pack(">I", 1) + b"X-Hdrscan-Verdict\0\0"), got[0]
        verdict = [d for c, d in got if c == b"h" and d.startswith(b"X-Hdrscan-Verdict\0")]
        assert verdict == [b"X-Hdrscan-Verdict\0 " + expected.encode() + b"\0"], verdict
        score = [d for c, d in got if c == b"h" and d.startswith(b"X-Hdrscan-Score\0 ")]
        assert len(score) == 1, got
        print("message %d: replies %s, %s" % (n + 1, cmds.decode(), verdict[0].split(b"\0")[1].decode()))
        s.sendall(pkt(b"A"))
    s.sendall(pkt(b"A") + pkt(b"Q"))
    assert wait_closed(s, 5), "server did not close after QUIT"
    print("session ok")
    return 0


def hostile(port):
    rng = random.Random(2022)
    # Named cases must be closed by the server on its own (protocol error; the harness
    # checks the reason in the log); random ones may be a valid prefix, so we half-close.
    cases = [
        ("GET / HTTP/1.0", b"GET / HTTP/1.0\r\n\r\n"),
        ("4 GB length", b"\xff\xff\xff\xffO" + b"x" * 100),
        ("zero length", b"\0\0\0\0"),
        ("1 MiB + 2 length", struct.pack(">I", (1 << 20) + 2) + b"L"),
        ("no negotiation first", pkt(b"C", b"x\0U")),
        ("unknown command after negotiation", optneg() + pkt(b"Z", b"zz")),
        ("second negotiation", optneg() + optneg()),
        ("short negotiation", pkt(b"O", b"\0\0\0\6")),
        ("TLS client hello", bytes.fromhex("16030100a5010000a10303") + bytes(160)),
    ]
    cases = [(n, d, False) for n, d in cases]
    for i in range(20):
        cases.append(("random bytes #%d" % i, bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))), True))
        cases.append(("random packets #%d" % i, optneg() + b"".join(
            pkt(bytes([rng.choice(b"DCHMRTLNBEUAK")]), bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))))
            for _ in range(rng.randint(1, 30))), True))
    failures = 0
    for name, data, half_close in cases:
        s = connect(port)
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may already have closed: fine
        # Random packets may form a valid prefix and then wait for more: that is handled by
        # the read/idle timeout, so half-close our side to say "no more data".
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        closed = wait_closed(s, 15)
        s.close()
        print("%-40s %s" % (name, "closed by server" if closed else "NOT CLOSED"))
        if not closed:
            failures += 1
    # A client that vanishes while its message is being scored.
    s = connect(port)
    s.sendall(optneg() + pkt(b"M", b"<a>\0") + pkt(b"L", b"Subject\0 x\0") + pkt(b"N") +
              pkt(b"B", b"x" * 65535) + pkt(b"E"))
    s.close()
    print("%-40s %s" % ("close while scoring", "sent"))
    return 1 if failures else 0


def halfopen(port, n, limit):
    socks = []
    for i in range(n):
        s = connect(port)
        kind = i % 4                       # 0: nothing sent at all
        if kind == 1:
            s.sendall(b"\0\0\0")          # half a length word
        elif kind >= 2:
            s.sendall(optneg())            # negotiated, then silent (idle) ...
            read_packet(s)
            if kind == 3:                  # ... or stalled in the middle of a packet
                s.sendall(struct.pack(">I", 100) + b"L" + b"x" * 10)
        socks.append(s)
    print("held %d" % n, flush=True)  # the test waits for this line, not for a time
    end = time.time() + limit
    closed = 0
    for s in socks:
        if wait_closed(s, max(0.1, end - time.time())):
            closed += 1
        s.close()
    print("closed %d of %d" % (closed, n))
    return 0 if closed == n else 1


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "session":
        return session(port, sys.argv[3], sys.argv[4])
    if mode == "hostile":
        return hostile(port)
    if mode == "halfopen":
        return halfopen(port, int(sys.argv[3]), float(sys.argv[4]))
    print("unknown mode", mode)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("check failed:", e)
        sys.exit(1)
    except (OSError, socket.timeout) as e:
        print("socket error:", e)
        sys.exit(1)
