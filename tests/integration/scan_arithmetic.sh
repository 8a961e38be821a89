#!/usr/bin/env bash
# scan_arithmetic.sh: a score an admin can check by hand (issue 18 item 1, issue 14). On every
# record of the project corpus and the samples: score_breakdown's points are min(raw, cap) per
# family, their sum clamped to 0..100 is `score`; raw is the sum of that family's evidence
# weights (families from `hdrscan signals`' table are not needed: the evidence ids group by
# the breakdown); `campaign` only with gate.open and score >= 60, and gate.open is exactly
# relay AND (ioc OR tamper OR two_artefacts). Contradictory thresholds exit 2 with a message.
source "$(dirname "$0")/scan_lib.bash"

run arith.jsonl arith.err scan --format jsonl --threads 2 "$SRC/corpus/samples" "$GEN"
[ "$RC" -le 1 ] || fail "scan exited $RC: $(head -c 300 arith.err)"
python3 - arith.jsonl <<'PY'
import json, sys
n = camp = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["verdict"] not in ("campaign", "suspicious", "clean"):
        continue
    n += 1
    bd, g = r["score_breakdown"], r["gate"]
    for f in bd:
        assert f["points"] == min(f["raw"], f["cap"]), (r["source"], f)
    total = sum(f["points"] for f in bd)
    assert r["score"] == max(0, min(100, total)), (r["source"], r["score"], bd)
    assert g["open"] == (g["relay"] and (g["ioc"] or g["tamper"] or g["two_artefacts"])), (r["source"], g)
    if r["verdict"] == "campaign":
        camp += 1
        assert g["open"] and r["score"] >= 60, (r["source"], g, r["score"])
    elif r["score"] >= 60:
        assert not g["open"], (r["source"], "score >= 60, gate open, yet not campaign")
    # raw = the evidence weights of the message the verdict came from, per family: the
    # families' raw sums add up to all of its evidence weights
    assert sum(f["raw"] for f in bd) == sum(e["weight"] for e in r["evidence"]), (r["source"], bd)
assert n > 900 and camp > 400, (n, camp)
print("ok - %d records: breakdown adds up, gate consistent, %d campaign all behind an open gate" % (n, camp))
PY

run thr.out thr.err scan --campaign-at 20 --suspicious-at 50 "$SRC/corpus/samples"
expect_eq "$RC" 2 "exit status with --suspicious-at above --campaign-at"
grep -q "suspicious threshold must not exceed the campaign threshold" thr.err || fail "message: $(cat thr.err)"
run thr2.out thr2.err scan --campaign-at 101 "$SRC/corpus/samples"
expect_eq "$RC" 2 "exit status with --campaign-at 101"
run thr3.out thr3.err explain --campaign-at 20 --suspicious-at 50 "$SRC/corpus/samples/clean-hybrid-relay.eml"
expect_eq "$RC" 2 "explain exit status with contradictory thresholds"
echo "ok - contradictory or out-of-range thresholds exit 2 with a message"
