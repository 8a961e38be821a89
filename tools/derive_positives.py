#!/usr/bin/env python3
"""derive_positives.py: campaign positives derived from REAL mail (issue 14, item 7).

Purpose
    The project's other positives come from tools/gen_corpus.py. This tool instead takes real
    messages from ../shared/corpus and applies what the attacker's transport rules removed
    (../shared/docs/campaign.md section 1.3), in both views, the way the two illustrations in
    ../shared/docs/examples were built (their README says how; `diff` them with their
    templates to see every change):

    consumer    the real connector-relay spam in dev_relays/ (received at outlook.com), with
                the sending tenant's ARC set and verdict removed below the receiver's
                X-IncomingTopHeaderMarker; the receiver's own ARC set then restarts at i=1
                cv=none, its ARC-Authentication-Results says arc=none, and the receiver's
                header count and size stamps shrink by what was removed (all as in
                examples/consumer-view.eml against dev_relays/sample-6423.eml).
    thirdparty  real legitimate hybrid relays (dev_m365_legit/pdx86_connector_*, connector
                relays of dev_field_m365) as the header template, from the first hop that
                received the message from Exchange Online down to the tenant's connector hop;
                the connecting IP and HELO replaced by a real relay's (or a seed IP), SPF and
                DMARC failing as they then would, the content headers and body taken from a
                real lure in dev_relays with the From address in the victim tenant's domain,
                then the same stripping (as in examples/thirdparty-view.eml against
                dev_m365_legit/pdx86_connector_0001.eml).

Variants (the `variant` column; partial patterns are tools/gen_corpus.py's PARTIAL, so recall
per pattern compares across the two sources)
    intact          nothing removed (label `related`: must never be `campaign`); in the
                    consumer view a byte-identical copy of the real relay
    full            the sender tenant's ARC set and its three verdict headers removed
    ams-only, arc-set, seal+ams, verdict-only, forefront-only, ams+forefront, arc+antispam
                    part of them removed (at least one ARC or verdict header left)
    seed-ip         full, and the connecting IP rewritten to one of the 8 seed connector IPs
                    (corpus/indicators/builtin.ind, the blog's EFSkipIPs), every date in the
                    header moved by whole weeks (weekdays stay right) into --window
    header-only     full, body removed (an analyst's pasted header block)
    The sender's chunked X-MS-Exchange-AntiSpam-MessageData-* stay in every variant: a rule
    removes one exact name and the blog names the bare one (campaign.md section 1.3).

Splits
    `split` is `A` or `B` from a SHA-256 of the source's path relative to the corpus folder;
    a third-party message takes its template's half and a lure from the same half, so no real
    message contributes to both halves: fit on one, evaluate on the other.

Limits
    Real ARC/DKIM b= values are kept (they no longer verify, as after any rewrite); bh=
    values are recomputed where the body changed. hdrscan verifies the tenant's ARC-Seal
    with Microsoft's keys (the pack's arc-seal-key entries): in the third-party view, where
    the tenant's AAR and AMS are rewritten, the set names synselector9901/10001 instead of
    arcselector9901/10001 (a selector without a key, as tools/gen_corpus.py does), standing
    for the valid seal Exchange Online would write over the attacker's own message; the
    consumer view keeps the real, verifiable sets of the real relays.
    Seed-ip messages keep their Exchange build numbers (15.20.NNNN), which are later than
    the campaign window; no detector may use them. The honeypot address phishing@pot stays
    in consumer messages (a collection artefact, campaign.md section 3); in third-party
    messages it becomes the template's recipient.
    Sources it cannot use (no receiver marker, no connector hop, no complete tenant ARC set
    and verdict) are counted on stderr by reason, never silently.
    Deterministic: output depends only on --seed, the inputs and this file.

Usage
    tools/derive_positives.py OUTDIR [--shared DIR] [--seed N] [--window FROM:TO]
                              [--max-consumer N] [--max-thirdparty N] [--per-template N]
    OUTDIR must be outside the repository and empty (or absent); writes OUTDIR/consumer/**,
    OUTDIR/thirdparty/**, OUTDIR/labels.tsv (tools/eval reads it with --derived OUTDIR).
    Exit 0 done, 2 error.
"""

import argparse
import datetime as dt
import email.utils
import hashlib
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from gen_corpus import PARTIAL, TP_ARC, TP_VERDICT, CS_VERDICT, body_hash  # noqa: E402

