#!/usr/bin/env bash
# eval_accuracy: the accuracy contract of issue 3, measured with tools/eval.
#  - project corpus, held-out families: recall >= 0.99 and zero false positives;
#  - project corpus, tune families: the same;
#  - ../shared/corpus: zero `campaign` verdicts on ham, generic spam, legitimate Microsoft 365
#    mail (dev_m365_legit, dev_field_m365) and the malformed-MIME sets; the two examples score
#    campaign, their templates do not;
#  - issue 14's margins on that real mail: no clean message within 15 points of the campaign
#    threshold (every score below 45: tools/eval --margin 15; the malformed sets below), at
#    most 0.5% `suspicious` on dev_field_m365 and on dev_m365_legit (--max-suspicious).
#    Where ../shared exists every set named here must be there (missing = FAIL); only when
#    ../shared is absent as a whole is that part left out, and the test then exits 77 (skipped).
set -euo pipefail
HDRSCAN=$1; SRC=$2; SHARED=$3; SCRATCH=$4
. "$SRC/tests/support/shared_data.bash"
mkdir -p "$SCRATCH"
cd "$SRC"
export HDRSCAN
echo "== holdout families"
tools/eval --split holdout --min-recall 0.99 --max-fp 0 --max-list 20
echo "== tune families"
tools/eval --split tune --min-recall 0.99 --max-fp 0 --max-list 20
EXAMPLES=$(dirname "$SHARED")/docs/examples
if shared_part "shared-corpus accuracy" "$SHARED/dev-index.tsv" "$SHARED/dev_m365_legit" "$SHARED/dev_relays" \
     "$SHARED/ham-spam" "$SHARED/malformed" "$EXAMPLES/consumer-view.eml" "$EXAMPLES/thirdparty-view.eml" "$EXAMPLES/README.md" \
     "$SHARED/dev_relays/sample-6423.eml" "$SHARED/dev_m365_legit/pdx86_connector_0001.eml" \
     "$SHARED/dev_field_m365/labels.tsv"; then  # the examples' templates; the field set's labels
  echo "== shared corpus + dev_field_m365 + examples"
  tools/eval --no-project --shared-corpus "$SHARED" --dev-field "$SHARED/dev_field_m365" --examples "$EXAMPLES" \
    --max-fp 0 --margin 15 --max-suspicious dev_field_m365=0.005 --max-suspicious dev_m365_legit=0.005 --max-list 20
  # The malformed-MIME sets are real mail too (rspamd's test messages include outlook.com
  # mail): none may score campaign. (A real outlook.com message did, through an internal
  # Microsoft IPv6 hop missing from the pack: fixed, see corpus/indicators/builtin.ind.)
  # 1 = something flagged, 2 = something unreadable (an empty file): the check below says what
  rc=0
  "$HDRSCAN" scan --format jsonl --threads 2 "$SHARED/malformed" >"$SCRATCH/malformed.jsonl" 2>/dev/null \
    || rc=$?
  python3 - "$SCRATCH/malformed.jsonl" "$rc" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
camp = [r["source"]["path"] for r in recs if r["verdict"] == "campaign"]
assert len(recs) > 1000, len(recs)
unreadable = any(r["verdict"] == "unreadable" for r in recs)
assert int(sys.argv[2]) == (2 if unreadable else 0), ("exit status", sys.argv[2], unreadable)
assert not camp, "campaign verdicts on malformed/: %s" % camp[:5]
top = max(recs, key=lambda r: r.get("score") or 0)
assert (top.get("score") or 0) < 45, "margin: %s scores %s, within 15 points of campaign" % (top["source"]["path"], top["score"])
print("== malformed/: %d records, 0 campaign, %d suspicious, highest score %s" % (
    len(recs), sum(r["verdict"] == "suspicious" for r in recs), top.get("score")))
PY
fi
shared_exit
