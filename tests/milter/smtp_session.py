#!/usr/bin/env python3
"""smtp_session.py: send several messages in ONE SMTP session (milter tests).

Usage: smtp_session.py PORT ID=FILE [ID=FILE ...]
Each message gets an "X-Test-Id: ID" header prepended. Prints one line per message:
"ID CODE TEXT" (the server's reply to the end of DATA, or to the failing command).
Exit 0 when the session itself worked (replies may be 4xx/5xx), 1 otherwise.
"""
import smtplib
import sys


def main():
    port = int(sys.argv[1])
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("client.test.local")
    for arg in sys.argv[2:]:
        ident, path = arg.split("=", 1)
        with open(path, "rb") as f:
            data = f.read()
        data = b"X-Test-Id: " + ident.encode() + b"\r\n" + data
        try:
            s.mail("alice@example.org")
            s.rcpt("bob@test.local")
            code, text = s.data(data)
        except smtplib.SMTPResponseException as e:
            code, text = e.smtp_code, e.smtp_error
            s.rset()
        print(ident, code, text.decode(errors="replace").replace("\n", " "), flush=True)
    s.quit()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report and fail
        print("session failed:", e)
        sys.exit(1)
