#!/usr/bin/env python3
"""bench_gen.py: the benchmark's input, a large realistic mbox written deterministically.

Purpose
    Writes OUT/bench.mbox (mboxrd, LF line ends) of at least --size-mb megabytes (10^6 bytes)
    and the one-file-per-message form of its first --files messages (OUT/subset/NNNNNN.eml,
    the same bytes as in the mbox), plus OUT/bench-manifest.tsv (counts and bytes by kind).
    Output depends only on --seed, --size-mb, --files and the templates of tools/gen_corpus.py
    (imported, not copied): same arguments, same bytes.

Mix (by message count; drawn per message from one seeded random stream)
    ham          32%  person-to-person business mail: ISP/corporate route, DKIM, replies with
                      quoted text, some multipart/alternative, some mailing-list headers
    ham+attach    9%  the same with 1-2 attachments (pdf/jpeg/zip/docx/png, base64, 5 KB..1 MB)
    newsletter   15%  gen_corpus esp_newsletter (SES / Mailchimp)
    spam         22%  gen_corpus spam_nonms (variants a and b)
    campaign     10%  gen_corpus campaign_message (both views, on/off-list, full/partial)
    lookalike     9%  gen_corpus hybrid_legit / cloud_legit / related_message
    wrapped       3%  gen_corpus wrap(): user reports and quarantine exports of campaign mail
    Attachment payloads come from a pool of 48 seeded random blobs (generation speed); each
    message gets its own file name, boundary and headers. hdrscan only counts and types them.

Limits
    Python stdlib only. About 1-3 minutes per GB on an idle core.

Usage
    tools/bench_gen.py --out DIR [--size-mb 1100] [--files 4000] [--seed 7]
"""

import argparse
import base64
import datetime as dt
import os
import random
import string
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as gc  # noqa: E402

KINDS = [("ham", 32), ("ham+attach", 9), ("newsletter", 15), ("spam", 22), ("campaign", 10),
         ("lookalike", 9), ("wrapped", 3)]
ATTACH_TYPES = [("application/pdf", "pdf"), ("image/jpeg", "jpg"), ("application/zip", "zip"),
                ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
                ("image/png", "png")]


def attachment_pool(seed):
    r = random.Random(seed * 7919 + 1)
    pool = []
    for i in range(48):
        # mostly small (signatures, invoices), a few large (scans, archives)
        if i < 24:
            n = r.randint(5_000, 50_000)
        elif i < 42:
            n = r.randint(50_000, 250_000)
        else:
            n = r.randint(250_000, 1_000_000)
        enc = base64.b64encode(r.randbytes(n)).decode()
        pool.append("\n".join(enc[j:j + 76] for j in range(0, len(enc), 76)) + "\n")
    return pool


