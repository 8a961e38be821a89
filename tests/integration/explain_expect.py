#!/usr/bin/env python3
"""explain_expect.py: independent expectations for `hdrscan explain --format json` (issue 14).

Usage: explain_expect.py EXPLAIN.json MESSAGE.eml EXPECTED_VERDICT [EXPLAIN.json MESSAGE.eml EXPECTED_VERDICT]...

EXPECTED_VERDICT is the corpus label's verdict (campaign, suspicious, clean) or "not-campaign"
(a real template that must not score campaign). Everything expected here is computed from the
raw message with the Python standard library only (email.parser, re, ipaddress): nothing comes
from hdrscan's parsers or from `hdrscan scan` (whose record explain also prints, so comparing
the two could not catch a wrong value). Checked:
  - the Received hops, oldest first: from host, by host, and the connecting IP of the from
    clause (bracketed or parenthesised address literal);
  - every X-Forefront-Antispam-Report(-Untrusted): the CIP, IPV, SFV, SCL and DIR pairs, each
    split on its FIRST colon (an IPv6 CIP keeps its colons);
  - X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp: tenant id and IP;
    X-MS-Exchange-CrossTenant-Id: the tenant GUID;
  - Authentication-Results / ARC-Authentication-Results: authserv-id, ARC instance, and the
    result of every spf/dkim/dmarc/arc/compauth method;
  - the verdict, against the label;
and explain's own structure (structure() below: hop order and delays, zones in route order,
every evidence signal a fired check, one decoded row per antispam pair).
Prints one line of counts per message; exit status 1 (with every difference) when anything
disagrees, or when a message gave fewer facts to compare than it visibly holds (a check that
compared nothing cannot pass).
"""
import email.parser
import email.policy
import ipaddress
import json
import re
import sys

METHODS = ("spf", "dkim", "dmarc", "arc", "compauth")
ANTISPAM_KEYS = ("CIP", "IPV", "SFV", "SCL", "DIR")


def unfold(v):
    """RFC 5322 unfolding: CRLF/LF before white space removed; runs of white space kept as one."""
    return re.sub(r"\s+", " ", re.sub(r"\r?\n(?=[ \t])", "", v)).strip()


def ip_or_none(text):
    t = text.strip()
    if t.lower().startswith("ipv6:"):
        t = t[5:]
    try:
        return ipaddress.ip_address(t)
    except ValueError:
        return None


def expected_hop(value):
    """from / by / from-IP of one Received value (RFC 5321 4.4 shape), or None when the value
    does not have the plain "from X ... by Y" shape (then only the count is compared)."""
    v = unfold(value)
    m = re.match(r"(?i)from\s+(\S+)(.*?)\s+by\s+(\S+)", v)
    if not m:
        return None
    from_host, from_rest, by_host = m.group(1), m.group(2), m.group(3).rstrip(";")
    ip = None
    for lit in re.findall(r"\[([^\]\s]+)\]", from_host + " " + from_rest):
        ip = ip_or_none(lit)
        if ip:
            break
    if ip is None:  # Exchange writes "from HOST (2603:10a6:...)" without brackets
        for tok in re.findall(r"\(([^()\s]+)\)", from_rest):
            ip = ip_or_none(tok)
            if ip:
                break
    return {"from": from_host, "by": by_host, "ip": ip}


def kv_pairs(value):
    out = []
    for part in unfold(value).split(";"):
        if not part.strip():
            continue
        key, _, val = part.partition(":")  # the FIRST colon
        out.append((key.strip(), val.strip()))
    return out


def auth_expect(value, arc):
    v = unfold(value)
    inst = None
    if arc:
        m = re.match(r"(?i)i\s*=\s*(\d+)\s*;\s*", v)
        inst = int(m.group(1)) if m else None
        v = v[m.end():] if m else v
    head, sep, rest = v.partition(";")
    if "=" in head or not sep:  # Microsoft writes no authserv-id: "spf=pass (...) ...; dkim=..."
        authserv, body = "", v
    else:
        authserv, body = head.split()[0] if head.split() else "", rest
    # method=result at the start of the value or after ';' (never a property like header.d=)
    results = {}
    for m in re.finditer(r"(?:^|;)\s*([A-Za-z-]+)\s*=\s*([A-Za-z]+)", body):
        meth = m.group(1).lower()
        if meth in METHODS and meth not in results:
            results[meth] = m.group(2).lower()
    return {"authserv": authserv, "instance": inst, "results": results}


