#!/usr/bin/env bash
# waves.sh: `hdrscan waves` (issue 20) end to end on real scans:
#  - a labelled wave corpus (tools/gen_corpus.py --waves: six known waves, single campaign
#    messages, clean look-alikes): the waves found match the truth (adjusted Rand index and
#    purity over the flagged messages, tools/waves-eval), look-alikes are in none;
#  - the exit status (1 waves, 0 none), `-` for standard input equals the file, sharded
#    scans concatenated give the same waves, text and JSON agree, the output is deterministic;
#  - the STIX 2.1 bundle and MISP event validate against the standards' own schemas, pattern
#    grammar and object templates in ../shared/standards (waves_check.py, with its self-test),
#    TLP marking and tag follow --tlp; --csv-iocs rows and the --html timeline (a lane per
#    wave, a tick per message, no JavaScript) match the JSON;
#  - URLs: a URL is flagged for IDS (MISP to_ids, a STIX url indicator) only when seen in two
#    or more messages of a wave and not redacted; recipients: no output of waves names a
#    recipient address (as written, percent-encoded or base64) without --include-recipients,
#    whatever the records carry; with it STIX to_refs, MISP `to` and CSV rows name them;
#  - --audit joins the audit of the relaying tenant (corpus/audit) by connector IP;
#  - bad records (truncated JSON, another schema, a missing field) are reported with
#    FILE:LINE, the rest is still grouped, exit 2;
#  - real connector-relay spam (../shared/corpus/dev_relays) groups by shared tenant and IP;
#    ham (SpamAssassin hard_ham: HTML newsletters, the hardest ham) gives no wave.
source "$(dirname "$0")/scan_lib.bash"
CHECK="$SRC/tests/integration/waves_check.py"
STD=$(dirname "$SHARED")/standards
python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema missing (tools/install-deps.sh)"

# --- the labelled wave corpus
python3 "$SRC/tools/gen_corpus.py" --waves wv --seed 2022 2>/dev/null || fail "gen_corpus --waves"
run wv.jsonl e.scan scan --format jsonl wv
[ "$RC" = 1 ] || fail "scan of the wave corpus: exit $RC: $(head -3 e.scan)"
python3 "$HELP" validate "$SCHEMA" wv.jsonl || fail "records with grouping do not validate"
run w.txt e.w waves wv.jsonl
[ "$RC" = 1 ] || fail "waves: exit $RC, expected 1 (waves found): $(head -3 e.w)"
[ -s e.w ] && fail "waves wrote to stderr: $(head -3 e.w)"
run w.json e.wj waves --format json wv.jsonl
[ "$RC" = 1 ] || fail "waves --format json: exit $RC"
python3 - wv/waves.tsv wv.jsonl w.json w.txt <<'PYEOF' || fail "waves do not match the labelled corpus"
import collections, json, sys
from math import comb
lab = {}
for l in open(sys.argv[1], encoding="utf-8"):
    if not l.startswith("#") and not l.startswith("path\t"):
        p, w = l.rstrip("\n").split("\t")
        lab["wv/" + p] = w
recs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
W = json.load(open(sys.argv[3], encoding="utf-8"))
assert W["schema"] == "hdrscan.waves/1"
flagged = sorted(r["source"]["path"] for r in recs if r["verdict"] == "campaign")
assert not [p for p in flagged if "/lookalike/" in p], "a clean look-alike was flagged"
assert all(r["grouping"] is None for r in recs if r["verdict"] == "clean")
assert all(r["grouping"] for r in recs if r["verdict"] == "campaign")
pred = {m["source"]["path"]: k for k, w in enumerate(W["waves"]) for m in w["members"]}
t = [lab[p] if lab[p] != "-" else "single:" + p for p in flagged]
pr = [pred.get(p, "none:" + p) for p in flagged]
def ari(a, b):
    s = sum(comb(v, 2) for v in collections.Counter(zip(a, b)).values())
    sa = sum(comb(v, 2) for v in collections.Counter(a).values())
    sb = sum(comb(v, 2) for v in collections.Counter(b).values())
    e = sa * sb / comb(len(a), 2); m = (sa + sb) / 2
    return (s - e) / (m - e)
groups = collections.defaultdict(list)
for x, y in zip(t, pr):
    groups[y].append(x)
purity = sum(max(collections.Counter(v).values()) for v in groups.values()) / len(t)
a = ari(t, pr)
print("ok: wave corpus: %d flagged, %d waves (truth %d), ARI %.3f, purity %.3f"
      % (len(flagged), len(W["waves"]), len(set(lab.values()) - {"-"}), a, purity))
