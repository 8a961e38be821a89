#!/usr/bin/env bash
# scan_formats.sh: the three output formats agree on the same scan: CSV (RFC 4180, parsed with
# python's csv module) has one physical line per record with the JSONL's values and defused
# spreadsheet formulas; text has one line per message then a summary whose counts match the
# JSONL, no colour and no progress output when piped, colour with --color always;
# --output and --summary-json write files; bad options exit 2.
source "$(dirname "$0")/scan_lib.bash"

inputs=("$GEN/consumer-onlist-full" "$GEN/lookalike-hybrid" "$FIX")
run all.jsonl e.jsonl scan --format jsonl "${inputs[@]}"
N=$(wc -l <all.jsonl)
[ "$N" -ge 20 ] || fail "only $N records"

# CSV
run all.csv e.csv scan --format csv "${inputs[@]}"
expect_eq "$(wc -l <all.csv)" "$((N + 1))" "csv: one physical line per record plus header"
python3 - all.csv all.jsonl <<'PYEOF' || fail "csv does not match jsonl"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
recs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(rows) == len(recs), (len(rows), len(recs))
for row, r in zip(rows, recs):
    assert int(row["seq"]) == r["seq"]
    assert row["path"] == r["source"]["path"]
    assert row["verdict"] == r["verdict"]
    assert (row["score"] == "" and r["score"] is None) or int(row["score"]) == r["score"]
    assert row["member"] == (r["source"]["member"] or "")
    assert row["folder"] == (r["source"]["folder"] or "")
    assert row["sha256"] == r["sha256"] and int(row["size"]) == r["size"]
    assert row["signals"] == ";".join("%s:%+d" % (e["signal"], e["weight"]) for e in r["evidence"])
    assert row["errors"] == ";".join(e["code"] for e in r["errors"])
    assert row["nested_from"] == r["nested_from"]                 # the last column
    if r["message_id"] == "<hostile-1@prize.example>":
        assert row["from"].startswith("'="), row["from"]          # formula defused
        assert "\x07" not in row["subject"] and "\ufffd" in row["subject"]
        assert '"claim"' in row["subject"]                         # quotes survive the quoting
assert any(r["verdict"] == "not_mail" for r in recs), "the fixtures hold a binary: not_mail"
PYEOF
pass "csv"

# Text: one line per message, then the summary; counts agree with the JSONL.
run all.txt e.txt scan "${inputs[@]}"
expect_eq "$(grep -c -- '^--$' all.txt)" 1 "text: one summary separator"
expect_eq "$(sed '/^--$/,$d' all.txt | wc -l)" "$N" "text: one line per message"
line=$(grep '^messages:' all.txt)
echo "$line" | grep -q "^messages: $N  unreadable: [0-9]*  not_mail: [0-9]*  campaign:" \
  || fail "text summary '$line' does not count unreadable and not_mail first"
for v in unreadable not_mail campaign suspicious clean; do
  want=$(py "sum(1 for r in recs if r['verdict'] == '$v')" all.jsonl)
  echo "$line" | grep -q "$v: $want\b" || fail "text summary '$line' lacks '$v: $want'"
done
echo "$line" | grep -q "messages: $N\b" || fail "text summary '$line' lacks messages: $N"
errs=$(py 'sum(1 for r in recs if r["errors"])' all.jsonl)
grep -q "^errors: $errs message" all.txt || fail "text summary lacks errors: $errs"
grep -q $'\x1b' all.txt && fail "colour escape codes in piped output"
[ -s e.txt ] && fail "stderr not silent when piped: $(head -c 200 e.txt | od -c | head -3)"
first=$(py 'recs[0]["source"]["path"] + "  " + recs[0]["verdict"]' all.jsonl)
head -1 all.txt | grep -qF "$first" || fail "text line 1 '$(head -1 all.txt)' lacks '$first'"
run col.txt e.col scan --color always "${inputs[@]}"
grep -q $'\x1b\\[' col.txt || fail "--color always without escape codes"
if command -v script >/dev/null; then  # a pseudo-terminal: colour by default, NO_COLOR honoured
  # The terminal type and NO_COLOR are set here, not taken from the caller (a CI runner or an
  # editor's shell may have TERM=dumb or NO_COLOR set): a dumb terminal gets no colour.
  env -u NO_COLOR TERM=xterm script -qfc "'$BIN' scan --no-summary '$FIX'" /dev/null >tty.txt 2>&1
  grep -q $'\x1b\\[' tty.txt || fail "no colour on a terminal"
  env NO_COLOR=1 TERM=xterm script -qfc "'$BIN' scan --no-summary '$FIX'" /dev/null >tty2.txt 2>&1
  grep -q $'\x1b\\[' tty2.txt && fail "colour despite NO_COLOR"
  env -u NO_COLOR TERM=dumb script -qfc "'$BIN' scan --no-summary '$FIX'" /dev/null >tty3.txt 2>&1
  grep -q $'\x1b\\[' tty3.txt && fail "colour on TERM=dumb"
else
  echo "note: script(1) absent: terminal colour not checked"
fi
run ns.txt e.ns scan --no-summary "${inputs[@]}"
expect_eq "$(wc -l <ns.txt)" "$N" "--no-summary"
pass "text"

# --output and --summary-json
run stdout.txt e.o scan --format jsonl --output out.jsonl --summary-json sum.json "${inputs[@]}"
[ -s stdout.txt ] && fail "--output still wrote to stdout"
cmp -s out.jsonl all.jsonl || fail "--output file differs from stdout output"
python3 - sum.json all.jsonl <<'PYEOF' || fail "--summary-json does not match"
import json, sys
s = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
assert s["schema"] == "hdrscan.summary/2"
assert s["messages"] == len(recs)
for v in ("unreadable", "not_mail", "clean", "suspicious", "campaign"):
    assert s["verdicts"][v] == sum(1 for r in recs if r["verdict"] == v), v
assert s["flagged"] == s["verdicts"]["campaign"]
assert s["messages_with_errors"] == sum(1 for r in recs if r["errors"])
assert s["bytes"] == sum(r["size"] for r in recs)
PYEOF
pass "--output, --summary-json"

# Bad options and bad indicator files: exit 2, a message on stderr, nothing scanned.
for bad in "--shard 0/3" "--shard 4/3" "--shard x" "--format xml" "--min-verdict clean" "--threads -1" "--no-such-option"; do
  # shellcheck disable=SC2086
  run bad.out bad.err scan $bad "$GEN/lookalike-hybrid"
  expect_eq "$RC" 2 "exit status for '$bad'"
  [ -s bad.err ] || fail "no message for '$bad'"
  [ -s bad.out ] && fail "output despite '$bad'"
done
printf '@format hdrscan-indicators 1\n@source test\nconnector-ip 1.2.3.4/33\n' >bad.ind
run bad.out bad.err scan --indicators bad.ind "$GEN/lookalike-hybrid"
expect_eq "$RC" 2 "exit status for a bad indicator file"
grep -q 'bad.ind:3' bad.err || fail "indicator error does not name file:line: $(cat bad.err)"
run bad.out bad.err scan
expect_eq "$RC" 2 "exit status without a PATH"
run help.out help.err scan --help
expect_eq "$RC" 0 "--help"
grep -q -- '--shard' help.out || fail "--help lacks --shard"
pass "bad options"
