#!/usr/bin/env python3
"""build_field_negatives.py: real legitimate Microsoft 365 mail from public list archives
(issue 14, item 8: broader real negatives).

Purpose
    Scans public-inbox v2 git mirrors of public mailing lists (one message per commit, blob
    `m`), keeps the posts that left an Exchange Online tenant (sender-side
    X-MS-Exchange-CrossTenant-Id), spreads a selection over many sending tenants, header
    shapes, years and lists, and writes each chosen message byte for byte (the blob as
    archived; nothing added, removed or re-encoded) with labels.tsv and a README of sources.
    Every message is a legitimate list post: label `clean` (must never be `campaign`).

Exclusions (never read, never written)
    The lists reserved for evaluation (../shared/corpus/README.md): a post whose To or Cc
    names one of them is left out; a mirror of one of them is refused. Message-IDs already in
    ../shared/corpus/dev_field_m365 or dev_m365_legit are left out (the sets stay disjoint),
    and a Message-ID seen twice (cross-posts) is taken once.

Labels (labels.tsv, one row per message; `shape` is the first that applies)
    relay       X-MS-Exchange-CrossTenant-OriginalAttributedTenantConnectingIp present, or
                FromEntityHeader HybridOnPrem (mail that entered the tenant by a connector)
    arc_ms      an ARC-Seal with d=microsoft.com;  verdict: X-Forefront-Antispam-Report or
                X-Microsoft-Antispam (the sender's, not -Untrusted)
    loop        the tenant's mail passed Exchange Online more than once (an outbound gateway
                or centralized transport: more than one hop into *.mail.protection.outlook.com,
                or renamed -Untrusted/-Original headers from the earlier pass)
    onprem      a hop written by on-premises Exchange ("with Microsoft SMTP Server" by a host
                outside Microsoft's domains)
    gateway     the first receiver after Exchange Online is a filtering service (Proofpoint,
                Mimecast, IronPort, MessageLabs, Barracuda...), named by its domain
    shape       noarc-noverdict, noarc, noverdict, loop, relay-onprem, relay-cal, relay,
                via-gateway, onprem, hosted

Limits
    Reads only git objects (git cat-file); no network. A message over 4 MiB is skipped and
    counted. Output depends only on the mirrors' commits, --seed and this file.

Usage
    tools/build_field_negatives.py OUTDIR --repo GITDIR... [--target N] [--seed N]
                                   [--relay-share F] [--cache DIR] [--shared DIR]
    GITDIR: a bare mirror such as /work/.mirror/linux-mailinglist-archives+linux-spi.vger.
    kernel.org.0/repo (its owner/name is taken from the folder name). OUTDIR must be outside
    the repository and empty or absent. Exit 0 done, 2 error.
"""

import argparse
import collections
import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from derive_positives import Msg, fname, fval  # noqa: E402

# ../shared/corpus/README.md, "Reserved for evaluation": never used here
RESERVED = ["linux-hyperv", "platform-driver-x86", "alsa-devel", "linux-arm-kernel", "linux-iio",
            "linux-pci", "linux-rdma", "linux-usb", "linux-wireless", "openbmc"]
RESERVED_ADDR = re.compile(r"(?<![\w.-])(%s)@" % "|".join(map(re.escape, RESERVED)), re.I)
# filtering services seen receiving mail from Exchange Online in dev_field_m365's README
# ("Receivers after Microsoft") and their public MX domains
GATEWAYS = {"pphosted.com": "Proofpoint", "ppops.net": "Proofpoint", "mimecast.com": "Mimecast",
            "iphmx.com": "IronPort", "messagelabs.com": "MessageLabs", "cudaops.com": "Barracuda",
            "barracudanetworks.com": "Barracuda", "antispameurope.com": "Hornetsecurity",
            "hornetsecurity.com": "Hornetsecurity", "trendmicro.com": "TrendMicro",
            "sophos.com": "Sophos", "fireeyecloud.com": "Trellix", "mailcontrol.com": "Forcepoint",
            "checkpointcloudsec.com": "CheckPoint", "spamtitan.com": "SpamTitan",
            "security-mail.net": "security-mail.net", "seppmail.cloud": "SEPPmail"}
MS_DOMAINS = re.compile(r"(outlook\.com|office365\.com|exchangelabs\.com|microsoft\.com)\b", re.I)
MAX_BLOB = 4 << 20


def die(msg):
    sys.stderr.write("build_field_negatives: %s\n" % msg)
    sys.exit(2)


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir] + list(args), check=True,
                          stdout=subprocess.PIPE).stdout.decode()


