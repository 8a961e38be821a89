#!/usr/bin/env python3
"""bench_smtp_probe.py: per-message SMTP latency for tools/bench-milter.sh (not part of hdrscan).

One SMTP session to 127.0.0.1:PORT sends the given .eml files one after another (cycling),
timing each transaction from the DATA command to the server's final reply (that interval holds
every milter callback of the message: header/body streaming and end-of-message). Stops after
--count messages or when --stop-file exists (the load generator finished), whichever is first.
Writes one latency in milliseconds per line to --out; prints "n p50 p99" (ms) on stdout.
"""
import argparse
import os
import smtplib
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--stop-file", default="")
    ap.add_argument("--min", type=int, default=50, help="send at least this many even after the stop file")
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    msgs = [open(f, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for f in a.files]
    lat = []
    codes = {}
    s = smtplib.SMTP("127.0.0.1", a.port, timeout=120)
    s.ehlo("probe.example.org")
    i = 0
    while len(lat) < a.count:
        if a.stop_file and os.path.exists(a.stop_file) and len(lat) >= a.min:
            break
        m = msgs[i % len(msgs)]
        i += 1
        s.mail("probe@example.org")
        s.rcpt("probe%d@test.local" % i)
        t0 = time.perf_counter()
        code, _ = _data(s, m)
        lat.append((time.perf_counter() - t0) * 1000)
        codes[code] = codes.get(code, 0) + 1
        if code >= 400:
            s.rset()
    s.quit()
    with open(a.out, "w") as f:
        f.write("".join("%.3f\n" % x for x in lat))
    xs = sorted(lat)
    q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    print("%d %.3f %.3f %s" % (len(xs), q(0.5), q(0.99), ",".join("%d:%d" % kv for kv in sorted(codes.items()))))


def _data(s, msg):
    # smtplib.SMTP.data raises on a non-250 final reply; keep the code instead
    code, repl = s.docmd("data")
    if code != 354:
        return code, repl
    q = smtplib._quote_periods(msg)
    if q[-2:] != b"\r\n":
        q += b"\r\n"
    s.send(q + b".\r\n")
    return s.getreply()


if __name__ == "__main__":
    main()