def ham(g, when, pool, attach):
    co, dom = g.company()
    fn, ln = g.person()
    rfn, rln = g.person()
    rco, rdom = g.company()
    sender = "%s.%s@%s" % (fn.lower(), ln.lower(), dom)
    to = "%s.%s@%s" % (rfn.lower(), rln.lower(), rdom)
    reply = g.chance(0.45)
    listmail = not attach and g.chance(0.15)
    subj = g.words(g.r.randint(2, 6)).capitalize()
    if reply:
        subj = g.choice(["Re: ", "RE: ", "Re: Re: ", "AW: ", "Fwd: "]) + subj
    text = gc.business_text(g, fn)
    if reply:
        quoted = gc.business_text(g, rfn)
        text += "\nOn %s, %s %s <%s> wrote:\n" % (gc.rfc2822(when - dt.timedelta(hours=g.r.randint(1, 60))), rfn, rln, to) + \
            "".join("> " + l + "\n" for l in quoted.splitlines())
    alt = g.chance(0.5)
    if alt:
        ch, body = gc.make_body(g, gc.business_html(text), "utf-8", g.choice(["quoted-printable", "8bit", "7bit-entities"]), True)
    else:
        ch, body = gc.encode_part(g, text, "plain", g.choice(["utf-8", "iso-8859-1", "us-ascii"]), g.choice(["7bit", "quoted-printable", "8bit"]))
    if attach:
        b = "----=_NextPart_%s" % g.token(20, string.ascii_letters + string.digits)
        parts = [("".join("%s: %s\n" % kv for kv in ch) + "\n").encode() + body]
        for _ in range(1 if g.chance(0.8) else 2):
            ctype, ext = g.choice(ATTACH_TYPES)
            name = "%s_%s.%s" % (g.choice(["invoice", "report", "scan", "photo", "contract", "minutes", "slides", "budget"]), g.token(6), ext)
            parts.append(("Content-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\n"
                          "Content-Transfer-Encoding: base64\n\n" % (ctype, name, name)).encode() + g.choice(pool).encode())
        body = b"This is a multi-part message in MIME format.\n\n" + b"".join(
            b"--" + b.encode() + b"\n" + p + b"\n" for p in parts) + b"--" + b.encode() + b"--\n"
        ch = [("Content-Type", "multipart/mixed;\n boundary=\"%s\"" % b)]
    ip = "%s%d" % (g.choice(["192.0.2.", "198.51.100.", "203.0.113."]), g.r.randint(2, 250))
    relay = "%s.%s" % (g.choice(["mail", "smtp", "mx1", "out"]), dom)
    mx = "mx.%s" % rdom
    hs = [("Return-Path", "<%s>" % sender),
          ("Delivered-To", to),
          ("Received", "from %s (%s [%s])\n\tby %s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s" % (relay, relay, ip, mx, g.upper(11), to, gc.rfc2822(when))),
          ("Authentication-Results", "%s;\n\tdkim=pass (2048-bit key; unprotected) header.d=%s header.i=@%s header.b=%s;\n\tspf=pass smtp.mailfrom=%s; dmarc=pass header.from=%s" % (mx, dom, dom, g.b64(8), dom, dom)),
          ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s;\n\tt=%d; h=from:to:subject:date:message-id:mime-version;\n\tbh=%s;\n\tb=%s" % (dom, g.choice(["mail", "s1", "2022"]), 1650000000 + g.r.randint(0, 9999999), gc.body_hash(body), g.b64(340))),
          ("Received", "from [10.%d.%d.%d] (unknown [10.%d.%d.%d])\n\t(Authenticated sender: %s)\n\tby %s (Postfix) with ESMTPSA id %s;\n\t%s" % (
              g.r.randint(0, 255), g.r.randint(0, 255), g.r.randint(1, 254), g.r.randint(0, 255), g.r.randint(0, 255), g.r.randint(1, 254),
              sender, relay, g.upper(10), gc.rfc2822(when - dt.timedelta(seconds=g.r.randint(1, 30)))))]
    hs += [("From", "%s %s <%s>" % (fn, ln, sender)), ("To", "%s %s <%s>" % (rfn, rln, to))]
    if g.chance(0.3):
        cfn, cln = g.person()
        hs.append(("Cc", "%s %s <%s.%s@%s>" % (cfn, cln, cfn.lower(), cln.lower(), g.choice([dom, rdom]))))
    hs += [("Subject", subj), ("Date", gc.rfc2822(when, g.choice([0, 60, 120, -300, -420, 330]))),
           ("Message-ID", "<%s.%s@%s>" % (g.token(12), g.token(8), relay))]
    if reply:
        ref = "<%s@%s>" % (g.token(16), rdom)
        hs += [("In-Reply-To", ref), ("References", "<%s@%s>\n %s" % (g.token(16), dom, ref))]
    if listmail:
        lname = g.letters(6)
        hs += [("List-Id", "%s discussion <%s.lists.%s>" % (lname, lname, rdom)),
               ("List-Unsubscribe", "<mailto:%s-leave@lists.%s>" % (lname, rdom)),
               ("Precedence", "list"), ("Sender", "%s-bounces@lists.%s" % (lname, rdom))]
    hs += [("MIME-Version", "1.0"), ("User-Agent", g.choice(["Mozilla/5.0 Thunderbird/102.3.0", "Microsoft Outlook 16.0", "Roundcube Webmail/1.6.0", "Apple Mail (2.3696)"]))] + ch
    return gc.serialize(hs, body, g.chance(0.2))