assert a >= 0.9 and purity >= 0.95, (a, purity)
assert W["records"]["read"] == len(recs) and W["records"]["flagged"] == len(flagged)
for w in W["waves"]:
    assert w["messages"] == len(w["members"]) >= 2
    assert w["first_seen"] <= w["last_seen"]
    assert w["tenants"] and w["connector_ips"] and sum(w["links"].values()) == w["messages"] - 1
    assert w["representative"]["location"] in [m["location"] for m in w["members"]]
    assert all(m["record"].startswith("wv.jsonl:") for m in w["members"])
# the text summary names every wave with its size and the totals line
txt = open(sys.argv[4], encoding="utf-8").read()
for k, w in enumerate(W["waves"]):
    assert "wave %d %s " % (k + 1, w["id"]) in txt and "  %d messages\n" % w["messages"] in txt, w["id"]
assert "waves: %d  messages in waves: %d" % (len(W["waves"]), sum(w["messages"] for w in W["waves"])) in txt
PYEOF
# standard input, shards, determinism
"$BIN" waves --format json - <wv.jsonl >stdin.json; [ $? = 1 ] || fail "waves - : exit status"
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for W in (a, b):
    for w in W["waves"]:
        for m in w["members"]:
            m.pop("record")
assert a == b' w.json stdin.json || fail "waves - differs from waves FILE (beyond the record names)"
"$BIN" scan --format jsonl --shard 1/2 wv >s1.jsonl; "$BIN" scan --format jsonl --shard 2/2 wv >s2.jsonl
"$BIN" waves --format json s1.jsonl s2.jsonl >shards.json
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
key = lambda W: sorted((w["id"], w["messages"], w["first_seen"]) for w in W["waves"])
assert key(a) == key(b), "sharded records group differently"' w.json shards.json || fail "shards"
pass "wave corpus: text, json, stdin, shards"

# --- exports
run x.txt e.x waves --stix b.json --misp m.json --tlp green wv.jsonl
[ "$RC" = 1 ] || fail "waves with exports: exit $RC: $(head -3 e.x)"
run x2.txt e.x2 waves --stix b2.json --misp m2.json --tlp green wv.jsonl
cmp -s b.json b2.json && cmp -s m.json m2.json || fail "exports differ between two runs (ids, times)"
if shared_part "STIX and MISP validation" "$STD/stix2.1-json-schemas/schemas" "$STD/misp/event-schema.json"; then
  python3 -W ignore "$CHECK" stix "$STD" b.json || fail "STIX bundle invalid"
  python3 -W ignore "$CHECK" misp "$STD" m.json || fail "MISP event invalid"
  python3 -W ignore "$CHECK" selftest "$STD" b.json m.json || fail "the export checker accepts broken exports"
  pass "STIX bundle and MISP event valid (schemas, pattern grammar, object templates)"
fi
python3 - b.json m.json wv.jsonl <<'PYEOF' || fail "export contents"
import json, re, sys
b, m = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
objs = b["objects"]
types = {o["type"] for o in objs}
assert {"identity", "campaign", "indicator", "relationship", "sighting", "marking-definition"} <= types, types
green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
assert all(o.get("object_marking_refs") == [green] for o in objs if o["type"] not in ("marking-definition",))
pats = [o["pattern"] for o in objs if o["type"] == "indicator"]
assert any(p.startswith("[ipv4-addr:value = ") for p in pats)
assert any(p.startswith("[domain-name:value = ") for p in pats)
assert any(p.startswith("[email-message:from_ref.value = ") for p in pats)
assert not any("onmicrosoft.com" in p for p in pats), "a victim tenant exported as an indicator"
ev = m["Event"]
assert ev["Tag"] == [{"name": "tlp:green"}]
for o in ev["Object"]:
    for a in o["Attribute"]:
        if a["object_relation"] in ("ip-src", "domain", "from"):
            assert a["to_ids"] is True, a
        if a["object_relation"] == "subject":
            assert a["to_ids"] is False