def blobs(gitdir, commits):
    """Yield (commit, blob id, bytes or None) for commit:m, through one git cat-file --batch."""
    p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def feed():
        for c in commits:
            p.stdin.write(("%s:m\n" % c).encode())
        p.stdin.close()
    threading.Thread(target=feed, daemon=True).start()
    for c in commits:
        head = p.stdout.readline().split()
        if len(head) < 3 or head[1] != b"blob":
            yield c, None, None
            continue
        size = int(head[2])
        data = p.stdout.read(size)
        p.stdout.read(1)
        yield c, head[0].decode(), data if size <= MAX_BLOB else None
    p.wait()


def addr_domain(v):
    m = re.search(r"[\w.+=-]+@([\w-]+(?:\.[\w-]+)+)", v)
    return m.group(1).lower() if m else ""


def hop(v):
    m = re.match(r"from\s+(.*?)\s+by\s+(\S+)", v, re.S)
    return (m.group(1), m.group(2).rstrip(";")) if m else ("", "")


def describe(raw):
    """The labels of one message, or None when it carries no sender-side Exchange Online
    stamps (X-MS-Exchange-CrossTenant-Id)."""
    end = re.search(rb"\r?\n\r?\n", raw)
    head = raw[:end.start()] if end else raw
    if b"x-ms-exchange-crosstenant-id" not in head.lower():
        return None
    msg = Msg(head + b"\n\n")
    f = [(fname(x), fval(x)) for x in msg.fields]
    get = lambda n: [v for k, v in f if k == n]
    tenant = get("x-ms-exchange-crosstenant-id")
    if not tenant:
        return None
    rec = get("received")
    egress = [i for i, v in enumerate(rec) if "outbound.protection.outlook.com" in hop(v)[0].lower()
              and not MS_DOMAINS.search(hop(v)[1])]
    egress_by = hop(rec[egress[0]])[1].lower() if egress else ""
    below = rec[egress[0] + 1:] if egress else rec
    frontend = [v for v in below if hop(v)[1].lower().endswith(".mail.protection.outlook.com")]
    onprem = any("microsoft smtp server" in v.lower() and hop(v)[1]
                 and not MS_DOMAINS.search(hop(v)[1]) for v in below)
    names = {k for k, _ in f}
    fe = ",".join(get("x-ms-exchange-crosstenant-fromentityheader"))
    relay = bool(get("x-ms-exchange-crosstenant-originalattributedtenantconnectingip")) \
        or "hybridonprem" in fe.lower()
    arc_ms = any("d=microsoft.com" in v.replace(" ", "") for v in get("arc-seal"))
    verdict = bool(names & {"x-forefront-antispam-report", "x-microsoft-antispam"})
    renamed = any(k.endswith(("-untrusted", "-original"))
                  and k.startswith(("x-forefront", "x-microsoft", "authentication-results"))
                  for k in names)
    loop = len(frontend) > 1 or renamed
    ipv = ""
    for v in get("x-forefront-antispam-report"):
        m = re.search(r"IPV:(\w+)", v)
        ipv = m.group(1) if m else ipv
    gateway = ""
    for dom, name in GATEWAYS.items():
        if egress_by == dom or egress_by.endswith("." + dom):
            gateway = name
    if not arc_ms and not verdict:
        shape = "noarc-noverdict"
    elif not arc_ms:
        shape = "noarc"
    elif not verdict:
        shape = "noverdict"
    elif loop:
        shape = "loop"
    elif relay and onprem:
        shape = "relay-onprem"
    elif relay and ipv == "CAL":
        shape = "relay-cal"
    elif relay:
        shape = "relay"
    elif gateway:
        shape = "via-gateway"
    elif onprem:
        shape = "onprem"
    else:
        shape = "hosted"
    date = None
    for v in get("date")[:1]:
        try:
            date = email.utils.parsedate_to_datetime(v).astimezone(dt.timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            date = None
    mid = (get("message-id") or [""])[0].strip().strip("<>").lower()
    return {"tenant": tenant[0].strip().lower(),
            "from_domain": addr_domain((get("from") or [""])[0]),
            "date": date, "message_id": mid, "relay": int(relay), "arc_ms": int(arc_ms),
            "verdict": int(verdict), "loop": int(loop), "onprem": int(onprem), "gateway": gateway,
            "ipv": ipv, "from_entity": fe, "egress_by": egress_by, "shape": shape,
            "reserved": ";".join(sorted({m.group(1).lower() for v in get("to") + get("cc")
                                         for m in RESERVED_ADDR.finditer(v)}))}


def known_message_ids(shared):
    """Message-IDs of dev_field_m365 (details.tsv) and dev_m365_legit (their headers)."""
    ids = set()
    det = os.path.join(shared, "dev_field_m365", "details.tsv")
    with open(det, encoding="utf-8") as fh:
        head = fh.readline().rstrip("\n").split("\t")
        for line in fh:
            d = dict(zip(head, line.rstrip("\n").split("\t")))
            ids.add(d.get("message_id", "").strip().strip("<>").lower())
    legit = os.path.join(shared, "dev_m365_legit")
    for fn in sorted(os.listdir(legit)):
        if fn.endswith(".eml"):
            with open(os.path.join(legit, fn), "rb") as fh:
                m = re.search(rb"(?im)^message-id:\s*<?([^>\s]+)", fh.read(65536))
            if m:
                ids.add(m.group(1).decode("latin-1").lower())
    ids.discard("")
    return ids


def pick(pool, target, seed, relay_share):
    """Connector relays (the hard negatives) up to relay_share of the target, the rest
    other mail; each part spread over tenants by pick_part."""
    relays = [c for c in pool if c["relay"]]
    others = [c for c in pool if not c["relay"]]
    r, rcap = pick_part(relays, int(round(target * relay_share)), seed) if relays else ([], 0)
    o, ocap = pick_part(others, target - len(r), seed) if others else ([], 0)
    return r + o, (rcap, ocap)


def pick_part(pool, target, seed):
    """Spread over tenants: the largest per-tenant cap that keeps the total <= target; inside
    a tenant, round-robin over shape, then year, then list, in a stable hashed order."""
    by_tenant = collections.defaultdict(list)
    for c in pool:
        by_tenant[c["tenant"]].append(c)
    ordered = {}
    for t, items in by_tenant.items():
        items.sort(key=lambda c: hashlib.sha256(("%d:%s" % (seed, c["key"])).encode()).hexdigest())
        buckets = collections.OrderedDict()
        for c in sorted(items, key=lambda c: (c["shape"], c["year"], c["list"])):
            buckets.setdefault((c["shape"], c["year"], c["list"]), []).append(c)
        for b in buckets.values():
            b.sort(key=lambda c: hashlib.sha256(("%d:%s" % (seed, c["key"])).encode()).hexdigest())
        # rarer shapes first, so that each tenant's unusual mail is in
        shapes = collections.Counter(c["shape"] for c in pool)
        keys = sorted(buckets, key=lambda k: (shapes[k[0]], k))
        seq = []
        while any(buckets[k] for k in keys):
            for k in keys:
                if buckets[k]:
                    seq.append(buckets[k].pop(0))
        ordered[t] = seq
    lo, hi = 1, max(len(s) for s in ordered.values())
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(mid, len(s)) for s in ordered.values()) <= target:
            lo = mid
        else:
            hi = mid - 1
    chosen = [c for s in ordered.values() for c in s[:lo]]
    # fill the rest of the target one message per tenant, largest tenants last
    spare = target - len(chosen)
    for t in sorted(ordered, key=lambda t: (len(ordered[t]), t)):
        if spare <= 0:
            break
        if len(ordered[t]) > lo:
            chosen.append(ordered[t][lo])
            spare -= 1
    return chosen, lo