VARIANTS = ["intact", "full", "ams-only", "arc-set", "seal+ams", "verdict-only",
            "forefront-only", "ams+forefront", "arc+antispam", "seed-ip", "header-only"]
# The campaign window: the blog (../shared/docs/seed-microsoft-blog-2022-09.txt) was published
# 2022-09-22 and describes waves before it; tools/gen_corpus.py puts 70% of its campaign mail
# in June-September 2022. A parameter: the detector's window is the lead's decision (issue 14.2).
DEFAULT_WINDOW = "2022-06-01:2022-09-22"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def die(msg):
    sys.stderr.write("derive_positives: %s\n" % msg)
    sys.exit(2)


# ---------------------------------------------------------------------------------------
# A header block as a list of raw fields (name + value + continuation lines + line end),
# so that everything not deliberately changed stays byte for byte.

class Msg:
    def __init__(self, raw):
        i = raw.find(b"\n\n")
        j = raw.find(b"\r\n\r\n")
        if j >= 0 and (i < 0 or j < i):
            head, self.sep, self.body = raw[:j + 2], b"\r\n", raw[j + 4:]
        elif i >= 0:
            head, self.sep, self.body = raw[:i + 1], b"\n", raw[i + 2:]
        else:
            head, self.sep, self.body = raw, b"\n", b""
        self.eol = b"\r\n" if head.endswith(b"\r\n") or self.sep == b"\r\n" else b"\n"
        self.fields = []
        for line in re.findall(rb"[^\n]*\n|[^\n]+$", head):
            if line[:1] in (b" ", b"\t") and self.fields:
                self.fields[-1] += line
            else:
                self.fields.append(line)

    def bytes(self):
        return b"".join(self.fields) + self.sep + self.body


def fname(f):
    return f.split(b":", 1)[0].strip().decode("latin-1").lower()


def fval(f):
    """Unfolded value as text (latin-1 keeps every byte)."""
    v = f.split(b":", 1)[1] if b":" in f else b""
    return re.sub(r"\r?\n[ \t]+", " ", v.decode("latin-1")).strip()


def make_field(name, value, eol):
    """A field from text; value lines separated by '\n ' fold as written."""
    return ("%s: %s" % (name, value)).replace("\n", eol.decode()).encode("latin-1") + eol


def sub_field(f, pattern, repl, flags=0):
    return re.sub(pattern, repl, f.decode("latin-1"), flags=flags).encode("latin-1")


def arc_instance(f):
    m = re.search(r"(?:^|;)\s*i\s*=\s*(\d+)", fval(f))
    return int(m.group(1)) if m else None


IP_RE = r"(?<![0-9A-Fa-f.:])%s(?![0-9A-Fa-f:]|\.\d)"


def replace_ip(f, old, new):
    return sub_field(f, IP_RE % re.escape(old), new)


# ---------------------------------------------------------------------------------------
# What the rules remove. Names: gen_corpus.TP_ARC, TP_VERDICT (as the sending tenant stamps
# them, third-party view) and CS_VERDICT (the same verdict renamed by the outlook.com
# receiver's header firewall: -Untrusted / -Original, campaign.md section 2 and every file
# in dev_relays/).

def removed_names(variant, verdict):
    """Lower-case names removed by a variant; verdict = TP_VERDICT or CS_VERDICT."""
    if variant in ("full", "seed-ip", "header-only"):
        names = TP_ARC + verdict
    elif variant == "intact":
        names = []
    else:
        pat = {p[0]: p for p in PARTIAL}[variant]
        names = list(pat[1])
        if pat[2] == "ALL":
            names += verdict
        else:
            if "forefront" in pat[2]:
                names.append(verdict[0])
            if "antispam" in pat[2]:
                names += verdict[1:]
    return [n.lower() for n in names]


# ---------------------------------------------------------------------------------------
# Dates: seed-ip messages move into the campaign window by a whole number of weeks.

DATE_RE = re.compile(r"(?<!\d)(\d{1,2})(\s+)(%s)(\s+)(\d{4})(\s+)(?=\d{1,2}:\d{2})"
                     % "|".join(MONTHS))
US_RE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
ISO_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?=T\d{2}:\d{2})")