assert all(a["to_ids"] is False for a in ev["Attribute"]), "tenant attributes must not be IDS"
# no recipient address anywhere (records carry none; To: of the corpus is example.* / outlook)
text = open(sys.argv[1]).read() + open(sys.argv[2]).read()
assert "@outlook.com" not in text and "@hotmail.com" not in text, "a recipient leaked"
PYEOF
"$BIN" waves --stix bw.json --tlp white wv.jsonl >/dev/null
grep -q '"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"' bw.json || fail "--tlp white marking"
"$BIN" waves --misp mw.json --tlp white wv.jsonl >/dev/null
grep -q '"tlp:clear"' mw.json || fail "--tlp white is tlp:clear in MISP"
"$BIN" waves --stix ba.json wv.jsonl >/dev/null
grep -q '"TLP:AMBER"' ba.json || fail "default TLP is amber"
pass "export contents: indicators, TLP, to_ids, no recipients"

# --- CSV of indicators and the HTML timeline
run h.txt e.h waves --csv-iocs iocs.csv --html w.html wv.jsonl
[ "$RC" = 1 ] || fail "waves --csv-iocs --html: exit $RC: $(head -3 e.h)"
python3 - iocs.csv w.html w.json <<'PYEOF' || fail "csv-iocs / html"
import csv, html.parser, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
W = json.load(open(sys.argv[3]))
assert rows and set(r["wave"] for r in rows) == {w["id"] for w in W["waves"]}
urls = {(w["id"], u["url"]): u["to_ids"] for w in W["waves"] for u in w["urls"]}
for r in rows:
    if r["type"] == "url":
        assert r["to_ids"] == ("true" if urls[(r["wave"], r["value"])] else "false"), r
    else:
        assert r["to_ids"] == ("true" if r["type"] in ("ip", "domain", "email") else "false"), r
    assert r["type"] in ("ip", "domain", "url", "email", "tenant", "subject"), r
    assert int(r["messages"]) >= 1
ips = {(r["wave"], r["value"]) for r in rows if r["type"] == "ip"}
assert ips == {(w["id"], i["ip"]) for w in W["waves"] for i in w["connector_ips"]}, "ip rows"
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.lanes = 0; self.ticks = 0; self.script = False; self.ids = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.script |= tag == "script" or any(k.startswith("on") for k in a)
        self.lanes += a.get("class") == "lane"
        self.ticks += a.get("class") == "tick"
        if tag == "h2" and "id" in a: self.ids.add(a["id"])
p = P(); p.feed(open(sys.argv[2], encoding="utf-8").read())
assert not p.script, "JavaScript in the timeline"
assert p.lanes == len(W["waves"]) and p.ticks == sum(w["messages"] for w in W["waves"]), (p.lanes, p.ticks)
assert p.ids == {w["id"] for w in W["waves"]}
PYEOF
pass "csv-iocs and html timeline"

# --- URLs and recipients: privacy first. The wave corpus's kits put the recipient's address
# into unsubscribe links (percent-encoded), tracking pixels (base64) and subjects.
run wvr.jsonl e.scanr scan --format jsonl --include-recipients wv
[ "$RC" = 1 ] || fail "scan --include-recipients: exit $RC: $(head -3 e.scanr)"
python3 "$HELP" validate "$SCHEMA" wvr.jsonl || fail "records with recipients do not validate"
run p.txt e.p waves --stix p.stix --misp p.misp --csv-iocs p.csv --html p.html wvr.jsonl
[ "$RC" = 1 ] || fail "waves on records with recipients: exit $RC: $(head -3 e.p)"
run p.json e.pj waves --format json wvr.jsonl
run r.json e.r waves --format json --include-recipients --stix r.stix --misp r.misp \
  --csv-iocs r.csv --html r.html wvr.jsonl
