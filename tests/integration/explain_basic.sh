#!/usr/bin/env bash
# explain_basic.sh: `hdrscan explain` shows one message's forensic view and agrees with scan:
# same verdict, score and evidence as the scan record; every Received header appears as a hop
# with consistent delays; antispam headers decoded pair by pair next to the raw value (IPv6
# CIP kept whole); every evidence signal listed as a fired check; --index picks the N-th
# message of an mbox; exit status 1 for campaign, 0 for a look-alike, 2 for bad input.
source "$(dirname "$0")/scan_lib.bash"

CAMP="$GEN/consumer-onlist-full/0001.eml"
LOOK="$GEN/lookalike-hybrid/0001.eml"
V6=$(grep -l 'CIP:2[0-9a-f]*:' "$GEN"/related-thirdparty-intact/*.eml | head -1)
[ -n "$V6" ] || fail "no generated message with an IPv6 CIP"

for f in "$CAMP" "$LOOK" "$V6"; do
  run x.json x.err explain --format json "$f"; xrc=$RC
  run s.jsonl s.err scan --format jsonl "$f"
  python3 - x.json s.jsonl "$f" <<'PYEOF' || fail "explain json vs scan for $f"
import json, re, sys
x = json.load(open(sys.argv[1], encoding="utf-8"))
s = json.loads(open(sys.argv[2], encoding="utf-8").readline())
raw = open(sys.argv[3], "rb").read()
assert x["schema"] == "hdrscan.explain/1"
for k in ("verdict", "score", "evidence", "sha256", "route", "subject", "errors"):
    assert x[k] == s[k], (k, x[k], s[k])
# Every Received header of the header block is a hop, oldest first.
head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
n_received = len(re.findall(rb"(?im)^received:", head))
assert len(x["received"]) == n_received, (len(x["received"]), n_received)
assert [h["header_index"] for h in x["received"]] == list(range(n_received - 1, -1, -1))
prev = None
for h in x["received"]:
    if h["unix_time"] is not None:
        if prev is not None:
            assert h["delay_seconds"] == h["unix_time"] - prev, h
        prev = h["unix_time"]
# Zones: on a route that left Exchange Online, every hop has a domain, in route order
# (origin hops, then the tenant entered at one entry hop, then the receiving side from one
# exit hop); otherwise none has.
zones = [h["zone"] for h in x["received"]]
order = {"origin": 0, "tenant (entry)": 1, "tenant": 2, "receiving (exit)": 3, "receiving": 4}
if any(z is not None for z in zones):
    assert all(z in order for z in zones), zones
    assert [order[z] for z in zones] == sorted(order[z] for z in zones), zones
    assert zones.count("receiving (exit)") == 1 and zones.count("tenant (entry)") <= 1, zones
    assert "sending Exchange Online tenant" in x["route"] or "receiving side" in x["route"], x["route"]
else:
    assert "receiving side" not in x["route"], x["route"]
# Checks: every fired signal of the evidence is a fired check with its weight.
checks = {c["signal"]: c for c in x["checks"]}
assert checks, "no checks"
for e in x["evidence"]:
    assert checks[e["signal"]]["fired"], e["signal"]
assert sum(1 for c in x["checks"] if c["fired"]) == len({e["signal"] for e in x["evidence"]})
assert all(c["why"] for c in x["checks"])
# Antispam: one decoded row per KEY:VALUE pair, split on the first colon only.
for a in x["antispam"]:
    pairs = [p for p in a["raw"].split(";") if p.strip()]
    assert len(a["fields"]) == len(pairs), (a["header"], len(a["fields"]), len(pairs))
    for f, p in zip(a["fields"], pairs):
        assert f["key"] == p.split(":", 1)[0].strip() and f["meaning"], (f, p)
        if f["key"] == "CIP":
            assert f["value"] == p.split(":", 1)[1].strip(), (f, p)
        if f["key"] == "IPV" and f["value"] == "CAL":
            assert "allowed" in f["meaning"], f
print("ok", sys.argv[3].rsplit("/", 1)[-1], x["verdict"], len(x["received"]), "hops", len(x["checks"]), "checks")
PYEOF
  python3 -c "
import json,sys; x=json.load(open('x.json'))
assert [h['zone'] for h in x['received']].count('tenant (entry)') == 1, [h['zone'] for h in x['received']]" \
    || fail "explain: no tenant entry hop found for $f"
  want=$(py '1 if recs[0]["verdict"] == "campaign" else 0' s.jsonl)
  expect_eq "$xrc" "$want" "explain exit status for $f"
done
run v6.json v6.err explain --format json "$V6"
python3 -c "
import json,sys; x=json.load(open('v6.json'))
cips=[f['value'] for a in x['antispam'] for f in a['fields'] if f['key']=='CIP']
assert any(':' in c for c in cips), cips
print('ipv6 CIP kept whole:', [c for c in cips if ':' in c][0])" || fail "IPv6 CIP"
pass "explain json agrees with scan"

# Text view: the sections, hops table, decoded values and the verdict.
run x.txt x.err explain "$CAMP"
expect_eq "$RC" 1 "explain exit status for a campaign message"
for s in "== Received hops" "== Administrative domains" "== Antispam verdicts" "== Exchange tenant headers" \
         "== Authentication" "== Signals" "== Verdict"; do
  grep -qF -- "$s" x.txt || fail "explain text lacks section '$s'"
done
grep -qE '^\s+#\s+domain\s+from\s+by\s+with\s+time \(UTC\)\s+delay' x.txt || fail "hop table header missing"
grep -qE '^\s+[0-9]+\s+tenant \(entry\)\s' x.txt || fail "hop table: no tenant entry hop shown"
grep -qE '^\s+campaign\s+score [0-9]+ / 100' x.txt || fail "verdict line missing"
run x.json x.err explain --format json "$CAMP"
for sig in $(python3 -c "import json; print(' '.join(c['signal'] for c in json.load(open('x.json'))['checks']))"); do
  grep -qF -- "$sig" x.txt || fail "signal $sig missing from the text view"
done
grep -q $'\x1b' x.txt && fail "colour in piped explain output"
pass "explain text"

# --index: the N-th message of an mbox, same numbering as scan; out of range is an error.
python3 "$HELP" mbox three.mbox "$LOOK" "$CAMP" "$FIX/hostile-fields.eml" || fail "mbox build"
run s3.jsonl s3.err scan --format jsonl three.mbox
for i in 0 1 2; do
  run xi.json xi.err explain --format json --index "$i" three.mbox
  expect_eq "$(python3 -c "import json; x=json.load(open('xi.json')); print(x['sha256'], x['source']['index'])")" \
            "$(py "recs[$i]['sha256'] + ' ' + str(recs[$i]['source']['index'])" s3.jsonl)" "explain --index $i"
done
run xo.txt xo.err explain --index 3 three.mbox
expect_eq "$RC" 2 "explain --index out of range"
grep -q 'no message #3' xo.err || fail "out-of-range message: $(cat xo.err)"
run xm.txt xm.err explain "$WORK/missing.eml"
expect_eq "$RC" 2 "explain of a missing file"
"$BIN" explain --format json - <"$CAMP" >xs.json; RC=$?
expect_eq "$(python3 -c "import json; print(json.load(open('xs.json'))['sha256'])")" "$(sha256sum "$CAMP" | cut -d' ' -f1)" "explain -"
printf '@format hdrscan-indicators 1\n@source test\nconnector-ip 1.2.3.4/33\n' >bad.ind
run xb.txt xb.err explain --indicators bad.ind "$CAMP"
expect_eq "$RC" 2 "explain with a bad indicator file"
grep -q 'hdrscan: indicators: .*bad.ind:3' xb.err || fail "explain: indicator error does not name file:line: $(cat xb.err)"
[ -s xb.txt ] && fail "explain printed a report despite the bad indicator file"
pass "explain --index, errors (range, missing file, bad indicators), stdin"
