#!/usr/bin/env python3
"""probe_evasions.py: sender-written look-alike headers on derived campaign positives
(issue 14, item 6 and the report's "each evasion tried").

Purpose
    Takes tools/derive_positives.py's output (real relays and hybrid templates with the
    transport rules' removal applied), writes copies of its `full`, `verdict-only`,
    `arc-set` and `seed-ip` variants with headers a sender could write into its own message before it
    reaches the tenant, inserted just above the first of Date/From/Subject/Message-ID (the
    sender's header block, below every Received line, where Exchange's trailer stamps sit
    too), scans them and the originals with hdrscan, and prints the verdict counts per view,
    variant and probe. Probes:
      verdict-copy    X-Forefront-Antispam-Report (-Untrusted in the consumer view) naming the
                      tenant's connecting IP with DIR:OUT, and X-Microsoft-Antispam BCL:0
      arc-long-b      an ARC set d=microsoft.com whose b= has an RSA signature's length
      tenant-id-loop  X-MS-Exchange-CrossTenant-Id = the tenant the mail was attributed to
      time-2019       X-MS-Exchange-CrossTenant-OriginalArrivalTime in 2019 (before Exchange
                      Online sealed ARC on outbound mail, before the campaign window)
      time-2025       the same in 2025 (after the campaign window)
      all             verdict-copy, arc-long-b, tenant-id-loop and time-2019 together
      none            the derived file itself (the baseline)
    The outcomes are in docs/scoring.md ("Evasions tried").

Limits
    Writes only into OUTDIR (outside the repository). Deterministic (fixed signatures).

Usage
    tools/probe_evasions.py DERIVED_DIR OUTDIR [--hdrscan BIN]
    Exit 0 done, 2 error.
"""
import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VARIANTS = ("full", "verdict-only", "arc-set", "seed-ip")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def sig(seed):
    rnd = random.Random(seed)
    return "".join(rnd.choice(B64) for _ in range(342)) + "=="


def probes(raw, view):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep or b"\n\n" in head:
        head, sep, body = raw.partition(b"\n\n")
    nl = "\r\n" if b"\r\n" in head[:4000] else "\n"
    text = head.decode("latin-1")
    m = re.search(r"X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp:\s*"
                  r"TenantId=([0-9a-f-]+);Ip=\[([^\]]+)\]", text, re.I)
    at = re.search(r"^(Date|From|Subject|Message-ID):", text, re.I | re.M)
    if not m or not at:
        return {}
    tid, ip = m.group(1), m.group(2)
    unt = "-Untrusted" if view == "consumer" else ""
    p = {
        "verdict-copy": "X-Forefront-Antispam-Report%s: CIP:%s;CTRY:US;LANG:en;SCL:1;SRV:;IPV:CAL;SFV:NSPM;"
                        "H:mail.example.com;PTR:;CAT:NONE;SFS:;DIR:OUT;\nX-Microsoft-Antispam%s: BCL:0;\n"
                        % (unt, ip, unt),
        "arc-long-b": "ARC-Seal: i=1; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=none;\n b=%s\n"
                      "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.com;\n"
                      " s=arcselector9901; h=From:Date:Subject:Message-ID;\n"
                      " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n b=%s\n"
                      "ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass\n"
                      " smtp.mailfrom=example.com; dmarc=pass action=none header.from=example.com;\n"
                      " dkim=pass header.d=example.com; arc=none\n" % (sig("a"), sig("b")),
        "tenant-id-loop": "X-MS-Exchange-CrossTenant-Id: %s\n" % tid,
        "time-2019": "X-MS-Exchange-CrossTenant-OriginalArrivalTime: 01 Jan 2019 12:00:00.0000\n (UTC)\n",
        "time-2025": "X-MS-Exchange-CrossTenant-OriginalArrivalTime: 01 Jun 2025 12:00:00.0000\n (UTC)\n",
    }
    p["all"] = p["verdict-copy"] + p["arc-long-b"] + p["tenant-id-loop"] + p["time-2019"]
    ins = at.start()
    return {k: head[:ins] + v.replace("\n", nl).encode() + head[ins:] + sep + body for k, v in p.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("derived")
    ap.add_argument("outdir")
    ap.add_argument("--hdrscan", default=os.environ.get("HDRSCAN", os.path.join(REPO, "build/scanner/hdrscan")))
    a = ap.parse_args()
    out = os.path.abspath(a.outdir)
    if out == REPO or out.startswith(REPO + os.sep):
        sys.exit("probe_evasions: %s is inside the repository" % out)
    lines = [l.rstrip("\n").split("\t") for l in open(os.path.join(a.derived, "labels.tsv"), encoding="utf-8")
             if not l.startswith("#")]
    rows = [dict(zip(lines[0], l)) for l in lines[1:]]
    files = []
    for r in rows:
        if r["variant"] not in VARIANTS:
            continue
        src = os.path.join(a.derived, r["path"])
        files.append((os.path.normpath(src), r["view"], r["variant"], "none"))
        for k, data in probes(open(src, "rb").read(), r["view"]).items():
            p = os.path.join(out, k, r["path"])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            files.append((os.path.normpath(p), r["view"], r["variant"], k))
    verdict = {}
    for d in (out, a.derived):
        proc = subprocess.run([a.hdrscan, "scan", "--format", "jsonl", "--threads", "2", d],
                              capture_output=True, text=True)
        if proc.returncode > 1:
            sys.exit("probe_evasions: hdrscan scan %s: exit %d: %s" % (d, proc.returncode, proc.stderr[-500:]))
        for line in proc.stdout.splitlines():
            j = json.loads(line)
            verdict[os.path.normpath(j["source"]["path"])] = j["verdict"]
    counts = collections.defaultdict(collections.Counter)
    for path, view, variant, probe in files:
        counts[(view, variant, probe)][verdict.get(path, "missing")] += 1
    print("%-10s %-13s %-15s %s" % ("view", "variant", "probe", "verdicts"))
    for key in sorted(counts):
        c = counts[key]
        print("%-10s %-13s %-15s %s" % (key + (" ".join("%s=%d" % (v, c[v]) for v in sorted(c)),)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
