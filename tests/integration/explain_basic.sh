#!/usr/bin/env bash
# explain_basic.sh: `hdrscan explain` shows one message's forensic view, checked against
# expectations computed independently of hdrscan (issue 14: explain and scan print the same
# record, so comparing them could not catch a wrong value):
#  - tests/integration/explain_expect.py (Python stdlib: email.parser, re, ipaddress) reads each
#    raw message and checks explain's Received hops (from, by, connecting IP), the decoded
#    X-Forefront-Antispam-Report pairs (CIP, IPV, SFV, SCL, DIR; split on the first colon, IPv6
#    CIP kept whole), the tenant id and connecting IP, the Authentication-Results fields;
#  - the verdict and the exit status (1 for campaign) against the label
#    (tests/support/expected_verdict.py: corpus/labels.tsv; the ../shared examples are
#    campaign, their real templates must not be);
#  - on: the two real examples of ../shared/docs/examples and their real templates (required
#    where ../shared exists), every corpus/samples/ message, a generated message with an IPv6 CIP;
#  - the checker is shown to fail on a doctored explain output;
# plus explain's own structure (hop order and delays, zones, every fired signal listed), the
# text view, --index on an mbox (same numbering as scan), and exit status 2 for bad input.
source "$(dirname "$0")/scan_lib.bash"

CAMP="$GEN/consumer-onlist-full/0001.eml"
LOOK="$GEN/lookalike-hybrid/0001.eml"
V6=$(grep -l 'CIP:2[0-9a-f]*:' "$GEN"/related-thirdparty-intact/*.eml | head -1)
[ -n "$V6" ] || fail "no generated message with an IPv6 CIP"
EXAMPLES=$(dirname "$SHARED")/docs/examples
EXPECT="$SRC/tests/integration/explain_expect.py"

# FILE EXPECTED pairs: EXPECTED is the label's verdict, or not-campaign for a real template.
files=("$SRC"/corpus/samples/*.eml "$CAMP" "$LOOK" "$V6")
mapfile -t wants < <(python3 "$SRC/tests/support/expected_verdict.py" "$SRC" "${files[@]}") || fail "unlabelled file"
[ ${#wants[@]} = ${#files[@]} ] && [ ${#files[@]} -ge 10 ] || fail "labels: ${#wants[@]} for ${#files[@]} files"
cases=()
for i in "${!files[@]}"; do cases+=("${files[i]}" "${wants[i]}"); done
if shared_part "explain on the real examples and their templates" "$EXAMPLES/consumer-view.eml" \
     "$EXAMPLES/thirdparty-view.eml" "$SHARED/dev_relays/sample-6423.eml" "$SHARED/dev_m365_legit/pdx86_connector_0001.eml"; then
  cases+=("$EXAMPLES/consumer-view.eml" campaign "$EXAMPLES/thirdparty-view.eml" campaign
          "$SHARED/dev_relays/sample-6423.eml" not-campaign "$SHARED/dev_m365_legit/pdx86_connector_0001.eml" not-campaign)
fi

checks=()
for ((i = 0; i < ${#cases[@]}; i += 2)); do
  f=${cases[i]} want=${cases[i + 1]} n=$((i / 2))
  run "x$n.json" "x$n.err" explain --format json "$f"
  expect_eq "$RC" "$([ "$want" = campaign ] && echo 1 || echo 0)" "explain exit status for $f (labelled $want)"
  checks+=("x$n.json" "$f" "$want")
done
python3 "$EXPECT" "${checks[@]}" || fail "explain differs from the independent expectations (FAIL lines above)"
pass "explain json matches independent expectations on $((${#cases[@]} / 2)) messages"
# The generated messages ($CAMP $LOOK $V6, the last three of files[]) enter their tenant at
# one hop; the IPv6 CIP is kept whole.
k=$((${#files[@]} - 3))
python3 - "x$k.json" "x$((k + 1)).json" "x$((k + 2)).json" <<'PYEOF' || fail "tenant entry hop / IPv6 CIP"
import json, sys
for path in sys.argv[1:]:
    zones = [h["zone"] for h in json.load(open(path))["received"]]
    assert zones.count("tenant (entry)") == 1, (path, zones)
x = json.load(open(sys.argv[3]))
cips = [f["value"] for a in x["antispam"] for f in a["fields"] if f["key"] == "CIP"]
assert any(":" in c for c in cips), cips
print("ipv6 CIP kept whole:", [c for c in cips if ":" in c][0])
PYEOF

# The checker can fail: doctored explain outputs (a hop's IP, a CIP, the tenant id, an auth
# result, the verdict) of a message that has all of them must each be rejected; the output as
# explain wrote it passes.
DOC=$SRC/corpus/samples/related-relay-intact.eml
DOC_V=$(python3 "$SRC/tests/support/expected_verdict.py" "$SRC" "$DOC") || fail "no label for $DOC"
run xc.json xc.err explain --format json "$DOC"
python3 - "$EXPECT" xc.json "$DOC" "$DOC_V" <<'PYEOF' >doctored.out || { cat doctored.out; fail "the checker accepted a doctored explain output"; }
import copy, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("explain_expect", sys.argv[1])
ee = importlib.util.module_from_spec(spec); spec.loader.exec_module(ee)
orig, eml, want = json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
assert not ee.check_one(sys.argv[2], eml, want), "undoctored output rejected"
for what in ("hop_ip", "cip", "tenant", "auth", "verdict"):
    x = copy.deepcopy(orig)
    if what == "hop_ip":
        next(h for h in x["received"] if h["from_ip"])["from_ip"] = "192.0.2.254"
    elif what == "cip":
        next(f for a in x["antispam"] for f in a["fields"] if f["key"] == "CIP")["value"] = "192.0.2.253"
    elif what == "tenant":
        next(t for t in x["tenant_headers"] if "parsed" in t)["parsed"]["tenant_id"] = "00000000-0000-0000-0000-000000000000"
    elif what == "auth":
        next(r for a in x["authentication"] for r in a["results"] if r["method"] in ("spf", "dmarc"))["result"] = "neutral"
    else:
        x["verdict"] = "clean" if x["verdict"] != "clean" else "campaign"
    json.dump(x, open("bad-%s.json" % what, "w"))
    assert ee.check_one("bad-%s.json" % what, eml, want), "doctored %s accepted" % what
PYEOF
pass "the checker rejects a doctored hop IP, CIP, tenant id, auth result and verdict"

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

# --index: the N-th message of an mbox (0-based, as scan numbers them): the Message-ID of the
# N-th file put into the mbox; out of range is an error.
three=("$LOOK" "$CAMP" "$FIX/hostile-fields.eml")
python3 "$HELP" mbox three.mbox "${three[@]}" || fail "mbox build"
for i in 0 1 2; do
  run xi.json xi.err explain --format json --index "$i" three.mbox
  want=$(python3 -c "
import email.parser, email.policy, sys
m = email.parser.BytesParser(policy=email.policy.compat32).parse(open(sys.argv[1], 'rb'), headersonly=True)
print(m['Message-ID'].strip(), sys.argv[2])" "${three[$i]}" "$i")
  expect_eq "$(python3 -c "import json; x=json.load(open('xi.json')); print(x['message_id'], x['source']['index'])")" \
            "$want" "explain --index $i"
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
shared_exit