def shift_dates(f, days):
    t = f.decode("latin-1")

    def rfc(m):
        d = dt.date(int(m.group(5)), MONTHS.index(m.group(3)) + 1, int(m.group(1)))
        d += dt.timedelta(days=days)
        day = ("%02d" if len(m.group(1)) == 2 and m.group(1)[0] == "0" else "%d") % d.day
        return "%s%s%s%s%d%s" % (day, m.group(2), MONTHS[d.month - 1], m.group(4), d.year,
                                 m.group(6))

    def us(m):
        d = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))) + dt.timedelta(days=days)
        return "%d/%d/%d" % (d.month, d.day, d.year)

    def iso(m):
        d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + dt.timedelta(days=days)
        return d.isoformat()

    t = DATE_RE.sub(rfc, t)
    if fname(f) == "x-ms-userlastlogontime":
        t = US_RE.sub(us, t)
    t = ISO_RE.sub(iso, t)
    return t.encode("latin-1")


def arrival_date(msg):
    """Exchange Online's own arrival stamp (the last one: the tenant nearest the sender)."""
    when = None
    for f in msg.fields:
        if fname(f) == "x-ms-exchange-crosstenant-originalarrivaltime":
            m = re.match(r"(\d{1,2}) (\w{3}) (\d{4})", fval(f))
            if m and m.group(2) in MONTHS:
                when = dt.date(int(m.group(3)), MONTHS.index(m.group(2)) + 1, int(m.group(1)))
    if when is None:  # no Exchange stamp: the Date header
        for f in msg.fields:
            if fname(f) == "date":
                try:
                    return email.utils.parsedate_to_datetime(fval(f)).date()
                except (TypeError, ValueError):
                    pass
        die("no arrival time in a message chosen for seed-ip")
    return when


def week_shift(rng, when, window):
    a, b = window
    target = a + dt.timedelta(days=rng.randrange((b - a).days + 1))
    days = round((target - when).days / 7) * 7
    while when + dt.timedelta(days=days) > b:
        days -= 7
    while when + dt.timedelta(days=days) < a:
        days += 7
    return days


