#!/usr/bin/env python3
"""smtp_load.py: SMTP load client that records the server's answer to every message.

Usage: smtp_load.py PORT SESSIONS MESSAGES PER_SESSION RUN_ID OUT.json [STOP_AFTER_SECONDS
                    [HOLD_DIR MID IDLE]]

SESSIONS threads send MESSAGES messages in total, PER_SESSION per SMTP connection (then
QUIT and reconnect). Message n has "Subject: load-hold RUN_ID-n" when n is even and
"load-pass RUN_ID-n" when odd, and "X-Load-Id: RUN_ID-n". Sender: load-RUN_ID@example.org.
A 4xx/5xx reply or a dropped connection is recorded (then a 50 ms pause) and the thread goes
on with its next message (a new connection when needed): like a real client, which keeps a
tempfailed message and retries later.
Held sessions (HOLD_DIR given): MID + IDLE more threads, one message each (n = MESSAGES,
MESSAGES+1, ...), that stop half-way so a test can act on the server while they are open,
whatever the machine's speed:
  mid:  MAIL, RCPT, DATA (354) and the whole message but the final "." are sent, then the
        thread waits for the file HOLD_DIR/release-mid before it sends the "." and reads the
        reply (the message is in flight: the MTA holds the transaction open);
  idle: only EHLO is sent, then it waits for HOLD_DIR/release-idle before the whole message.
Each writes HOLD_DIR/ready-ID ("held", or "failed: why" when it could not get there) once
held, and HOLD_DIR/done-ID with the final reply code (or "none") when its message is answered.
Writes a JSON summary to OUT.json:
  {"sent": N, "accepted": [ids with 250], "tempfail": [ids with 4xx],
   "permfail": [ids with 5xx], "dropped": [ids with no answer], "replies": {code: count},
   "held": {id: "mid" | "idle"}}
Every socket operation has a 60 s timeout; STOP_AFTER_SECONDS (default 600) bounds the run,
the waits of the held sessions included.
"""
import json
import os
import smtplib
import sys
import threading
import time


def main():
    port, sessions, total, per_session = (int(x) for x in sys.argv[1:5])
    run, out = sys.argv[5], sys.argv[6]
    stop_at = time.time() + (float(sys.argv[7]) if len(sys.argv) > 7 else 600)
    lock = threading.Lock()
    next_n = [0]
    hold_dir = sys.argv[8] if len(sys.argv) > 8 else None
    hold_mid, hold_idle = (int(sys.argv[9]), int(sys.argv[10])) if hold_dir else (0, 0)
    res = {"sent": 0, "accepted": [], "tempfail": [], "permfail": [], "dropped": [], "replies": {},
           "held": {}}

    def message(n):
        ident = "%s-%d" % (run, n)
        subject = ("load-hold " if n % 2 == 0 else "load-pass ") + ident
        return ident, ("From: <load-%s@example.org>\r\nTo: <bob@test.local>\r\n"
                       "Date: Fri, 27 Nov 2026 21:00:00 +0000\r\n"
                       "Message-Id: <%s@load.example.org>\r\n"
                       "Subject: %s\r\nX-Load-Id: %s\r\n\r\nLa de da de da %d.\r\n"
                       % (run, ident, subject, ident, n))

    def take():
        with lock:
            if next_n[0] >= total or time.time() > stop_at:
                return None
            next_n[0] += 1
            return next_n[0] - 1

    def record(kind, ident, code):
        with lock:
            res[kind].append(ident)
            res["replies"][str(code)] = res["replies"].get(str(code), 0) + 1

    def worker():
        conn, in_session = None, 0
        while True:
            n = take()
            if n is None:
                break
            ident, msg = message(n)
            with lock:
                res["sent"] += 1
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
                    conn.ehlo("load.example.org")
                    in_session = 0
                # smtplib's mail()/rcpt() and the final reply of data() return error codes
                # instead of raising: check every one.
                for step in (lambda: conn.mail("load-%s@example.org" % run),
                             lambda: conn.rcpt("bob@test.local"),
                             lambda: conn.data(msg.encode())):
                    code, text = step()
                    if code >= 400:
                        raise smtplib.SMTPResponseException(code, text)
                if code != 250:
                    raise smtplib.SMTPResponseException(code, b"unexpected reply")
                record("accepted", ident, code)
            except smtplib.SMTPResponseException as e:
                record("tempfail" if 400 <= e.smtp_code < 500 else "permfail", ident, e.smtp_code)
                time.sleep(0.05)  # a real client would retry much later; do not spin
                try:
                    conn.rset()
                except Exception:  # noqa: BLE001 - the session may be gone (421)
                    conn = None
            except (OSError, smtplib.SMTPException):
                record("dropped", ident, "none")
                conn = None
                continue
            in_session += 1
            if conn is not None and in_session >= per_session:
                try:
                    conn.quit()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
        if conn is not None:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001
                pass

    def note(name, text):
        tmp = os.path.join(hold_dir, "." + name)
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.rename(tmp, os.path.join(hold_dir, name))  # the test never sees half a file

    def wait_for(name):
        while not os.path.exists(os.path.join(hold_dir, name)):
            if time.time() > stop_at:
                raise OSError("no %s before the run's time limit" % name)
            time.sleep(0.02)

    def held(n, kind):
        ident, msg = message(n)
        with lock:
            res["sent"] += 1
            res["held"][ident] = kind
        conn, ready, code = None, False, "none"
        try:
            conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
            conn.ehlo("load.example.org")
            if kind == "mid":
                for cmd in ("mail FROM:<load-%s@example.org>" % run, "rcpt TO:<bob@test.local>",
                            "data"):
                    conn.putcmd(cmd)
                    code, text = conn.getreply()
                    if code >= 400 or (cmd == "data" and code != 354):
                        raise smtplib.SMTPResponseException(code, text)
                conn.send(msg.encode())  # CRLF-terminated, no line starts with "."
            note("ready-" + ident, "held")
            ready = True
            wait_for("release-" + kind)
            if kind == "mid":
                conn.send(b".\r\n")
                code, text = conn.getreply()
            else:
                code = 0
                for step in (lambda: conn.mail("load-%s@example.org" % run),
                             lambda: conn.rcpt("bob@test.local"),
                             lambda: conn.data(msg.encode())):
                    code, text = step()
                    if code >= 400:
                        break
            if code == 250:
                record("accepted", ident, code)
            elif 400 <= code < 500:
                record("tempfail", ident, code)
            else:
                record("permfail", ident, code)
        except smtplib.SMTPResponseException as e:
            code = e.smtp_code
            record("tempfail" if 400 <= code < 500 else "permfail", ident, code)
        except (OSError, smtplib.SMTPException) as e:
            record("dropped", ident, "none")
            if not ready:
                note("ready-" + ident, "failed: %s" % e)
                ready = True
        if not ready:
            note("ready-" + ident, "failed: reply %s before the hold point" % code)
        note("done-" + ident, str(code))
        try:
            conn.quit()
        except Exception:  # noqa: BLE001 - the session may be gone
            pass

    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    threads += [threading.Thread(target=held, args=(total + k, "mid")) for k in range(hold_mid)]
    threads += [threading.Thread(target=held, args=(total + hold_mid + k, "idle"))
                for k in range(hold_idle)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump(res, f)
    print("sent=%d accepted=%d tempfail=%d permfail=%d dropped=%d replies=%s" % (
        res["sent"], len(res["accepted"]), len(res["tempfail"]), len(res["permfail"]),
        len(res["dropped"]), json.dumps(res["replies"], sort_keys=True)))


if __name__ == "__main__":
    main()