[ "$RC" = 1 ] || fail "waves --include-recipients: exit $RC: $(head -3 e.r)"
run nr.txt e.nr waves --include-recipients wv.jsonl
grep -q 'no record carries recipient addresses' e.nr || fail "--include-recipients on records without addresses: no warning"
python3 - wv.jsonl wvr.jsonl <<'PYEOF' || fail "recipients leaked or URLs wrong"
import base64, csv, json, sys
plain = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
rich = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
flagged = [r for r in rich if r["grouping"]]
assert all(r["grouping"]["recipients"]["addresses"] is None for r in plain if r["grouping"])
assert all(r["grouping"]["recipients"]["domains"] for r in flagged)
R = {a for r in flagged for a in r["grouping"]["recipients"]["addresses"]}
assert len(R) >= 100, len(R)
forms = set()
for a in R:
    forms |= {a, a.replace("@", "%40")}
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        b = enc(a.encode()).decode()
        forms.add(b[: len(a.encode()) // 3 * 4])
# the kits' personalisation reached the records, redacted
g = [r["grouping"] for r in flagged]
assert sum("{recipient}" in u for x in g for u in x["urls"]) >= 20, "no redacted URL"
assert sum("{recipient}" in x["subject"] for x in g) >= 5, "no redacted subject"
assert all(len(x["urls"]) <= 8 and all(len(u) <= 512 for u in x["urls"]) for x in g)
# no recipient address in any grouping of records scanned without the option, nor in any
# output of waves without --include-recipients (from either kind of record)
outs = {"records": "\n".join(json.dumps(r["grouping"]) for r in plain)}
for f in ("w.txt", "w.json", "b.json", "m.json", "iocs.csv", "w.html",
          "p.txt", "p.json", "p.stix", "p.misp", "p.csv", "p.html"):
    outs[f] = open(f, encoding="utf-8").read()
def leaks(text):  # addresses in any case; base64 as encoded
    low = text.lower()
    return [x for x in forms if (x.lower() in low if ("@" in x or "%40" in x) else x in text)]
for f, text in outs.items():
    assert not leaks(text), "%s names recipients: %s" % (f, leaks(text)[:3])
# with --include-recipients: STIX to_refs, MISP to, CSV rows, HTML, JSON
W = json.load(open("r.json"))
listed = {a["address"] for w in W["waves"] for a in w["recipients"]}
assert listed and listed <= R
b = json.load(open("r.stix"))["objects"]
addr = {o["id"]: o["value"] for o in b if o["type"] == "email-addr"}
msgs = [o for o in b if o["type"] == "email-message"]
assert msgs and all(addr[ref] in R for m in msgs for ref in m["to_refs"])
od = [o for o in b if o["type"] == "observed-data"]
assert {r for o in od for r in o["object_refs"]} >= {m["id"] for m in msgs}
assert any(o["type"] == "sighting" and o.get("observed_data_refs") for o in b)
ev = json.load(open("r.misp"))["Event"]
to = [a for o in ev["Object"] for a in o["Attribute"] if a["object_relation"] == "to"]
assert to and all(a["to_ids"] is False and a["value"] in R for a in to)
rows = list(csv.DictReader(open("r.csv", newline="", encoding="utf-8")))
assert any(r["type"] == "recipient" and r["to_ids"] == "false" for r in rows)
assert any(a in open("r.html", encoding="utf-8").read() for a in listed)
# URLs: to_ids only for a URL seen in two or more messages with nothing redacted; those (and
# only those) are STIX url indicators
P = json.load(open("p.json"))
U = [(w["id"], u) for w in P["waves"] for u in w["urls"]]
assert U and all(u["to_ids"] == (u["messages"] >= 2 and "{recipient}" not in u["url"]) for _, u in U)
ids = {u["url"] for _, u in U if u["to_ids"]}
assert ids, "no repeated URL (the kits' static unsubscribe pages)"
pats = {o["pattern"] for o in json.load(open("p.stix"))["objects"] if o["type"] == "indicator"}
stix_urls = {p[len("[url:value = '"):-2] for p in pats if p.startswith("[url:value = ")}
assert stix_urls == ids, (stix_urls ^ ids)
mu = [o for o in json.load(open("p.misp"))["Event"]["Object"] if o["name"] == "url"]
got = {(a["value"], a["to_ids"]) for o in mu for a in o["Attribute"] if a["object_relation"] == "url"}
assert got == {(u["url"], u["to_ids"]) for _, u in U}, "MISP url objects differ from the waves' URLs"
print("ok: %d recipients, %d URLs listed (%d for IDS), %d redacted" % (
    len(R), len(U), len(ids), sum("{recipient}" in u["url"] for _, u in U)))
PYEOF
if shared_part "STIX and MISP validation with URLs and recipients" "$STD/stix2.1-json-schemas/schemas" "$STD/misp/event-schema.json"; then
  python3 -W ignore "$CHECK" stix "$STD" r.stix || fail "STIX bundle with recipients invalid"
  python3 -W ignore "$CHECK" misp "$STD" r.misp || fail "MISP event with recipients invalid"
  python3 -W ignore "$CHECK" selftest "$STD" r.stix r.misp --all || fail "the export checker accepts broken exports (URLs, recipients)"
fi
pass "URLs (to_ids only when repeated and unredacted) and recipients (only with --include-recipients)"

# --- the audit join: the repository's relayed message and the audit of its tenant
"$BIN" audit --format jsonl "$SRC/corpus/audit/attack-rotated-ip.csv" >aud.jsonl 2>/dev/null
"$BIN" scan --format jsonl "$SRC/corpus/audit/relayed-from-rotated-ip.eml" >rel.jsonl
run aj.json e.aj waves --format json --min-messages 1 --audit aud.jsonl rel.jsonl
[ "$RC" = 1 ] || fail "waves --audit: exit $RC: $(head -3 e.aj)"
python3 - aj.json <<'PYEOF' || fail "audit join"
import json, sys
W = json.load(open(sys.argv[1]))
(a,) = W["waves"][0]["audit"]
assert a["matched_by"] == "connector IP 203.0.113.77", a["matched_by"]
assert a["domain"] == "northwind.example" and a["record"] == "aud.jsonl:1"
assert [c["ips"] for c in a["connectors"] if c["suspect"]] == [["203.0.113.77"]]
assert sum(r["suspect"] for r in a["transport_rules"]) >= 3 and a["apps"]
PYEOF
run aj.txt e.aj2 waves --min-messages 1 --audit aud.jsonl rel.jsonl
grep -q '^  audit: .*by connector IP 203.0.113.77: connectors Ran_xAFzd (suspect)' aj.txt || fail "audit line: $(grep audit aj.txt)"
echo '{broken' >badaud.jsonl
run ab.txt e.ab waves --min-messages 1 --audit badaud.jsonl rel.jsonl
[ "$RC" = 2 ] && grep -q '^hdrscan: waves: badaud.jsonl:1: not a JSON object' e.ab || fail "bad audit line: exit $RC $(cat e.ab)"
pass "audit join by connector IP"

# --- bad records: FILE:LINE, the rest grouped, exit 2
{ head -c 300 wv.jsonl; echo; echo '{"schema":"hdrscan.audit/1","x":1}';
  echo '{"schema":"hdrscan.scan/2","seq":1}'; cat wv.jsonl; } >bad.jsonl
run bad.json bad.err waves --format json bad.jsonl
[ "$RC" = 2 ] || fail "bad records: exit $RC, expected 2"
grep -q '^hdrscan: waves: bad.jsonl:1: not JSON' bad.err || fail "truncated record not reported: $(cat bad.err)"
grep -q '^hdrscan: waves: bad.jsonl:2: schema hdrscan.audit/1' bad.err || fail "other schema not reported"
grep -q '^hdrscan: waves: bad.jsonl:3: missing field' bad.err || fail "missing field not reported"
expect_eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["waves"]))' bad.json)" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["waves"]))' w.json)" "waves despite bad records"
run nf.txt nf.err waves no-such-file.jsonl
[ "$RC" = 2 ] && grep -q 'no-such-file.jsonl' nf.err || fail "missing input: exit $RC"
run opt.txt opt.err waves --window 3x wv.jsonl
[ "$RC" = 2 ] || fail "bad --window accepted"
pass "bad records and inputs"

