#!/usr/bin/env bash
# scan_inputs.sh: `hdrscan scan` reads every kind of input (files, a directory tree, mboxrd,
# Maildir, zip, standard input with one message and with an mbox stream), reports every
# message exactly once with its location and the SHA-256 of its exact bytes, keeps unreadable
# and unparsable inputs in the output with their error, and returns grep-like exit statuses.
source "$(dirname "$0")/scan_lib.bash"

C1="$GEN/consumer-onlist-full/0001.eml"
C2="$GEN/thirdparty-onlist-full/0001.eml"
L1="$GEN/lookalike-hybrid/0001.eml"
L2="$GEN/lookalike-cloud/0001.eml"
HOST="$FIX/hostile-fields.eml"
BROKEN="$FIX/broken-binary.eml"
for f in "$C1" "$C2" "$L1" "$L2" "$HOST" "$BROKEN"; do [ -f "$f" ] || fail "fixture missing: $f"; done
sha() { sha256sum "$1" | cut -d' ' -f1; }

# 1. Plain files: one record each, path as given, no index/offset/member, exact SHA-256.
run files.jsonl files.err scan --format jsonl "$C1" "$L1" "$BROKEN"
expect_eq "$(wc -l <files.jsonl)" 3 "files: records"
expect_eq "$(py '[r["source"]["path"] for r in recs]' files.jsonl)" "['$C1', '$L1', '$BROKEN']" "files: paths in input order"
expect_eq "$(py '[r["sha256"] for r in recs]' files.jsonl)" "['$(sha "$C1")', '$(sha "$L1")', '$(sha "$BROKEN")']" "files: sha256"
expect_eq "$(py 'all(r["source"]["index"] is None and r["source"]["member"] is None for r in recs)' files.jsonl)" True "files: no index/member"
expect_eq "$(py '[recs[2]["verdict"], recs[2]["score"], recs[2]["errors"][0]["code"]]' files.jsonl)" "['not_mail', None, 'not_mail']" "binary junk reported as not_mail with its reason"
expect_eq "$(py 'recs[0]["verdict"]' files.jsonl)" campaign "campaign sample flagged"
expect_eq "$RC" 1 "files: exit status with a campaign message"
pass "files"

# 2. A directory tree: every file once, in sorted path order, path = dir/sub/file.
mkdir -p tree/b tree/a/deep
cp "$C2" tree/b/m1.eml; cp "$L2" tree/a/deep/m2.eml; cp "$HOST" tree/a/m3.eml
run dir.jsonl dir.err scan --format jsonl tree
expect_eq "$(py '[r["source"]["path"] for r in recs]' dir.jsonl)" "['tree/a/deep/m2.eml', 'tree/a/m3.eml', 'tree/b/m1.eml']" "directory: paths and order"
expect_eq "$(py 'len(set(r["sha256"] for r in recs))' dir.jsonl)" 3 "directory: distinct messages"
pass "directory"

# 3. mboxrd (built by concatenation with From lines, >From quoting): index, offset, exact bytes.
python3 "$HELP" mbox box.mbox "$C1" "$HOST" "$L1" "$BROKEN" || fail "mbox build"
grep -c '^>From here on' box.mbox >/dev/null || fail "mbox fixture lacks a quoted From line"
run mbox.jsonl mbox.err scan --format jsonl box.mbox
expect_eq "$(py '[r["source"]["index"] for r in recs]' mbox.jsonl)" "[0, 1, 2, 3]" "mbox: indexes"
expect_eq "$(py 'all(r["source"]["path"] == "box.mbox" for r in recs)' mbox.jsonl)" True "mbox: path"
expect_eq "$(py '[r["sha256"] for r in recs]' mbox.jsonl)" "['$(sha "$C1")', '$(sha "$HOST")', '$(sha "$L1")', '$(sha "$BROKEN")']" "mbox: bytes unquoted exactly"
# The offset points at the message's first byte in the file.
python3 - box.mbox mbox.jsonl "$C1" <<'PYEOF' || fail "mbox: offsets"
import json, sys
data = open(sys.argv[1], "rb").read()
recs = [json.loads(l) for l in open(sys.argv[2])]
first = open(sys.argv[3], "rb").read()
offs = [r["source"]["offset"] for r in recs]
assert offs == sorted(offs) and len(set(offs)) == len(offs), offs
assert data[offs[0]:offs[0] + len(first)] == first
for r in recs:
    assert data[r["source"]["offset"] - 1:r["source"]["offset"]] == b"\n"