def scan_repo(gitdir, cache):
    """(statistics, the describe() record of every message with Exchange Online stamps) of
    one mirror at its tip; with a cache folder, kept as JSON per repository and tip commit."""
    name = os.path.basename(os.path.dirname(gitdir)) if os.path.basename(gitdir) == "repo" \
        else os.path.basename(gitdir)
    repo = name.replace("+", "/", 1)
    lst = repo.split("/")[-1].split(".")[0]
    if lst in RESERVED:
        die("%s is reserved for evaluation (../shared/corpus/README.md)" % repo)
    log = git(gitdir, "log", "--format=%H %ct", "HEAD").split("\n")
    commits = [l.split() for l in log if l.strip()]
    cfile = os.path.join(cache, "%s@%s.json" % (name, commits[0][0])) if cache else None
    if cfile and os.path.isfile(cfile):
        with open(cfile, encoding="utf-8") as fh:
            st, found = json.load(fh)
    else:
        st = {"repo": repo, "tip": commits[0][0], "first": int(commits[-1][1]),
              "last": int(commits[0][1]), "scanned": 0, "exo": 0, "big": 0}
        when = {c: int(t) for c, t in commits}
        found = []
        for c, blob, data in blobs(gitdir, [c for c, _ in commits]):
            st["scanned"] += 1
            if data is None:
                st["big"] += blob is not None
                continue
            d = describe(data)
            if d is None:
                continue
            st["exo"] += 1
            d["date"] = d["date"].isoformat() if d["date"] else None
            d.update({"list": lst, "repo": repo, "commit": c, "blob": blob, "size": len(data),
                      "when": when[c], "key": "%s:%s" % (repo, c)})
            found.append(d)
        if cfile:
            os.makedirs(cache, exist_ok=True)
            with open(cfile + ".tmp", "w", encoding="utf-8") as fh:
                json.dump([st, found], fh)
            os.replace(cfile + ".tmp", cfile)
    for d in found:
        d["gitdir"] = gitdir
        d["date"] = dt.datetime.fromisoformat(d["date"]) if d["date"] else None
    return st, found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("--repo", action="append", required=True, help="a public-inbox git mirror")
    ap.add_argument("--target", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--relay-share", type=float, default=0.45,
                    help="at most this share of the target from connector relays (default 0.45)")
    ap.add_argument("--cache", help="keep each mirror's scan here (JSON per repository and tip)")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared", "corpus"))
    a = ap.parse_args()
    out = os.path.abspath(a.outdir)
    if os.path.commonpath([out, REPO]) == REPO:
        die("%s is inside the repository; list mail must not be committed" % out)
    if os.path.exists(out) and os.listdir(out):
        die("%s exists and is not empty" % out)
    known = known_message_ids(os.path.abspath(a.shared))

    pool, seen, stats = [], set(), collections.OrderedDict()
    excl = collections.Counter()
    for gitdir in a.repo:
        st, found = scan_repo(os.path.abspath(gitdir), a.cache)
        st["pool"] = 0
        for d in found:
            if d["reserved"]:
                excl["To/Cc names a reserved list"] += 1
                continue
            if d["message_id"] and d["message_id"] in known:
                excl["Message-ID already in dev_field_m365 or dev_m365_legit"] += 1
                continue
            if d["message_id"] and d["message_id"] in seen:
                excl["Message-ID already taken from another list or commit (cross-post)"] += 1
                continue
            date = d["date"]
            if date is None or not 2019 <= date.year <= 2026 \
                    or abs(date.timestamp() - d["when"]) > 60 * 86400:
                date = dt.datetime.fromtimestamp(d["when"], dt.timezone.utc)
            if not 2019 <= date.year <= 2026:
                excl["date outside 2019-2026"] += 1
                continue
            seen.add(d["message_id"])
            d.update({"year": date.year, "date": date})
            pool.append(d)
            st["pool"] += 1
        stats[st["repo"]] = st
        sys.stderr.write("build_field_negatives: %s: %d scanned, %d with Exchange Online stamps, "
                         "%d in the pool\n" % (st["repo"], st["scanned"], st["exo"], st["pool"]))
    if not pool:
        die("no message with Exchange Online stamps in the given mirrors")
    chosen, cap = pick(pool, a.target, a.seed, a.relay_share)
    chosen.sort(key=lambda c: (c["list"], c["date"], c["commit"]))

    # write, numbered by date within each list
    rows, num = [], collections.Counter()
    by_repo = collections.defaultdict(list)
    for c in chosen:
        num[c["list"]] += 1
        c["path"] = "%s/%05d.eml" % (c["list"], num[c["list"]])
        by_repo[c["gitdir"]].append(c)
    for gitdir, items in by_repo.items():
        got = {cm: data for cm, _b, data in blobs(gitdir, [c["commit"] for c in items])}
        for c in items:
            full = os.path.join(out, c["path"])
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as fh:
                fh.write(got[c["commit"]])
    cols = ["path", "label", "list", "repo", "commit", "tenant_id", "from_domain", "date",
            "has_connector_relay", "has_arc_ms", "has_verdict", "shape", "loop", "onprem",
            "gateway", "ipv", "from_entity", "egress_by"]
    with open(os.path.join(out, "labels.tsv"), "w", encoding="utf-8") as fh:
        fh.write("\t".join(cols) + "\n")
        for c in chosen:
            fh.write("\t".join(str(x) for x in [
                c["path"], "clean", c["list"], c["repo"], c["commit"], c["tenant"],
                c["from_domain"],
                c["date"].strftime("%Y-%m-%dT%H:%M:%SZ"), c["relay"], c["arc_ms"], c["verdict"],
                c["shape"], c["loop"], c["onprem"], c["gateway"], c["ipv"], c["from_entity"],
                c["egress_by"]]) + "\n")
    write_readme(out, a, stats, excl, pool, chosen, cap)
    sys.stderr.write("build_field_negatives: %d messages from %d tenants written to %s\n"
                     % (len(chosen), len({c["tenant"] for c in chosen}), out))
    return 0


