#!/usr/bin/env python3
"""verify_arc_seals.py: verify the ARC-Seals of real mail with keys from an indicator pack.

Purpose
    An oracle independent of hdrscan's C++ for issue 14 item 6: how many ARC-Seals signed
    d=<domain> (default microsoft.com) in a set of messages verify with the `dkim-key` /
    `arc-seal-key` entries of an indicator pack, how many fail, how many name a selector the
    pack has no key for. RFC 8617 section 5.1.1: the seal of instance i signs, in relaxed
    header canonicalisation (RFC 6376 section 3.4.2), the ARC-Authentication-Results,
    ARC-Message-Signature and ARC-Seal of every instance 1..i in that order, the last being
    the seal itself with its b= value emptied and no trailing CRLF. Only the seal is checked
    (not the chain's cv= logic, not the AMS): the question is whether a seal was written by
    the key holder over the headers now present.
    A seal that fails with its selector's key is tried with the pack's other keys for the
    same domain: Exchange Online seals some mail under one selector with another's key (7 real
    seals s=arcselector10001 of 2025-11..2026-05 verify only with arcselector9901's); --list
    names the key then.
    Where one instance has more than one set (a message that went through Exchange Online
    twice, or a sender-written copy), each seal is checked against the same-instance headers
    nearest to it and, for lower instances, the nearest below it (headers are prepended, so
    older sets lie further down).

Limits
    No DNS, ever. Reads at most 8 MB of each file's header block. rsa-sha256 and rsa-sha1
    only (ed25519 counted as `unsupported`). Uses python3-cryptography (Debian package).

Usage
    tools/verify_arc_seals.py [--pack corpus/indicators/builtin.ind] [--domain microsoft.com]
                              [--list] DIR_OR_FILE...
    Prints per argument: seals verified / failed / no key / unsupported, by selector; --list
    prints one line per seal (file, instance, selector, outcome). Exit 0 done, 2 error.
"""
import argparse
import base64
import collections
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

MAX_HEADER = 8 << 20


def load_keys(path):
    keys = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            parts = line.split(None, 2)
            if len(parts) < 3 or parts[0] not in ("dkim-key", "arc-seal-key"):
                continue
            m = re.search(r'(?:^|[;\s"])p=([^;]*)', parts[2])
            if not m:
                continue
            der = base64.b64decode(re.sub(r'[\s"]', "", m.group(1)))
            keys[parts[1].lower()] = serialization.load_der_public_key(der)
    return keys


def header_fields(data):
    """The header block as a list of (name, raw bytes of the whole field, unfolded)."""
    end = len(data)
    for sep in (b"\r\n\r\n", b"\n\n"):
        k = data.find(sep)
        if k >= 0:
            end = min(end, k)
    head = data[:min(end, MAX_HEADER)]
    if head.startswith(b"From "):  # mbox separator line
        head = head[head.find(b"\n") + 1:]
    fields = []
    for line in re.split(rb"\r?\n", head):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1].append(line)
        elif b":" in line:
            fields.append([line.split(b":", 1)[0].strip().decode("latin-1"), [line]])
    return [(n, b"\r\n".join(lines)) for n, lines in fields]


def relaxed(raw):
    name, _, value = raw.partition(b":")
    name = name.strip(b" \t").lower()
    value = re.sub(rb"\r?\n", b"", value)
    value = re.sub(rb"[ \t]+", b" ", value).strip(b" ")
    return name + b":" + value


def tags(raw):
    value = raw.partition(b":")[2]
    out = {}
    for part in value.split(b";"):
        k, eq, v = part.partition(b"=")
        if eq:
            out[k.strip().decode("latin-1").lower()] = re.sub(rb"\s+", b"", v).decode("latin-1")
    return out


def instance(raw):
    m = re.search(rb"(?:^|[:;\s])i\s*=\s*(\d+)", raw.partition(b":")[2])
    return int(m.group(1)) if m else None


def empty_b(raw):
    """The field with its b= value (not bh=) emptied (RFC 6376 section 3.7)."""
    name, _, value = raw.partition(b":")
    return name + b":" + re.sub(rb"((?:^|;)[ \t\r\n]*b[ \t\r\n]*=)[^;]*", rb"\1", value)