PYEOF
pass "mbox"

# 4. Maildir: cur/ and new/ messages, tmp/ ignored or empty.
mkdir -p md/cur md/new md/tmp
cp "$C1" "md/cur/1700000000.1.host:2,S"; cp "$L1" md/new/1700000001.2.host
run md.jsonl md.err scan --format jsonl md
expect_eq "$(wc -l <md.jsonl)" 2 "maildir: records"
expect_eq "$(py 'sorted(r["sha256"] for r in recs) == sorted(["'$(sha "$C1")'", "'$(sha "$L1")'"])' md.jsonl)" True "maildir: messages"
pass "maildir"

# 5. zip export: one record per member, member named, bytes exact; a junk member is reported.
python3 - "$C1" "$L2" <<'PYEOF' || fail "zip build"
import sys, zipfile
with zipfile.ZipFile("export.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "quarantine/one.eml")
    z.write(sys.argv[2], "quarantine/two.eml")
    z.writestr("quarantine/junk.eml", b"\x00\x01\x02 not a message\x00")
PYEOF
run zip.jsonl zip.err scan --format jsonl export.zip
expect_eq "$(py 'sorted(r["source"]["member"] for r in recs)' zip.jsonl)" "['quarantine/junk.eml', 'quarantine/one.eml', 'quarantine/two.eml']" "zip: members"
expect_eq "$(py '{r["source"]["member"]: r["sha256"] for r in recs}["quarantine/one.eml"]' zip.jsonl)" "$(sha "$C1")" "zip: member bytes"
expect_eq "$(py '[r["errors"] != [] for r in recs if r["source"]["member"] == "quarantine/junk.eml"]' zip.jsonl)" "[True]" "zip: junk member has an error"
pass "zip"

# 6. Standard input: one message, and an mbox stream (a filter in a pipeline).
"$BIN" scan --format jsonl - <"$C2" >stdin1.jsonl; RC=$?
expect_eq "$(py '[(r["source"]["path"], r["sha256"]) for r in recs]' stdin1.jsonl)" "[('-', '$(sha "$C2")')]" "stdin: one message"
cat box.mbox | "$BIN" scan --format jsonl - >stdin2.jsonl
expect_eq "$(py '[r["sha256"] for r in recs]' stdin2.jsonl)" "$(py '[r["sha256"] for r in recs]' mbox.jsonl)" "stdin: mbox stream"
expect_eq "$(py '[r["source"]["index"] for r in recs]' stdin2.jsonl)" "[0, 1, 2, 3]" "stdin: indexes"
pass "stdin"

# 7. Exit statuses: 0 nothing flagged, 1 flagged (per --min-verdict), 2 unreadable input (the
# other inputs are still scanned and the missing one is a failed record).
run clean.jsonl clean.err scan --format jsonl "$L1" "$HOST"
expect_eq "$(py 'any(r["verdict"] == "campaign" for r in recs)' clean.jsonl)" False "look-alikes are not campaign"
expect_eq "$RC" 0 "exit status without a campaign message"
WANT=$(py '1 if any(r["verdict"] != "clean" for r in recs) else 0' clean.jsonl)
run clean2.jsonl clean2.err scan --format jsonl --min-verdict suspicious "$L1" "$HOST"
expect_eq "$RC" "$WANT" "exit status with --min-verdict suspicious"
run miss.jsonl miss.err scan --format jsonl "$WORK/does-not-exist.eml" "$C1"
expect_eq "$RC" 2 "exit status with an unreadable input"
grep -q 'does-not-exist.eml' miss.err || fail "unreadable input not reported on stderr"
expect_eq "$(py '[(r["verdict"], r["score"], r["failed"], r["errors"][0]["code"] if r["errors"] else None) for r in recs][0]' miss.jsonl)" "('unreadable', None, True, 'not_found')" "a missing path is an unreadable record, never clean"
expect_eq "$(py 'recs[1]["sha256"]' miss.jsonl)" "$(sha "$C1")" "scan goes on after an unreadable input"
pass "exit statuses"

# 8. --only-matches prints just the flagged messages; the exit status still says so.
run only.jsonl only.err scan --format jsonl --only-matches "$C1" "$L1" "$C2" "$HOST"
expect_eq "$(py 'sorted(set(r["verdict"] for r in recs))' only.jsonl)" "['campaign']" "--only-matches keeps campaign only"
run all4.jsonl all4.err scan --format jsonl "$C1" "$L1" "$C2" "$HOST"
expect_eq "$(py '[r["seq"] for r in recs]' only.jsonl)" "$(py '[r["seq"] for r in recs if r["verdict"] == "campaign"]' all4.jsonl)" "--only-matches keeps the global seq"
expect_eq "$(py 'len(recs)' only.jsonl)" 2 "--only-matches: both campaign samples"
expect_eq "$RC" 1 "--only-matches exit status"
pass "only-matches"
# 9. Messages concatenated without separators (cat *.eml > x): one record each, located
# x#N@offset, each with the bytes and verdict of its file; explain reaches them by location.
cat "$C1" "$L1" "$C2" >cat.eml
run cat.jsonl cat.err scan --format jsonl cat.eml
expect_eq "$(py '[(r["source"]["index"], r["sha256"]) for r in recs]' cat.jsonl)" \
  "[(0, '$(sha "$C1")'), (1, '$(sha "$L1")'), (2, '$(sha "$C2")')]" "concatenation: split into its messages"
expect_eq "$(py 'all(any(d["code"] == "concatenated_messages" for d in r["defects"]) for r in recs)' cat.jsonl)" True \
  "concatenation: each record says so"
"$BIN" explain --format json "cat.eml#1" >cat1.json || [ $? = 1 ] || fail "explain cat.eml#1"
expect_eq "$(python3 -c 'import json; print(json.load(open("cat1.json"))["sha256"])')" "$(sha "$L1")" "explain cat.eml#1"
pass "concatenated messages"
# 10. A header block alone (Get-QuarantineMessageHeader, a clipboard): analysed on its headers,
# the defect headers_only, and explain shows the body checks as not evaluated.
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); i = d.find(b"\r\n\r\n"); sys.stdout.buffer.write(d[:i + 2])' "$C1" >hdr.txt
run hdr.jsonl hdr.err scan --format jsonl - <hdr.txt
expect_eq "$(py '[d["code"] for d in recs[0]["defects"]]' hdr.jsonl)" "['headers_only']" "headers only: the defect"
expect_eq "$(py 'recs[0]["score"] is not None' hdr.jsonl)" True "headers only: analysed"
"$BIN" explain --format json hdr.txt >hdr.json || [ $? = 1 ] || fail "explain hdr.txt"
python3 - hdr.json <<'PYEOF' || fail "headers only: explain does not show body checks as not evaluated"
import json, sys
m = json.load(open(sys.argv[1]))
body = [c for c in m["checks"] if c["signal"].startswith("body.") and not c["fired"]]
assert body and all(c["evaluated"] is False for c in body), body
assert all(c["evaluated"] for c in m["checks"] if not c["signal"].startswith(("body.", "integrity.")))
PYEOF
"$BIN" explain hdr.txt | grep -q '^  n/e    body\.' || fail "explain text: no n/e marks"
pass "headers only"
echo "scan_inputs: all passed"