def write_readme(out, a, stats, excl, pool, chosen, cap):
    ten = {c["tenant"] for c in chosen}
    rel = [c for c in chosen if c["relay"]]
    cnt = lambda key, items: collections.Counter(c[key] for c in items)
    fmt = lambda ctr: " | ".join("%s: %d" % kv for kv in sorted(ctr.items(),
                                                               key=lambda kv: (-kv[1], str(kv[0]))))
    L = ["# Field negatives: legitimate Microsoft 365 mail from public list archives", "",
         "%d messages, every one labelled `clean`, written byte for byte as archived (the blob `m` "
         "of one public-inbox commit). Built by `tools/build_field_negatives.py` (hdrscan) with "
         "`--target %d --seed %d`. Not committed anywhere; rebuild with the command in "
         "`tools/README-corpus.md`." % (len(chosen), a.target, a.seed), "",
         "## Sources", "",
         "| list | repository | commit (tip scanned) | span (commit dates) | scanned "
         "| with Exchange Online stamps | in the pool | chosen | of which connector relays |",
         "|---|---|---|---|---|---|---|---|---|"]
    per = cnt("repo", chosen)
    per_rel = cnt("repo", rel)
    for repo, st in stats.items():
        span = "%s .. %s" % (dt.datetime.fromtimestamp(st["first"], dt.timezone.utc).date(),
                             dt.datetime.fromtimestamp(st["last"], dt.timezone.utc).date())
        L.append("| %s | %s | %s | %s | %d | %d | %d | %d | %d |" % (
            repo.split("/")[1].split(".")[0], repo, st["tip"], span, st["scanned"], st["exo"],
            st["pool"], per[repo], per_rel[repo]))
    L += ["", "The repositories are public-inbox v2 epochs published on GitHub under "
          "`linux-mailinglist-archives`; each commit's tree holds one message as the blob `m`. "
          "The topmost Received header was added by the archive's subscriber host.", "",
          "## Exclusions", ""]
    for k, v in excl.items():
        L.append("- %s: %d" % (k, v))
    L += ["- reserved lists (never fetched or read): " + ", ".join(RESERVED) +
          " (../shared/corpus/README.md)", "",
          "## Selection", "",
          "- pool: %d messages from %d tenants (%d connector relays from %d tenants)" % (
              len(pool), len({c["tenant"] for c in pool}), sum(c["relay"] for c in pool),
              len({c["tenant"] for c in pool if c["relay"]})),
          "- connector relays up to %d%% of the target (the hard negatives), the rest other mail; "
          "in each part a per-tenant cap (relays %d, others %d: the largest that keeps the part "
          "within its share), then one more message for tenants with more, smallest tenants "
          "first; inside a tenant, round-robin over shape (rarest first), year and list"
          % (round(100 * a.relay_share), cap[0], cap[1]), "",
          "## Diversity", "",
          "- sending tenants (topmost X-MS-Exchange-CrossTenant-Id): **%d**; From domains: %d"
          % (len(ten), len({c["from_domain"] for c in chosen})),
          "- connector relays: **%d** from %d tenants"
          % (len(rel), len({c["tenant"] for c in rel})),
          "- years: " + fmt(cnt("year", chosen)),
          "- per list: " + fmt(cnt("list", chosen)),
          "- shape: " + fmt(cnt("shape", chosen)),
          "- first receiver after Exchange Online is a filtering gateway: " +
          fmt(collections.Counter(c["gateway"] for c in chosen if c["gateway"])),
          "- mail that passed Exchange Online more than once (loop): %d; with on-premises Exchange "
          "hops: %d; without the tenant's ARC set: %d; without a verdict: %d" % (
              sum(c["loop"] for c in chosen), sum(c["onprem"] for c in chosen),
              sum(1 - c["arc_ms"] for c in chosen), sum(1 - c["verdict"] for c in chosen)),
          "- FromEntityHeader: " + fmt(cnt("from_entity", chosen)), "",
          "## Files", "",
          "- `<list>/<nnnnn>.eml`: one message each, numbered by date within the list",
          "- `labels.tsv`: path, label, list, repo, commit, tenant_id, from_domain, date (Date "
          "header in UTC; the commit date when unusable or more than 60 days off), "
          "has_connector_relay, has_arc_ms, has_verdict, shape, loop, onprem, gateway, ipv, "
          "from_entity, egress_by (see the head comment of the tool)", "",
          "## Licence", "",
          "Public mailing-list archives, published openly and mirrored as public git "
          "repositories that carry no licence file. The posts belong to their authors. For "
          "internal testing only (measuring false positives); do not copy into the project or "
          "republish.", ""]
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(L))


if __name__ == "__main__":
    sys.exit(main())