def make(g, kind, when, pool):
    if kind == "ham":
        return ham(g, when, pool, False)
    if kind == "ham+attach":
        return ham(g, when, pool, True)
    if kind == "newsletter":
        hs, body, _ = gc.esp_newsletter(g, when)
        return gc.serialize(hs, body, g.chance(0.3))
    if kind == "spam":
        hs, body, _ = gc.spam_nonms(g, when, "b" if g.chance(0.35) else "a")
        return gc.serialize(hs, body, g.chance(0.3))
    if kind == "campaign":
        view = g.choice(["consumer", "thirdparty"])
        hs, body, crlf, _, _ = gc.campaign_message(g, view, "onlist" if g.chance(0.5) else "offlist", g.chance(0.6), when)
        return gc.serialize(hs, body, crlf)
    if kind == "lookalike":
        x = g.r.randint(0, 5)
        if x <= 1:
            hs, body, _ = gc.hybrid_legit(g, when, view=g.choice(["thirdparty", "consumer"]))
        elif x <= 3:
            hs, body, _ = gc.cloud_legit(g, when, verdict=g.chance(0.7))
        else:
            hs, body, crlf, _ = gc.related_message(g, g.choice(["consumer", "thirdparty"]), when)
            return gc.serialize(hs, body, crlf)
        return gc.serialize(hs, body, g.chance(0.3))
    # wrapped
    hs, body, crlf, _, m = gc.campaign_message(g, g.choice(["consumer", "thirdparty"]), "onlist", g.chance(0.6), when)
    return gc.wrap(g, g.choice(["report", "quarantine"]), gc.serialize(hs, body, False), m.subject, when, False)


def mboxrd_quote(lf_bytes):
    # mboxrd: every line matching ^>*From  gets one more '>'
    if b"From " not in lf_bytes:
        return lf_bytes
    lines = lf_bytes.split(b"\n")
    for i, l in enumerate(lines):
        if l.lstrip(b">").startswith(b"From "):
            lines[i] = b">" + l
    return b"\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=float, default=1100.0, help="mbox size to reach, in 10^6 bytes")
    ap.add_argument("--files", type=int, default=4000, help="first N messages also as one file each")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "subset"), exist_ok=True)
    rng = random.Random(a.seed)
    g = gc.G(rng)
    pool = attachment_pool(a.seed)
    names = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    target = int(a.size_mb * 1e6)
    stats = {k: [0, 0] for k in names}
    total = 0
    n = 0
    tmp = os.path.join(a.out, "bench.mbox.tmp")
    with open(tmp, "wb", buffering=1 << 20) as mb:
        while total < target:
            kind = rng.choices(names, weights)[0]
            when = gc.when_for(g, n)
            data = make(g, kind, when, pool).replace(b"\r\n", b"\n")
            if n < a.files:
                with open(os.path.join(a.out, "subset", "%06d.eml" % n), "wb") as f:
                    f.write(data)
            if not data.endswith(b"\n"):
                data += b"\n"
            sep = ("From MAILER-DAEMON %s\n" % when.strftime("%a %b %d %H:%M:%S %Y")).encode()
            rec = sep + mboxrd_quote(data) + b"\n"
            mb.write(rec)
            total += len(rec)
            stats[kind][0] += 1
            stats[kind][1] += len(data)
            n += 1
            if n % 5000 == 0:
                sys.stderr.write("\rbench_gen: %d messages, %.0f MB" % (n, total / 1e6))
    os.replace(tmp, os.path.join(a.out, "bench.mbox"))
    with open(os.path.join(a.out, "bench-manifest.tsv"), "w") as f:
        f.write("# bench_gen.py --seed %d --size-mb %g --files %d\nkind\tmessages\tbytes\n" % (a.seed, a.size_mb, a.files))
        for k in names:
            f.write("%s\t%d\t%d\n" % (k, stats[k][0], stats[k][1]))
        f.write("total\t%d\t%d\n" % (n, total))
    sys.stderr.write("\rbench_gen: wrote %d messages, %d bytes to %s/bench.mbox (%d as files)\n" % (n, total, a.out, min(n, a.files)))


if __name__ == "__main__":
    main()
