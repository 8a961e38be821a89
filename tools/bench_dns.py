#!/usr/bin/env python3
"""bench_dns.py: a loopback DNS stub for tools/bench's peers (not part of hdrscan).

Answers every UDP query on 127.0.0.1:PORT at once with NXDOMAIN (the question echoed, no
answers), so a peer's DNS look-ups (PTR of Received IPs, map URLs) cost a loopback round trip
instead of a timeout: the network is unreachable here, and a real deployment has a caching
resolver next to it. Runs until killed. Usage: bench_dns.py PORT
"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    q, addr = s.recvfrom(4096)
    if len(q) < 12:
        continue
    flags = 0x8183 | (q[2] & 0x01) << 8  # QR, RD copied, RA, RCODE=3 (NXDOMAIN)
    # keep the question section (qdcount from the query), no answer/authority/additional
    end = 12
    while end < len(q) and q[end] != 0:
        end += q[end] + 1
    end += 5
    r = q[:2] + flags.to_bytes(2, "big") + q[4:6] + b"\0\0\0\0\0\0" + q[12:end]
    s.sendto(r, addr)
