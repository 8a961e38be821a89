#!/usr/bin/env bash
# scan_pst.sh: Outlook PST files (mime/sources/source_pst.cpp, libpff) against the oracle
# `readpst -e` (pst-utils) on the real PSTs of ../shared/corpus/outlook/pst: every mail item
# readpst writes as .eml is one analysed record, with the same subject; every other item
# (contacts, distribution lists, appointments, free/busy data) is one not_mail record, so a
# PST holding no mail says so; locations name the folder ("box.pst!/Top of.../Inbox#0") and
# go back through explain; a PST inside a zip is read the same way; a truncated PST is an
# unreadable record (corrupt) and exit status 2. The embedded message with transport headers
# in msgInMsg.pst is compared with the same message read from its .msg twin in
# tests/unit/mime_sources_msg_test.cpp.
source "$(dirname "$0")/scan_lib.bash"
command -v readpst >/dev/null || fail "readpst missing (pst-utils, tools/install-deps.sh)"
shared_part "real PST files" "$SHARED/outlook/pst/rubymsg_msgInMsg.pst" \
  "$SHARED/outlook/pst/javalibpst_dist-list.pst" || shared_exit
PST="$SHARED/outlook/pst"

# 1. Each PST against readpst -e: mail items and their subjects, the rest not_mail.
for f in "$PST"/*.pst; do
  n=$(basename "$f" .pst)
  mkdir -p "oracle/$n"
  readpst -q -e -o "oracle/$n" "$f" >/dev/null 2>&1 || fail "readpst $n"
  run "$n.jsonl" "$n.err" scan --format jsonl "$f"
  python3 - "$n.jsonl" "oracle/$n" "$RC" <<'PYEOF' || fail "$n against readpst"
import email, email.header, json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
emls, others = [], 0
for base, _, files in os.walk(sys.argv[2]):
    for f in files:
        if f.endswith(".eml"):
            m = email.message_from_bytes(open(os.path.join(base, f), "rb").read())
            emls.append(str(email.header.make_header(email.header.decode_header(m.get("Subject", "")))))
        else:
            others += 1
mail = [r for r in recs if r["verdict"] in ("clean", "suspicious", "campaign")]
assert sorted(r["subject"] for r in mail) == sorted(emls), (sorted(r["subject"] for r in mail), sorted(emls))
assert all(r["verdict"] == "not_mail" for r in recs if r not in mail), [r["verdict"] for r in recs]
assert len(recs) - len(mail) >= others, (len(recs) - len(mail), others)  # readpst skips free/busy
assert all(r["source"]["folder"].startswith("/") and r["source"]["index"] is not None for r in recs)
assert int(sys.argv[3]) == 0, "exit status %s" % sys.argv[3]
print("%s: %d mail (readpst %d), %d not mail" % (os.path.basename(sys.argv[2]), len(mail), len(emls), len(recs) - len(mail)))
PYEOF
done
pass "every PST: readpst's messages analysed with the same subjects, the other items not_mail"

# 2. Locations back through explain; the same PST inside a zip (read in memory).
LOC=$(py 'recs[0]["source"]["path"].replace("!", "\\!").replace("#", "\\#") + "!" + recs[0]["source"]["folder"] + "#0"' rubymsg_msgInMsg.jsonl)
"$BIN" explain --format json "$LOC" >x.json || [ $? = 1 ] || fail "explain $LOC"
expect_eq "$(python3 -c 'import json,sys; m=json.load(open("x.json")); print(m["location"] == sys.argv[1], m["subject"])' "$LOC")" \
  "True I have attachments!" "explain of a PST location"
cp "$PST/rubymsg_msgInMsg.pst" box.pst && zip -q box.zip box.pst || fail "zip"
run z.jsonl z.err scan --format jsonl box.zip
expect_eq "$(py '[(r["source"]["member"], r["source"]["folder"], r["source"]["index"], r["sha256"]) for r in recs]' z.jsonl)" \
  "$(py '[("box.pst", r["source"]["folder"], r["source"]["index"], r["sha256"]) for r in recs]' rubymsg_msgInMsg.jsonl)" "a PST in a zip"
pass "PST locations through explain; a PST inside a zip"

# 3. A truncated PST: unreadable, exit status 2.
head -c 20000 "$PST/rubymsg_msgInMsg.pst" >cut.pst
run cut.jsonl cut.err scan --format jsonl cut.pst "$GEN/lookalike-hybrid/0001.eml"
expect_eq "$RC" 2 "truncated PST: exit status"
expect_eq "$(py '[r["verdict"] for r in recs][-1] != "unreadable" and any(r["verdict"] == "unreadable" and r["errors"][0]["code"] == "corrupt" for r in recs)' cut.jsonl)" \
  True "truncated PST: a corrupt record, and the scan goes on"
pass "a truncated PST"
shared_exit