def seed_ips():
    """The 8 connector IPs: `connector-ip` lines under the blog's EFSkipIPs @source in the pack."""
    ips, in_blog = [], False
    with open(os.path.join(REPO, "corpus", "indicators", "builtin.ind"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("@source"):
                in_blog = "EFSkipIPs" in line
            elif in_blog and line.startswith("connector-ip "):
                ips.append(line.split()[1])
    if len(ips) != 8:
        die("expected the 8 seed connector IPs in corpus/indicators/builtin.ind, found %d"
            % len(ips))
    return ips


# ---------------------------------------------------------------------------------------
# Consumer view (dev_relays)

def connecting(msg):
    """(tenant id, IP, HELO) of the last OriginalAttributedTenantConnectingIp."""
    got = None
    for f in msg.fields:
        if fname(f) == "x-ms-exchange-crosstenant-originalattributedtenantconnectingip":
            m = re.search(r"TenantId=([^;]*);Ip=\[([^\]]*)\];Helo=\[([^\]]*)\]", fval(f))
            if m:
                got = m.groups()
    return got


def consumer_check(msg):
    """Reason the relay cannot be used, or None. Needs the receiver's marker, below it a
    complete i=1 ARC set and the three renamed verdict headers, and a connecting IP."""
    names = [fname(f) for f in msg.fields]
    if "x-incomingtopheadermarker" not in names:
        return "no X-IncomingTopHeaderMarker"
    k = names.index("x-incomingtopheadermarker")
    below = msg.fields[k + 1:]
    for n in TP_ARC:
        if not [f for f in below if fname(f) == n.lower() and arc_instance(f) == 1]:
            return "no sender %s i=1 below the marker" % n
    for n in CS_VERDICT:
        if n.lower() not in names[k + 1:]:
            return "no %s" % n
    if not connecting(msg):
        return "no OriginalAttributedTenantConnectingIp"
    return None


def consumer_variant(raw, variant, rng, window, seeds):
    if variant == "intact":
        return raw, {}
    msg = Msg(raw)
    names = [fname(f) for f in msg.fields]
    k = names.index("x-incomingtopheadermarker")
    rm = set(removed_names(variant, CS_VERDICT))
    keep, gone = [], []
    for i, f in enumerate(msg.fields):
        n = fname(f)
        drop = i > k and n in rm and (not n.startswith("arc-") or arc_instance(f) == 1)
        (gone if drop else keep).append(f)
    arc_gone = {fname(f) for f in gone if fname(f).startswith("arc-")}
    out = []
    for i, f in enumerate(keep):
        n = fname(f)
        above = i < k  # nothing above the marker is removed
        if above and n.startswith("arc-") and arc_instance(f) == 2 and arc_gone:
            if len(arc_gone) == 3:
                # the receiver saw no earlier ARC set: its own starts the chain (examples README)
                f = sub_field(f, r"\bi\s*=\s*2\b", "i=1", re.I)
                f = sub_field(f, r"\bcv\s*=\s*\w+", "cv=none", re.I)
                f = sub_field(f, r"\barc=\w+(?:\s*\([^)]*\))?", "arc=none")
            else:
                # an incomplete earlier set does not validate (RFC 8617 section 5.2: cv=fail)
                f = sub_field(f, r"\bcv\s*=\s*\w+", "cv=fail", re.I)
                f = sub_field(f, r"\barc=\w+(?:\s*\([^)]*\))?", "arc=fail")
        out.append(f)
    # the receiver counts what it received (X-IncomingHeaderCount and the marker's Count and
    # SizeAsReceived are one less per removed field: 37 -> 31 and 8236 -> 2753 in the example)
    ngone, size = len(gone), sum(len(f) for f in gone)
    counts = [(int(fval(f)), i) for i, f in enumerate(out)
              if fname(f) == "x-incomingheadercount" and fval(f).isdigit()]
    if counts and ngone:
        c, i = max(counts)
        out[i] = sub_field(out[i], r"\d+", str(max(0, c - ngone)))
    for i, f in enumerate(out):
        if fname(f) == "x-incomingtopheadermarker" and ngone:
            f = sub_field(f, r"Count:(\d+)", lambda m: "Count:%d" % max(0, int(m.group(1)) - ngone))
            f = sub_field(f, r"SizeAsReceived:(\d+)",
                          lambda m: "SizeAsReceived:%d" % max(0, int(m.group(1)) - size))
            out[i] = f
    msg.fields = out
    info = {}
    if variant == "seed-ip":
        _tid, ip, _helo = connecting(msg)
        new = rng.choice(seeds)
        days = week_shift(rng, arrival_date(msg), window)
        msg.fields = [shift_dates(replace_ip(f, ip, new), days) for f in msg.fields]
        info = {"ip": new, "was": ip, "shift_days": days}
    if variant == "header-only":
        msg.fields = [f for f in msg.fields if fname(f) != "content-length"]
        msg.body = b""
    return msg.bytes(), info


# ---------------------------------------------------------------------------------------
# Third-party view (legitimate hybrid relays as header templates, dev_relays lures as content)

def hop_parts(f):
    v = fval(f)
    m = re.match(r"from\s+(.*?)\s+by\s+(\S+)", v, re.S)
    return (m.group(1), m.group(2)) if m else ("", "")


# Exchange Online egress: the hop whose sender is an outbound.protection.outlook.com host
# (e.g. "from mail-eopbgr70077.outbound.protection.outlook.com ... by vger.kernel.org" in
# dev_m365_legit/pdx86_connector_0001.eml) and whose receiver is not Microsoft.
def is_egress(f):
    frm, by = hop_parts(f)
    return "outbound.protection.outlook.com" in frm.lower() and not re.search(
        r"outlook\.com|office365\.com", by, re.I)


# The tenant's connector hop: "from hybrid.siemens.com (194.138.21.72) by
# DB5EUR01FT033.mail.protection.outlook.com ... via Frontend Transport" (same file).
def is_connector_hop(f):
    frm, by = hop_parts(f)
    return by.lower().endswith(".mail.protection.outlook.com") and "outlook.com" not in frm.lower()


# Kept below the connector hop: what Exchange Online stamps at the sending tenant. Dropped: the
# message's own content headers (replaced by the lure's) and what the tenant's on-premises
# Exchange or Outlook wrote (X-Originating-IP, X-ClientProxiedBy, X-MS-Has-Attach...), which
# an attacker's SMTP server does not write: examples/thirdparty-view.eml drops them likewise.
MS_STAMP = re.compile(r"^(x-ms-|x-microsoft-|x-forefront-|x-eop|x-originatororg$|received-spf$|"
                      r"arc-|dkim-signature$)")
# below the connector hop only the trailer Exchange Online appends at the bottom counts; ARC,
# DKIM and SPF results there belong to an earlier pass through Exchange Online
TRAILER = re.compile(r"^(x-ms-|x-microsoft-|x-forefront-|x-eop|x-originatororg$)")
ONPREM = {"x-ms-has-attach", "x-ms-tnef-correlator", "x-ms-exchange-messagesentrepresentingtype",
          "x-ms-exchange-transport-fromentityheader"}
ONPREM_PREFIX = "x-ms-exchange-organization-"  # the organization's own transport stamps


def template_check(msg):
    """(reason, None) or (None, (egress index, connector index))."""
    rec = [i for i, f in enumerate(msg.fields) if fname(f) == "received"]
    eg = [i for i in rec if is_egress(msg.fields[i])]
    co = [i for i in rec if is_connector_hop(msg.fields[i])]
    if not eg:
        return "no Exchange Online egress hop", None
    if not co:
        return "no connector hop", None
    # the connector hop of the tenant's last pass: the first one below the egress hop (a
    # tenant whose mail loops through an outbound gateway such as Tessian or SEPPmail and back
    # in has an earlier pass below it, e.g. dev_field_m365/linux-gpio/00046.eml)
    e = eg[0]
    co = [i for i in co if i > e]
    if not co:
        return "no connector hop below the egress hop", None
    c = co[0]
    # the tenant's ARC set is the one sealed by microsoft.com (i=1); a receiver's own set
    # (e.g. subspace.kernel.org's i=2, written below its Received hop) is dropped with the
    # receiver's Authentication-Results; a chain with two Microsoft sets (the tenant's mail
    # looping through a gateway back into Exchange Online) is ambiguous and not used
    seals = [f for f in msg.fields[e:c] if fname(f) == "arc-seal"
             and "d=microsoft.com" in fval(f).replace(" ", "")]
    if len(seals) != 1 or arc_instance(seals[0]) != 1:
        return "not exactly one tenant ARC set (i=1, d=microsoft.com)", None
    names = [fname(f) for f in msg.fields[e:c]
             if fname(f).startswith("arc-") and arc_instance(f) == 1]
    names += [fname(f) for f in msg.fields[c:] if TRAILER.match(fname(f))]
    for n in TP_ARC + TP_VERDICT:
        if names.count(n.lower()) != 1:
            return "%s not exactly once" % n, None
    # an earlier pass leaves renamed verdicts and a header-firewall stamp in the trailer (mail
    # looping through CodeTwo, SEPPmail...: dev_field_m365/linux-gpio/00142.eml); the
    # attacker's relay makes one pass only, so such a template would carry foreign leftovers
    for f in msg.fields[c:]:
        n = fname(f)
        if n.endswith(("-untrusted", "-original", "crosstenantheadersstripped")):
            name = f.split(b":", 1)[0].decode("latin-1")
            return "an earlier pass through Exchange Online (%s)" % name, None
    if "hybridonprem" not in " ".join(fval(f).lower() for f in msg.fields
                                      if fname(f) == "x-ms-exchange-crosstenant-fromentityheader"):
        return "not FromEntityHeader HybridOnPrem", None
    if not connecting(msg):
        return "no OriginalAttributedTenantConnectingIp", None
    return None, (e, c)


ADDR_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def recipient(msg):
    for n in ("x-mailing-list", "to"):
        for f in msg.fields:
            if fname(f) == n:
                m = ADDR_RE.search(fval(f))
                if m:
                    return m.group(0)
    return "postmaster@example.net"


def victim_domain(msg):
    for n in ("x-originatororg", "from"):
        for f in msg.fields:
            if fname(f) == n:
                v = fval(f)
                m = ADDR_RE.search(v)
                d = m.group(0).split("@")[1] if m else v.strip()
                if re.fullmatch(r"[\w-]+(\.[\w-]+)+", d):
                    return d.lower()
    return None


CONTENT = ("from", "subject", "mime-version", "content-type", "content-transfer-encoding")


def raw_field(name, rawvalue, eol):
    """A field from a value kept raw (its own folding and bytes, the template's line ends)."""
    v = rawvalue.replace("\r\n", "\n").rstrip("\n").replace("\n", eol.decode())
    return (name + ":" + v).encode("latin-1") + eol


def lure_parts(lure):
    """Content headers and body of a dev_relays lure (phishing@pot removed from the Subject)."""
    got = {}
    for f in lure.fields:
        n = fname(f)
        if n in CONTENT and n not in got:
            got[n] = f.split(b":", 1)[1].decode("latin-1")
    if "from" not in got or "content-type" not in got or not ADDR_RE.search(got["from"]):
        return None  # e.g. From: "..." <> (two relays): no local part to put in the victim's domain
    got["subject"] = re.sub(r"\s*phishing@pot", "", got.get("subject", " (no subject)"))
    return got


def thirdparty_variant(tpl_raw, lure_raw, variant, rng, window, seeds):
    tpl, lure = Msg(tpl_raw), Msg(lure_raw)
    _r, (e, c) = template_check(tpl)
    eol = tpl.eol
    dom = victim_domain(tpl)
    rcpt = recipient(tpl)
    lp = lure_parts(lure)
    tid, old_ip, old_helo = connecting(tpl)
    _ltid, new_ip, new_helo = connecting(lure)  # the real attacker's connecting IP and HELO
    info = {"ip": new_ip, "helo": new_helo, "victim": dom}
    if variant == "seed-ip":
        new_ip = rng.choice(seeds)
        info["ip"] = new_ip
    fields = []
    for i, f in enumerate(tpl.fields):
        n = fname(f)
        if i < e:
            continue  # above the first receiver: list servers, subscribers (campaign.md 3)
        if i > c and (not TRAILER.match(n) or n in ONPREM or n.startswith(ONPREM_PREFIX)):
            continue  # the tenant's on-premises hops and content: the attacker's relay has none
        if e < i < c and n != "received" and not MS_STAMP.match(n):
            continue  # the receiver's own stamps below its hop (Authentication-Results...)
        if n.startswith("arc-") and arc_instance(f) != 1:
            continue
        if i == c:
            f = sub_field(f, r"^(Received:\s*from\s+)\S+(\s+\()[^)]*\)",
                          lambda m: "%s%s%s%s)" % (m.group(1), new_helo, m.group(2), new_ip), re.I)
        fields.append(f)
        if i == c:
            fields.append(None)  # where the lure's content headers go
    out = []
    for f in fields:
        if f is None:
            mid = "<%s@%s>" % ("%08x-%04x-%010x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                     rng.getrandbits(40)), dom)
            frm = re.sub(r"<([^<>@\s]+)@[^<>\s]+>", lambda m: "<%s@%s>" % (m.group(1), dom),
                         lp["from"])
            if frm == lp["from"]:
                frm = re.sub(r"([^\s<>@]+)@\S+", lambda m: "%s@%s" % (m.group(1), dom), lp["from"])
            date = [fval(g) for g in tpl.fields if fname(g) == "date"]
            out.append(make_field("Date", date[0] if date else "", eol))
            out.append(make_field("Message-ID", mid, eol))
            out.append(raw_field("From", frm, eol))
            out.append(make_field("To", "<%s>" % rcpt, eol))
            out.append(raw_field("Subject", lp["subject"], eol))
            out.append(raw_field("MIME-Version", lp.get("mime-version", " 1.0"), eol))
            for n, name in (("content-type", "Content-Type"),
                            ("content-transfer-encoding", "Content-Transfer-Encoding")):
                if n in lp:
                    out.append(raw_field(name, lp[n], eol))
            continue
        n = fname(f)
        if n == "received-spf" and "protection.outlook.com" in fval(f):
            # SPF of the victim's domain fails for the attacker's IP (examples/thirdparty-view.eml)
            f = make_field("Received-SPF", "Fail (protection.outlook.com: domain of %s does not\n"
                           " designate %s as permitted sender)\n receiver=protection.outlook.com;"
                           " client-ip=%s;\n helo=%s;" % (dom, new_ip, new_ip, new_helo), eol)
        elif n == "x-ms-exchange-authentication-results":
            f = make_field("X-MS-Exchange-Authentication-Results",
                           "spf=fail (sender IP is %s)\n smtp.mailfrom=%s; dkim=none (message not"
                           " signed)\n header.d=none;dmarc=fail action=none header.from=%s;"
                           % (new_ip, dom, dom), eol)
        elif n == "x-ms-exchange-crosstenant-originalattributedtenantconnectingip":
            f = make_field(f.split(b":", 1)[0].decode("latin-1"), "TenantId=%s;Ip=[%s];Helo=[%s]"
                           % (tid, new_ip, new_helo), eol)
        elif n in ("arc-seal", "arc-message-signature"):
            # the AAR and the AMS's bh= are rewritten: see Limits (synselector)
            f = sub_field(f, r"\bs=(\s*)arcselector", r"s=\1synselector")
        elif n == "arc-authentication-results":
            f = sub_field(f, r"\bspf=\w+", "spf=fail")
            f = sub_field(f, r"\bdmarc=\w+", "dmarc=fail")
            f = sub_field(f, r"smtp\.mailfrom=[\w.-]+", "smtp.mailfrom=" + dom)
            f = sub_field(f, r"header\.from=[\w.-]+", "header.from=" + dom)
        elif n == "x-forefront-antispam-report":
            f = sub_field(f, r"\bH:[^;]*", "H:" + new_helo)
        f = replace_ip(f, old_ip, new_ip)
        out.append(f)
    body = lure.body.replace(b"phishing@pot", rcpt.encode())
    body = body.replace(b"\r\n", b"\n")
    if eol == b"\r\n":
        body = body.replace(b"\n", b"\r\n")
    # signatures over the new body: recompute bh= with the body canonicalization of c=
    for i, f in enumerate(out):
        if fname(f) in ("dkim-signature", "arc-message-signature"):
            m = re.search(r"\bc=\s*([\w]+)(?:/(\w+))?", fval(f))
            canon = (m.group(2) or "simple") if m else "simple"
            out[i] = sub_field(f, r"bh=[A-Za-z0-9+/=\s]+;", "bh=%s;" % body_hash(body, canon))
    return_path = make_field("Return-Path", "<%s>" % ADDR_RE.search(out_from(out)).group(0), eol)
    msg = Msg(b"")
    msg.fields, msg.sep, msg.body = [return_path] + out, eol, body
    # the rules' removal, then the variant's extras
    rm = set(removed_names(variant, TP_VERDICT))
    msg.fields = [f for f in msg.fields if fname(f) not in rm]
    if variant == "seed-ip":
        days = week_shift(rng, arrival_date(msg), window)
        msg.fields = [shift_dates(f, days) for f in msg.fields]
        info["shift_days"] = days
    if variant == "header-only":
        msg.body = b""
    return msg.bytes(), info


def out_from(fields):
    for f in fields:
        if f and fname(f) == "from":
            return fval(f)
    return ""


# ---------------------------------------------------------------------------------------

def half(relpath):
    return "AB"[hashlib.sha256(relpath.encode()).digest()[0] & 1]


def list_eml(folder):
    out = []
    for dp, dn, fn in os.walk(folder):
        dn.sort()
        out += [os.path.join(dp, f) for f in sorted(fn) if f.endswith(".eml")]
    return out


def field_relays(shared):
    """dev_field_m365 messages labelled has_connector_relay=1 (its labels.tsv)."""
    lab = os.path.join(shared, "dev_field_m365", "labels.tsv")
    rows = []
    with open(lab, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            d = dict(zip(head, line.rstrip("\n").split("\t")))
            if d.get("has_connector_relay") == "1":
                rows.append(os.path.join(shared, "dev_field_m365", d["path"]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared", "corpus"),
                    help="the shared corpus folder (default ../shared/corpus)")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--window", default=DEFAULT_WINDOW,
                    help="campaign window FROM:TO (ISO dates) for seed-ip")
    ap.add_argument("--max-consumer", type=int,
                    help="use at most N dev_relays sources (by hash order)")
    ap.add_argument("--max-thirdparty", type=int,
                    help="use at most N hybrid-relay templates (by hash order)")
    ap.add_argument("--per-template", type=int, default=1,
                    help="stripped variants per third-party template, besides its intact copy "
                         "(default 1)")
    a = ap.parse_args()

    out = os.path.abspath(a.outdir)
    if os.path.commonpath([out, REPO]) == REPO:
        die("%s is inside the repository; derived mail must not be committed "
            "(use e.g. /tmp/derived)" % out)
    if os.path.exists(out) and os.listdir(out):
        die("%s exists and is not empty" % out)
    try:
        w = [dt.date.fromisoformat(x) for x in a.window.split(":")]
        window = (w[0], w[1])
        if (window[1] - window[0]).days < 7:
            raise ValueError
    except (ValueError, IndexError):
        die("--window wants FROM:TO, ISO dates at least 7 days apart")
    shared = os.path.abspath(a.shared)
    for p in ("dev_relays", "dev_m365_legit", "dev_field_m365/labels.tsv"):
        if not os.path.exists(os.path.join(shared, p)):
            die("missing %s" % os.path.join(shared, p))
    seeds = seed_ips()
    rel = lambda p: os.path.relpath(p, shared).replace(os.sep, "/")
    order = lambda p: hashlib.sha256(("%d:%s" % (a.seed, rel(p))).encode()).hexdigest()
    skipped = {}

    # consumer sources
    relays = []
    for p in sorted(list_eml(os.path.join(shared, "dev_relays")), key=order):
        raw = open(p, "rb").read()
        why = consumer_check(Msg(raw))
        if why:
            skipped["consumer: " + why] = skipped.get("consumer: " + why, 0) + 1
            continue
        relays.append((p, raw))
    lures = {h: [(p, raw) for p, raw in relays if half(rel(p)) == h and lure_parts(Msg(raw))]
             for h in "AB"}
    if a.max_consumer is not None:
        relays = relays[:a.max_consumer]

    # third-party templates
    tpls = []
    cands = [p for p in list_eml(os.path.join(shared, "dev_m365_legit"))
             if "connector" in os.path.basename(p)]
    cands += field_relays(shared)
    for p in sorted(cands, key=order):
        if a.max_thirdparty is not None and len(tpls) >= a.max_thirdparty:
            break
        raw = open(p, "rb").read()
        why, _ = template_check(Msg(raw))
        if not why and not victim_domain(Msg(raw)):
            why = "no victim domain"
        if why:
            skipped["thirdparty: " + why] = skipped.get("thirdparty: " + why, 0) + 1
            continue
        tpls.append((p, raw))

    rows = []

    def write(view, variant, src, data, label, split, notes):
        stem = rel(src)[:-4].replace("/", "_")
        path = "%s/%s/%s.eml" % (view, variant, stem)
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        rows.append((path, label, view, variant, split, rel(src),
                     ";".join("%s=%s" % kv for kv in sorted(notes.items()))))

    for p, raw in relays:
        for v in VARIANTS:
            rng = random.Random("%d:c:%s:%s" % (a.seed, rel(p), v))
            data, info = consumer_variant(raw, v, rng, window, seeds)
            label = "related" if v == "intact" else "campaign"
            write("consumer", v, p, data, label, half(rel(p)), info)

    stripped = VARIANTS[1:]
    cycle = random.Random("%d:cycle" % a.seed)
    order_v = []
    for p, raw in tpls:
        h = half(rel(p))
        if not lures[h]:
            die("no usable lure in split half %s" % h)
        rng = random.Random("%d:t:%s" % (a.seed, rel(p)))
        lp, lraw = lures[h][rng.randrange(len(lures[h]))]
        picks = ["intact"]
        for _ in range(max(0, a.per_template)):
            if not order_v:
                order_v = stripped[:]
                cycle.shuffle(order_v)
            picks.append(order_v.pop())
        for v in picks:
            vr = random.Random("%d:t:%s:%s" % (a.seed, rel(p), v))
            data, info = thirdparty_variant(raw, lraw, v, vr, window, seeds)
            info["lure"] = rel(lp)
            write("thirdparty", v, p, data, "related" if v == "intact" else "campaign", h, info)

    with open(os.path.join(out, "labels.tsv"), "w", encoding="utf-8") as f:
        f.write("# derived positives (tools/derive_positives.py --seed %d --window %s); "
                "sources under %s\n" % (a.seed, a.window, shared))
        f.write("# label: campaign = a stripped variant; related = intact "
                "(must never be campaign)\n")
        f.write("path\tlabel\tview\tvariant\tsplit\tsource\tnotes\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    for k in sorted(skipped):
        sys.stderr.write("derive_positives: skipped %d source(s): %s\n" % (skipped[k], k))
    sys.stderr.write("derive_positives: %d files (%d consumer sources, %d third-party "
                     "templates) in %s\n" % (len(rows), len(relays), len(tpls), out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
