#!/usr/bin/env python3
"""bench_real.py: tools/bench's real-mail inputs (issue 17), built from ../shared/corpus.

For each set (hamspam = ham-spam/, m365 = dev_m365_legit/, relays = dev_relays/), under OUT:
  SET.list     the set's message files, one absolute path a line, sorted: the files are read
               in place (never copied or linked: a long symbolic link costs a block read per
               open, more than some messages' analysis), hdrscan walking the set's folder and
               rspamd given this list;
  SET.mbox     the same messages as one mboxrd (LF line ends, as Unix tools write mailboxes;
               a file that starts with an mbox "From " line keeps it as its separator);
plus hamspam-big.mbox: hamspam.mbox repeated until it is at least --big-mb 10^6 bytes;
and SET-repeated.mbox: SET.mbox repeated REPEATS[SET] times (m365 x20 = 12,000 messages,
relays x50 = 4,000; byte for byte `cat SET.mbox` that many times), for the sets named by
--repeated (default: all of REPEATS; tools/bench passes its --real-sets, and names other
than REPEATS' are ignored): one process reads enough messages for its start-up to be
amortised, the steady-state per-message cost. A repeated mbox of a set not named is removed.
manifest.tsv: set, messages, bytes (of the files), median and mean message size, the
mbox's bytes and the set's folder. Files that are not mail (the set's LICENSE, *.md, *.tsv) are left out.
Rebuilt only when a set's file list or sizes or --big-mb change (key in OUT/key); a repeated
mbox only when that key or its count changes (key in OUT/SET-repeated.key).
Usage: bench_real.py --shared DIR --out DIR [--big-mb 300] [--repeated "m365 relays"]
"""
import argparse
import hashlib
import os
import shutil
import statistics
import sys

SETS = [("hamspam", "ham-spam"), ("m365", "dev_m365_legit"), ("relays", "dev_relays")]
# SET.mbox repeated this many times into SET-repeated.mbox: about 1 CPU-s of messages each,
# against a start-up of about 0.015 CPU-s (tools/bench's hdrscan-startup-1t row), so the
# per-message figure is the steady state within 3%
REPEATS = {"m365": 20, "relays": 50}
SEP = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2004\n"


def mail_files(root):
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.startswith("LICENSE") or f.endswith((".md", ".tsv", ".txt")):
                continue
            out.append(os.path.join(d, f))
    return sorted(out)


def mboxrd(data):
    data = data.replace(b"\r\n", b"\n")
    sep = SEP
    if data.startswith(b"From "):
        nl = data.find(b"\n")
        sep, data = data[:nl + 1], data[nl + 1:]
    if b"From " in data:
        lines = data.split(b"\n")
        for i, l in enumerate(lines):
            if l.lstrip(b">").startswith(b"From "):
                lines[i] = b">" + l
        data = b"\n".join(lines)
    if not data.endswith(b"\n"):
        data += b"\n"
    return sep + data + b"\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--big-mb", type=float, default=300.0)
    ap.add_argument("--repeated", default=" ".join(REPEATS),
                    help="sets that get SET-repeated.mbox (space-separated; others ignored)")
    a = ap.parse_args()
    lists = {}
    key = hashlib.sha256(("2 %g" % a.big_mb).encode())
    for name, sub in SETS:
        files = mail_files(os.path.join(a.shared, sub))
        if not files:
            sys.exit("bench_real: no mail under %s" % os.path.join(a.shared, sub))
        lists[name] = (files, os.path.abspath(os.path.join(a.shared, sub)))
        for f in files:
            key.update(("%s %d\n" % (f, os.path.getsize(f))).encode())
    key = key.hexdigest()[:16]
    keyfile = os.path.join(a.out, "key")
    if not (os.path.exists(keyfile) and open(keyfile).read().strip() == key):
        build(a, lists, key, keyfile)
    repeated(a.out, key, a.repeated.split())


def repeated(out, key, chosen):
    """SET-repeated.mbox for each chosen set of REPEATS, kept while SET.mbox's key and the count
    are unchanged; those of sets not chosen removed."""
    made = []
    for name, reps in REPEATS.items():
        path = os.path.join(out, name + "-repeated.mbox")
        kf = os.path.join(out, name + "-repeated.key")
        if name not in chosen:
            for f in (path, kf):
                if os.path.exists(f):
                    os.remove(f)
            continue
        k = "%s x%d" % (key, reps)
        if os.path.exists(path) and os.path.exists(kf) and open(kf).read().strip() == k:
            continue
        with open(os.path.join(out, name + ".mbox"), "rb") as f:
            block = f.read()
        with open(path, "wb") as mb:
            for _ in range(reps):
                mb.write(block)
        with open(kf, "w") as f:
            f.write(k + "\n")
        made.append("%s x%d" % (name, reps))
    if made:
        sys.stderr.write("bench_real: repeated mboxes: %s\n" % ", ".join(made))


def build(a, lists, key, keyfile):
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for name, (files, folder) in lists.items():
        shutil.rmtree(os.path.join(a.out, name + ".files"), ignore_errors=True)
        with open(os.path.join(a.out, name + ".list"), "w") as f:
            f.write("".join(os.path.abspath(x) + "\n" for x in files))
        sizes = []
        mbox_bytes = 0
        with open(os.path.join(a.out, name + ".mbox"), "wb") as mb:
            for f in files:
                data = open(f, "rb").read()
                sizes.append(len(data))
                rec = mboxrd(data)
                mb.write(rec)
                mbox_bytes += len(rec)
        rows.append((name, len(files), sum(sizes), statistics.median(sizes),
                     sum(sizes) / len(sizes), mbox_bytes, folder))
    src = os.path.join(a.out, "hamspam.mbox")
    one = os.path.getsize(src)
    reps = max(1, -(-int(a.big_mb * 1e6) // one))
    with open(src, "rb") as f:
        block = f.read()
    with open(os.path.join(a.out, "hamspam-big.mbox"), "wb") as mb:
        for _ in range(reps):
            mb.write(block)
    h = rows[0]
    rows.append(("hamspam-big", h[1] * reps, h[2] * reps, h[3], h[4], one * reps, ""))
    with open(os.path.join(a.out, "manifest.tsv"), "w") as f:
        f.write("set\tmessages\tbytes\tmedian_size\tmean_size\tmbox_bytes\tfolder\n")
        for r in rows:
            f.write("%s\t%d\t%d\t%.0f\t%.0f\t%d\t%s\n" % r)
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    sys.stderr.write("bench_real: %s\n" % ", ".join("%s %d messages" % (r[0], r[1]) for r in rows))


if __name__ == "__main__":
    main()