# --- real data
if shared_part "waves on the real relays and ham" "$SHARED/dev_relays" "$SHARED/ham-spam/spamassassin/hard_ham"; then
  "$BIN" scan --format jsonl "$SHARED/dev_relays" >relays.jsonl
  run rw.json e.rw waves --format json --min-verdict suspicious relays.jsonl
  [ "$RC" = 1 ] || fail "relays: exit $RC, expected waves"
  python3 - rw.json <<'PYEOF' || fail "relays not grouped by tenant and IP"
import json, sys
W = json.load(open(sys.argv[1]))
n = sum(w["messages"] for w in W["waves"])
big = max(W["waves"], key=lambda w: w["messages"])
print("ok: dev_relays: %d flagged (suspicious and above), %d waves holding %d, largest %d "
      "(tenants %d, IPs %d, links %s)" % (W["records"]["flagged"], len(W["waves"]), n,
      big["messages"], len(big["tenants"]), len(big["connector_ips"]), big["links"]))
assert len(W["waves"]) >= 3 and n >= 30
assert any(w["links"].get("tenant") for w in W["waves"]) and any(w["links"].get("ip") for w in W["waves"])
# every wave says what linked it: one join per member after the first
for w in W["waves"]:
    assert sum(w["links"].values()) == w["messages"] - 1, w["id"]
PYEOF
  "$BIN" scan --format jsonl "$SHARED/ham-spam/spamassassin/hard_ham" >ham.jsonl
  run hw.txt e.hw waves --min-verdict suspicious ham.jsonl
  [ "$RC" = 0 ] || fail "ham gave waves (exit $RC): $(head -5 hw.txt)"
  grep -q '^waves: 0 ' hw.txt || fail "ham summary: $(tail -1 hw.txt)"
  pass "ham: no wave"
fi
shared_exit