def pick(fields, name, inst, pos, below_only):
    best = None
    for k, (n, raw) in enumerate(fields):
        if n.lower() != name or instance(raw) != inst:
            continue
        if below_only and k < pos:
            continue
        d = abs(k - pos)
        if best is None or d < best[0]:
            best = (d, raw)
    return best[1] if best else None


def verify_seal(fields, pos, key, algo):
    raw = fields[pos][1]
    i = instance(raw)
    if i is None:
        return "fail", "no i="
    # Exchange Online's seals with cv=fail sign only their own instance's set (measured: every
    # i=2 cv=fail seal of ../shared/corpus/dev_relays verifies that way, none over 1..i).
    first = i if tags(raw).get("cv", "").lower() == "fail" else 1
    data = b""
    for j in range(first, i + 1):
        below = j < i
        for name in ("arc-authentication-results", "arc-message-signature", "arc-seal"):
            f = raw if (j == i and name == "arc-seal") else pick(fields, name, j, pos, below)
            if f is None:
                return "fail", "instance %d has no %s" % (j, name)
            if j == i and name == "arc-seal":
                data += relaxed(empty_b(f))
            else:
                data += relaxed(f) + b"\r\n"
    try:
        sig = base64.b64decode(tags(raw).get("b", ""), validate=True)
    except ValueError:
        return "fail", "b= not base64"
    try:
        key.verify(sig, data, padding.PKCS1v15(), hashes.SHA1() if algo.endswith("sha1") else hashes.SHA256())
        return "verified", ""
    except InvalidSignature:
        return "fail", "signature does not verify"


def files_of(arg):
    if os.path.isfile(arg):
        yield arg
        return
    for root, dirs, files in os.walk(arg):
        dirs.sort()
        for f in sorted(files):
            if f.endswith((".eml", ".txt")) or not os.path.splitext(f)[1]:
                yield os.path.join(root, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--pack", default=os.path.join(here, "..", "corpus", "indicators", "builtin.ind"))
    ap.add_argument("--domain", default="microsoft.com")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    try:
        keys = load_keys(a.pack)
    except (OSError, ValueError) as e:
        print("verify_arc_seals: %s" % e, file=sys.stderr)
        return 2
    for arg in a.paths:
        counts = collections.Counter()
        by_sel = collections.defaultdict(collections.Counter)
        msgs = collections.Counter()
        for path in files_of(arg):
            with open(path, "rb") as fh:
                data = fh.read(MAX_HEADER + 4)
            fields = header_fields(data)
            outcomes = []
            for pos, (n, raw) in enumerate(fields):
                if n.lower() != "arc-seal":
                    continue
                t = tags(raw)
                if t.get("d", "").lower() != a.domain:
                    continue
                sel = t.get("s", "").lower()
                algo = t.get("a", "rsa-sha256").lower()
                key = keys.get(sel + "._domainkey." + a.domain)
                if not algo.startswith("rsa-"):
                    out, why = "unsupported", algo
                elif key is None:
                    out, why = "no-key", ""
                else:
                    out, why = verify_seal(fields, pos, key, algo)
                    # Exchange Online seals some mail under one selector with another
                    # selector's key: any published key of the same domain is the signer's.
                    if out == "fail":
                        for name, other in sorted(keys.items()):
                            if other is key or not name.endswith("._domainkey." + a.domain):
                                continue
                            if verify_seal(fields, pos, other, algo)[0] == "verified":
                                out, why = "verified", "with the key published as " + name
                                break
                counts[out] += 1
                by_sel[sel][out] += 1
                outcomes.append(out)
                if a.list:
                    print("%s\ti=%s\ts=%s\t%s\t%s" % (path, instance(raw), sel, out, why))
            msgs["with a %s seal" % a.domain] += bool(outcomes)
            msgs["all keyed seals verify"] += bool(outcomes) and all(o in ("verified", "no-key") for o in outcomes) \
                and "verified" in outcomes
        print("%s: seals d=%s: %s" % (arg, a.domain, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
        for sel in sorted(by_sel):
            print("  s=%s: %s" % (sel, ", ".join("%s %d" % kv for kv in sorted(by_sel[sel].items()))))
        print("  messages: %s" % ", ".join("%s %d" % kv for kv in msgs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
