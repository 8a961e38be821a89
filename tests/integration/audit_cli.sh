#!/usr/bin/env bash
# audit_cli: `hdrscan audit` as a user runs it: exit status (0 benign, 1 attack, 2 unreadable
# input or bad option), --min-severity, --output, JSON Lines shape, malformed rows reported
# with file:line while the rest is processed, and the same findings from every export form.
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
set -u
bin=$1 src=$2 scratch=$4
a="$src/corpus/audit"
mkdir -p "$scratch"
fail() { echo "FAIL: $*"; exit 1; }
status() { "$@" >/dev/null 2>&1; echo $?; }

for f in benign.csv benign.json benign.jsonl benign-cloudappevents.csv; do
  [ "$(status "$bin" audit "$a/$f")" -eq 0 ] || fail "benign $f: want exit 0"
  [ "$(status "$bin" audit --min-severity medium "$a/$f")" -eq 1 ] || fail "benign $f at medium: want exit 1"
done
for f in attack.csv attack.json attack.jsonl attack-cloudappevents.csv attack-malformed.csv attack-malformed.json attack-malformed.jsonl; do
  [ "$(status "$bin" audit "$a/$f")" -eq 1 ] || fail "attack $f: want exit 1"
done
[ "$(status "$bin" audit "$scratch/does-not-exist.csv")" -eq 2 ] || fail "missing input: want exit 2"
[ "$(status "$bin" audit "$a/attack.csv" "$scratch/does-not-exist.csv")" -eq 2 ] || fail "attack + missing input: want exit 2"
[ "$(status "$bin" audit --min-severity extreme "$a/attack.csv")" -eq 2 ] || fail "bad --min-severity: want exit 2"
[ "$(status "$bin" audit --format xml "$a/attack.csv")" -eq 2 ] || fail "bad --format: want exit 2"

# --output writes the timeline to the file, nothing to stdout
out="$scratch/timeline.txt"
rm -f "$out"
stdout=$("$bin" audit --output "$out" "$a/attack.jsonl" 2>/dev/null)
[ -z "$stdout" ] || fail "--output: stdout not empty"
grep -q 'connector.ran_name' "$out" || fail "--output file lacks connector.ran_name"
grep -q "^tenant " "$out" || fail "--output file lacks the tenant heading"

# JSON Lines: every line an object with a type; the same finding ids from every form
ids() {
  "$bin" audit --format jsonl "$1" 2>/dev/null | python3 -c '
import json, sys
ids = set()
types = set()
for line in sys.stdin:
    o = json.loads(line)
    types.add(o["type"])
    if o["type"] == "finding":
        assert o["evidence"], "finding without evidence: %s" % o["id"]
        assert o["source"]["path"] and o["source"]["line"] > 0
        ids.add(o["id"] + ":" + o["severity"])
assert "summary" in types
print(" ".join(sorted(ids)))
'
}
ref=$(ids "$a/attack.csv") || fail "jsonl of attack.csv does not parse"
for f in attack.json attack.jsonl attack-cloudappevents.csv attack-malformed.csv attack-malformed.json attack-malformed.jsonl; do
  got=$(ids "$a/$f") || fail "jsonl of $f does not parse"
  [ "$got" = "$ref" ] || fail "$f findings differ from attack.csv:\n $got\n vs\n $ref"
done

# malformed rows: reported with file:line on stderr, the rest processed
"$bin" audit "$a/attack-malformed.csv" >/dev/null 2>"$scratch/malformed.err"
for want in "attack-malformed.csv:5: AuditData is not valid JSON" "attack-malformed.csv:9: CSV: quoted field not closed" \
            "attack-malformed.csv:14: CSV: 5 columns, header has 4" "attack-malformed.csv:17: record has no Operation" \
            "attack-malformed.csv:32: 1 invalid UTF-8"; do
  grep -qF "$want" "$scratch/malformed.err" || fail "stderr lacks '$want': $(cat "$scratch/malformed.err")"
done
echo "ok"
exit 0