def structure(x, raw):
    """explain's own consistency; returns a list of problems."""
    bad = []
    if x["schema"] != "hdrscan.explain/1":
        bad.append("schema %r" % x["schema"])
    if not (x["sha256"] and x["verdict"] in ("clean", "suspicious", "campaign") and 0 <= x["score"] <= 100):
        bad.append("identity/verdict/score: %r %r %r" % (x["sha256"], x["verdict"], x["score"]))
    # Every Received header of the header block is a hop, oldest first, delays consistent.
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    n_received = len(re.findall(rb"(?im)^received:", head))
    if [h["header_index"] for h in x["received"]] != list(range(n_received - 1, -1, -1)):
        bad.append("hop header_index order %r for %d Received" % ([h["header_index"] for h in x["received"]], n_received))
    prev = None
    for h in x["received"]:
        if h["unix_time"] is not None:
            if prev is not None and h["delay_seconds"] != h["unix_time"] - prev:
                bad.append("hop %s delay %r" % (h["hop"], h["delay_seconds"]))
            prev = h["unix_time"]
    # Zones: on a route that left Exchange Online, every hop has a domain, in route order (origin
    # hops, then the tenant entered at one entry hop, then the receiving side from one exit hop);
    # otherwise none has. A report wrapping an attached message: the route and verdict are the
    # attached message's, the hops shown the wrapper's own, which have no zone.
    zones = [h["zone"] for h in x["received"]]
    order = {"origin": 0, "tenant (entry)": 1, "tenant": 2, "receiving (exit)": 3, "receiving": 4,
             "receiving (forwarded on: exit)": 4}
    if x["nested_from"]:
        if any(z is not None for z in zones):
            bad.append("zones on a wrapper's own hops: %r" % zones)
    elif any(z is not None for z in zones):
        if not all(z in order for z in zones) or [order[z] for z in zones] != sorted(order[z] for z in zones) \
                or zones.count("receiving (exit)") != 1 or zones.count("tenant (entry)") > 1:
            bad.append("zones %r" % zones)
        if "sending Exchange Online tenant" not in x["route"] and "receiving side" not in x["route"]:
            bad.append("route %r" % x["route"])
    elif "receiving side" in x["route"]:
        bad.append("route %r without zones" % x["route"])
    # Every evidence signal is a fired check; as many fired checks as evidence signals. For a
    # wrapped report the attached message's checks are named "nested[N]:signal" while the
    # evidence keeps the bare signal; a fired check carries the summed weight of its evidence
    # (issue 18: a nested signal once showed +0 in the table and +39 in the evidence).
    checks = {c["signal"]: c for c in x["checks"]}
    if not checks or not all(c["why"] for c in x["checks"]):
        bad.append("checks missing or without a why")
    prefix = x["nested_from"] + ":" if x["nested_from"] else ""
    weights = {}
    for e in x["evidence"]:
        if not checks.get(prefix + e["signal"], {}).get("fired"):
            bad.append("evidence %s is not a fired check" % e["signal"])
        weights[prefix + e["signal"]] = weights.get(prefix + e["signal"], 0) + e["weight"]
    for sig, w in weights.items():
        if sig in checks and checks[sig]["weight"] != w:
            bad.append("check %s weight %r, evidence %r" % (sig, checks[sig]["weight"], w))
    fired = {c["signal"] for c in x["checks"] if c["fired"] and c["signal"].startswith(prefix)}
    if len(fired) != len({e["signal"] for e in x["evidence"]}):
        bad.append("fired checks %r vs evidence %r" % (sorted(fired), [e["signal"] for e in x["evidence"]]))
    # Antispam: one decoded row per KEY:VALUE pair, each with a meaning.
    for a in x["antispam"]:
        pairs = [p for p in a["raw"].split(";") if p.strip()]
        if len(a["fields"]) != len(pairs):
            bad.append("%s: %d rows for %d pairs" % (a["header"], len(a["fields"]), len(pairs)))
        for f in a["fields"]:
            if not f["meaning"] or (f["key"] == "IPV" and f["value"] == "CAL" and "allowed" not in f["meaning"]):
                bad.append("%s %s: meaning %r" % (a["header"], f["key"], f["meaning"]))
    return bad


