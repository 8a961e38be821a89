#!/usr/bin/env bash
# scan_msg.sh: Outlook .msg inputs. Campaign positives and look-alikes of every generated
# family are written into .msg form (tests/support/msg_writer.py, independent of hdrscan's
# reader: PR_HTML, HTML only in compressed RTF, 8-bit strings) and each .msg must get the
# verdict and score of the .eml it was made from, its evidence equal but for the DKIM body
# hash (Outlook keeps no original body bytes: a bh= can no longer match, weight 0). Then .msg
# files inside a zip (reported phishing), a .msg without transport headers (a defect, shown by
# explain), a compound file that is no message (not_mail), and the real .msg files of
# ../shared/corpus/outlook (all read; the header-level oracle comparison with msgconvert is
# tests/unit/mime_sources_msg_test.cpp).
source "$(dirname "$0")/scan_lib.bash"
WRITER="$SRC/tests/support/msg_writer.py"

# 1. Every generated family with .eml files, its first message, in three .msg variants.
pairs=(); emls=()
for d in "$GEN"/*/; do
  f=$(ls "$d"*.eml 2>/dev/null | head -1)
  [ -n "$f" ] || continue
  n=$(basename "$d"); emls+=("$f")
  pairs+=("$f" "$n.msg")
done
[ ${#emls[@]} -ge 20 ] || fail "only ${#emls[@]} families with .eml files"
mkdir -p html rtf 8bit
python3 "$WRITER" "${pairs[@]}" || fail "msg_writer"
mv ./*.msg html/
python3 "$WRITER" --rtf-only "${pairs[@]}" && mv ./*.msg rtf/ || fail "msg_writer --rtf-only"
python3 "$WRITER" --8bit "${pairs[@]}" && mv ./*.msg 8bit/ || fail "msg_writer --8bit"
run fam.jsonl fam.err scan --format jsonl "${emls[@]}" html rtf 8bit
expect_eq "$RC" 1 "families: exit status"
python3 - fam.jsonl "$GEN" <<'PYEOF' || fail "a .msg does not get the verdict of its .eml"
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
eml = {r["source"]["path"].split("/")[-2]: r for r in recs if r["source"]["path"].endswith(".eml")}
msgs = [r for r in recs if r["source"]["path"].endswith(".msg")]
assert len(msgs) == 3 * len(eml), (len(msgs), len(eml))
bad = 0
for m in msgs:
    fam = os.path.basename(m["source"]["path"])[:-4]
    e = eml[fam]
    ev = lambda r: sorted((x["signal"], x["weight"], x["message"]) for x in r["evidence"]
                          if x["signal"] != "integrity.body_hash_mismatch")
    if (m["verdict"], m["score"], ev(m)) != (e["verdict"], e["score"], ev(e)) or m["errors"]:
        bad += 1
        print("%s: %s %s, the .eml %s %s; evidence +%s -%s; errors %s" % (
            m["source"]["path"], m["verdict"], m["score"], e["verdict"], e["score"],
            set(ev(m)) - set(ev(e)), set(ev(e)) - set(ev(m)), m["errors"]))
camp = sum(1 for m in msgs if m["verdict"] == "campaign")
print("families: %d .msg, %d campaign, %d differ from their .eml" % (len(msgs), camp, bad))
sys.exit(1 if bad or camp < 30 else 0)
PYEOF
pass "every family's .msg (PR_HTML, RTF-only, 8-bit) gets its .eml's verdict and score"

# 2. Reported phishing: .msg files in a zip, read by content, located, explained.
(cd html && zip -q ../reported.zip consumer-onlist-full.msg lookalike-hybrid.msg) || fail "zip"
run z.jsonl z.err scan --format jsonl reported.zip
expect_eq "$(py '[(r["source"]["member"], r["verdict"]) for r in recs]' z.jsonl)" \
  "[('consumer-onlist-full.msg', 'campaign'), ('lookalike-hybrid.msg', '$(py '[r["verdict"] for r in recs if r["source"]["path"] == "html/lookalike-hybrid.msg"][0]' fam.jsonl)')]" \
  "zip of .msg files"
"$BIN" explain --format json 'reported.zip!consumer-onlist-full.msg' >x.json || [ $? = 1 ] || fail "explain zip!msg"
expect_eq "$(python3 -c 'import json; m=json.load(open("x.json")); print(m["verdict"], m["location"])')" \
  "campaign reported.zip!consumer-onlist-full.msg" "explain of a .msg in a zip"
pass "zip of .msg files; explain 'reported.zip!x.msg'"

# 3. No transport headers (a sent item, a draft): analysed on what it has, and says so.
python3 "$WRITER" --no-transport-headers "$GEN/consumer-onlist-full/0001.eml" sent.msg || fail "writer"
run s.jsonl s.err scan --format jsonl sent.msg
expect_eq "$(py '[d["code"] for d in recs[0]["defects"]]' s.jsonl | grep -c msg_no_transport_headers)" 1 "defect msg_no_transport_headers"
expect_eq "$(py 'recs[0]["verdict"] in ("clean", "suspicious") and recs[0]["subject"] != ""' s.jsonl)" True \
  "without transport headers: analysed on its properties, never campaign on the body alone"
"$BIN" explain sent.msg >sent.txt || [ $? = 1 ] || fail "explain sent.msg"
grep -q 'msg_no_transport_headers' sent.txt || fail "explain does not show msg_no_transport_headers"
pass "a .msg without transport headers: defect, shown by explain"

# 4. A compound file that is no Outlook message (an Office document): not_mail.
python3 - "$SRC/tests/support" <<'PYEOF' || fail "compound file writer"
import sys
sys.path.insert(0, sys.argv[1])
import msg_writer
root = msg_writer.Node("Root Entry")
root.stream("WordDocument", b"\xec\xa5" + b"\0" * 5000)
root.stream("\x05SummaryInformation", b"\xfe\xff" + b"\0" * 100)
open("report.doc", "wb").write(msg_writer.cfb(root))
PYEOF
run d.jsonl d.err scan --format jsonl report.doc
expect_eq "$(py '[(r["verdict"], r["errors"][0]["detail"]) for r in recs]' d.jsonl)" \
  "[('not_mail', 'not a message: OLE compound file without message properties (an Office document?)')]" "Word document"
expect_eq "$RC" 0 "not_mail alone: exit status 0"
pass "a compound file without a message is not_mail"

# 5. The real .msg files: every one read and analysed.
if shared_part "real .msg files" "$SHARED/outlook/msg"; then
  run real.jsonl real.err scan --format jsonl "$SHARED/outlook/msg"
  expect_eq "$(py 'len(recs)' real.jsonl)" 13 "real .msg files: records"
  expect_eq "$(py 'all(r["verdict"] in ("clean", "suspicious") for r in recs)' real.jsonl)" True \
    "real .msg files: all analysed, none campaign (legitimate mail)"
  expect_eq "$RC" 0 "real .msg files: exit status"
  expect_eq "$(py 'sum(1 for r in recs if any(d["code"] == "msg_no_transport_headers" for d in r["defects"]))' real.jsonl)" \
    7 "real .msg files without transport headers (said so)"
  pass "13 real .msg files"
fi
shared_exit