def check_one(xpath, mpath, want):
    x = json.load(open(xpath, encoding="utf-8"))
    msg = email.parser.BytesParser(policy=email.policy.compat32).parse(open(mpath, "rb"), headersonly=True)
    bad, counts = [], {"hops": 0, "hop_ips": 0, "antispam": 0, "tenant": 0, "auth": 0}

    # Received: oldest first (the bottom header is the first hop).
    received = msg.get_all("Received") or []
    hops = x["received"]
    if len(hops) != len(received):
        bad.append("received: %d hops, the message has %d Received headers" % (len(hops), len(received)))
    for i, (raw, h) in enumerate(zip(reversed(received), hops)):
        e = expected_hop(raw)
        if e is None:
            continue
        counts["hops"] += 1
        if h["from"].lower() != e["from"].lower():
            bad.append("hop %d from: explain %r, header %r" % (i + 1, h["from"], e["from"]))
        if h["by"].lower() != e["by"].lower():
            bad.append("hop %d by: explain %r, header %r" % (i + 1, h["by"], e["by"]))
        if e["ip"] is not None:
            counts["hop_ips"] += 1
            got = ip_or_none(h["from_ip"] or "")
            if got != e["ip"]:
                bad.append("hop %d from IP: explain %r, header %s" % (i + 1, h["from_ip"], e["ip"]))
    plain = sum(1 for r in received if re.match(r"(?i)\s*from\s+\S+.*?\sby\s", unfold(r)))
    if counts["hops"] < plain:
        bad.append("only %d of %d plain Received hops compared" % (counts["hops"], plain))

    # Antispam reports: every header instance, the five keys, split on the first colon.
    for name in ("X-Forefront-Antispam-Report", "X-Forefront-Antispam-Report-Untrusted"):
        raws = msg.get_all(name) or []
        rows = [a for a in x["antispam"] if a["header"] == name]
        if len(rows) != len(raws):
            bad.append("%s: explain shows %d, the message has %d" % (name, len(rows), len(raws)))
        for raw, row in zip(raws, rows):
            want_pairs = {k: v for k, v in kv_pairs(raw) if k in ANTISPAM_KEYS}
            got_pairs = {f["key"]: f["value"] for f in row["fields"] if f["key"] in ANTISPAM_KEYS}
            for k, v in want_pairs.items():
                counts["antispam"] += 1
                if got_pairs.get(k) != v:
                    bad.append("%s %s: explain %r, header %r" % (name, k, got_pairs.get(k), v))

    # Tenant id and connecting IP.
    th = x["tenant_headers"]
    for raw in msg.get_all("X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp") or []:
        v = unfold(raw)
        tid = re.search(r"(?i)TenantId=([^;\s]+)", v)
        ip = re.search(r"(?i)\bIp=\[?([^\];\s]+)\]?", v)
        rows = [t for t in th if t["header"].lower() == "x-ms-exchange-crosstenant-originalattributedtenantconnectingip"]
        counts["tenant"] += 1
        if not rows or "parsed" not in rows[0]:
            bad.append("OriginalAttributedTenantConnectingIp not decoded by explain")
            continue
        p = rows[0]["parsed"]
        if tid and p["tenant_id"].lower() != tid.group(1).lower():
            bad.append("tenant id: explain %r, header %r" % (p["tenant_id"], tid.group(1)))
        if ip and ip_or_none(p["ip"] or "") != ip_or_none(ip.group(1)):
            bad.append("tenant connecting IP: explain %r, header %r" % (p["ip"], ip.group(1)))
    for raw in msg.get_all("X-MS-Exchange-CrossTenant-Id") or []:
        rows = [t for t in th if t["header"].lower() == "x-ms-exchange-crosstenant-id"]
        counts["tenant"] += 1
        if not rows or rows[0]["value"].strip().lower() != unfold(raw).lower():
            bad.append("X-MS-Exchange-CrossTenant-Id: explain %r, header %r" % (rows[0]["value"] if rows else None, unfold(raw)))

    # Authentication-Results and ARC-Authentication-Results, in header order.
    for name, arc in (("Authentication-Results", False), ("ARC-Authentication-Results", True)):
        raws = msg.get_all(name) or []
        rows = [a for a in x["authentication"] if a["header"] == name]
        if len(rows) != len(raws):
            bad.append("%s: explain shows %d, the message has %d" % (name, len(rows), len(raws)))
        for n, (raw, row) in enumerate(zip(raws, rows)):
            e = auth_expect(raw, arc)
            where = "%s[%d]" % (name, n)
            if e["authserv"] and row["authserv_id"].lower() != e["authserv"].lower():
                bad.append("%s authserv-id: explain %r, header %r" % (where, row["authserv_id"], e["authserv"]))
            if arc and row["instance"] != e["instance"]:
                bad.append("%s i=: explain %r, header %r" % (where, row["instance"], e["instance"]))
            got = {}
            for r in row["results"]:
                got.setdefault(r["method"].lower(), r["result"].lower())
            for meth, res in e["results"].items():
                counts["auth"] += 1
                if got.get(meth) != res:
                    bad.append("%s %s: explain %r, header %r" % (where, meth, got.get(meth), res))
            if not e["results"]:
                bad.append("%s: no method=result found by the independent parse: %r" % (where, unfold(raw)[:120]))

    # The verdict, against the label.
    verdict = x["verdict"]
    if want == "not-campaign":
        if verdict == "campaign":
            bad.append("verdict campaign on a real template (score %s)" % x["score"])
    elif verdict != want:
        bad.append("verdict %s (score %s), labelled %s" % (verdict, x["score"], want))

    bad += structure(x, open(mpath, "rb").read())
    for b in bad:
        print("FAIL: %s: %s" % (mpath, b))
    print("%s %s: %d hops (%d IPs), %d antispam pairs, %d tenant facts, %d auth results compared; verdict %s (want %s)"
          % ("ok" if not bad else "FAILED", mpath.rsplit("/", 1)[-1], counts["hops"], counts["hop_ips"],
             counts["antispam"], counts["tenant"], counts["auth"], verdict, want))
    return bad


def main():
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit(__doc__)
    failed = 0
    for i in range(0, len(args), 3):
        failed += 1 if check_one(*args[i:i + 3]) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
