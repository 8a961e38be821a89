#!/usr/bin/env bash
# scan_archives.sh: the files a Microsoft 365 investigation produces, built at test time from
# project samples with independent tools (zip -P, 7z, tar, gzip, xz, bzip2, zstd): the
# Defender portal's password-protected "Quarantined Messages.zip", an Export-QuarantineMessage
# -CompressOutput -Password zip (a folder per quarantine GUID, AES) with an export's
# Manifest.xml and Results.csv, a tar.gz of a Maildir, an mbox in four compressions, a 7z,
# archives nested in archives. Every member is reported with its exact location, the verdict,
# score and SHA-256 of the same .eml scanned on its own, and every failure with its code:
# not_found, empty_input, encrypted_no_password, wrong_password, truncated, corrupt,
# unsupported_format, too_deep, not_mail. Exit status 2 exactly when something is unreadable.
# Every location scan prints goes back through `hdrscan explain` to the same message.
source "$(dirname "$0")/scan_lib.bash"

for t in zip gzip xz bzip2 zstd tar; do command -v $t >/dev/null || fail "$t missing (tools/install-deps.sh)"; done
HAVE7Z=0; command -v 7z >/dev/null && HAVE7Z=1

C1="$GEN/consumer-onlist-full/0001.eml"
C2="$GEN/thirdparty-onlist-full/0001.eml"
L1="$GEN/lookalike-hybrid/0001.eml"
L2="$GEN/lookalike-cloud/0001.eml"
for f in "$C1" "$C2" "$L1" "$L2"; do [ -f "$f" ] || fail "fixture missing: $f"; done
PW='Quarant1ne!'

# The oracle: each sample scanned on its own (sha256 -> "verdict score").
run solo.jsonl solo.err scan --format jsonl "$C1" "$C2" "$L1" "$L2"
py 'json.dumps({r["sha256"]: "%s %s" % (r["verdict"], r["score"]) for r in recs})' solo.jsonl >oracle.json
expect_eq "$(py '[r["verdict"] for r in recs][0]' solo.jsonl)" campaign "campaign sample flagged alone"

# check JSONL 'expected list of [location, sha-of-file or CODE]': every record, in order, its
# location text; an analysed one has the oracle's verdict and score for its bytes.
check() {
  python3 - "$1" oracle.json "$2" "$3" <<'PYEOF' || fail "$3"
import hashlib, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
oracle = json.load(open(sys.argv[2]))
want = json.loads(sys.argv[3])
CODES = {"not_found", "io_error", "empty_input", "truncated", "corrupt", "unsupported_format",
         "encrypted_no_password", "wrong_password", "too_deep", "not_mail"}
def loc(r):
    s = r["source"]
    esc = lambda t: t.replace("\\", "\\\\").replace("!", "\\!").replace("#", "\\#")
    t = esc(s["path"])
    if s["member"]: t += "!" + s["member"]
    if s["folder"]: t += "!" + esc(s["folder"])
    if s["index"] is not None: t += "#%d" % s["index"]
    if s["offset"] is not None: t += "@%d" % s["offset"]
    return t
got = [loc(r) for r in recs]
assert got == [w[0] for w in want], "locations:\n got  %s\n want %s" % (got, [w[0] for w in want])
for r, (where, what) in zip(recs, want):
    if what in CODES:
        code = r["errors"][0]["code"] if r["errors"] else None
        assert code == what, "%s: error %s, expected %s (%s)" % (where, code, what, r["errors"])
        assert r["score"] is None, "%s: a score without analysis" % where
        assert r["verdict"] == ("not_mail" if what == "not_mail" else "unreadable"), (where, r["verdict"])
        assert r["failed"] == (r["verdict"] == "unreadable"), where
    else:
        sha = hashlib.sha256(open(what, "rb").read()).hexdigest()
        assert r["sha256"] == sha, "%s: bytes differ from %s" % (where, what)
        assert "%s %s" % (r["verdict"], r["score"]) == oracle[sha], \
            "%s: %s %s, alone %s" % (where, r["verdict"], r["score"], oracle[sha])
        assert not r["errors"], (where, r["errors"])
PYEOF
}

# 1. The Defender portal's "Download messages": a ZipCrypto zip of .eml files named by id.
mkdir -p dl && cp "$C1" dl/7d1e9a33-1111-4c2b-9d57-0d6c2f0c0001.eml && cp "$L1" dl/7d1e9a33-2222-4c2b-9d57-0d6c2f0c0002.eml
(cd dl && zip -q -P "$PW" "../Quarantined Messages.zip" ./*.eml) || fail "zip -P"
Q="Quarantined Messages.zip"
QA="$Q!7d1e9a33-1111-4c2b-9d57-0d6c2f0c0001.eml"; QB="$Q!7d1e9a33-2222-4c2b-9d57-0d6c2f0c0002.eml"
run q0.jsonl q0.err scan --format jsonl "$Q"
expect_eq "$RC" 2 "encrypted zip without a password: exit status"
check q0.jsonl "[[\"$QA\", \"encrypted_no_password\"], [\"$QB\", \"encrypted_no_password\"]]" "no password"
grep -q -- '--password' <(py 'recs[0]["errors"][0]["detail"]' q0.jsonl) || fail "no hint naming --password"
run q1.jsonl q1.err scan --format jsonl --password wrong "$Q"
expect_eq "$RC" 2 "wrong password: exit status"
check q1.jsonl "[[\"$QA\", \"wrong_password\"], [\"$QB\", \"wrong_password\"]]" "wrong password"
run q2.jsonl q2.err scan --format jsonl --password wrong --password "$PW" "$Q"
expect_eq "$RC" 1 "right password (second of two): exit status"
check q2.jsonl "[[\"$QA\", \"$C1\"], [\"$QB\", \"$L1\"]]" "right password"
printf 'first\r\n\n%s\n' "$PW" >pw.txt
run q3.jsonl q3.err scan --format jsonl --password-file pw.txt "$Q"
cmp -s q2.jsonl q3.jsonl || fail "--password-file differs from --password"
HDRSCAN_PASSWORD="$PW" "$BIN" scan --format jsonl "$Q" >q4.jsonl 2>/dev/null
cmp -s q2.jsonl q4.jsonl || fail "HDRSCAN_PASSWORD differs from --password"
run q5.out q5.err scan --password-file no-such-file "$Q"
expect_eq "$RC" 2 "unreadable --password-file"
grep -q 'no-such-file' q5.err || fail "--password-file error does not name the file"
# A wrong password that passes ZipCrypto's one-byte check (1 in 256: the data then fail their
# CRC) given before the right one: the member is still read with the right one. Found here by
# decrypting the member's 12-byte encryption header as PKWARE's APPNOTE 6.1 says.
LUCKY=$(python3 - "$Q" <<'PYEOF'
import struct, sys, zipfile, zlib
def raw_crc(c, b):  # one step of the CRC-32 register, no pre/post inversion
    return zlib.crc32(bytes([b]), c ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
def passes(pw, head, check):
    k = [0x12345678, 0x23456789, 0x34567890]
    def upd(c):
        k[0] = raw_crc(k[0], c)
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = raw_crc(k[2], k[1] >> 24)
    for c in pw: upd(c)
    last = 0
    for c in head:
        t = (k[2] | 2) & 0xFFFF
        last = c ^ (((t * (t ^ 1)) >> 8) & 0xFF)
        upd(last)
    return last == check
z = zipfile.ZipFile(sys.argv[1])
info = z.infolist()[0]
raw = open(sys.argv[1], "rb").read()
n, e = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
start = info.header_offset + 30 + n + e
check = (info._raw_time >> 8) & 0xFF if info.flag_bits & 0x8 else (info.CRC >> 24) & 0xFF
for i in range(100000):
    pw = b"lucky-%d" % i
    if passes(pw, raw[start:start + 12], check):
        print(pw.decode()); break
PYEOF
)
[ -n "$LUCKY" ] || fail "no password passing the ZipCrypto check found"
run qL.jsonl qL.err scan --format jsonl --password "$LUCKY" --password "$PW" "$Q"
expect_eq "$RC" 1 "a wrong password passing the check, then the right one: exit status"
cmp -s q2.jsonl qL.jsonl || fail "a lucky wrong password first changes the records"
run qW.jsonl qW.err scan --format jsonl --password "$LUCKY" "$Q"
check qW.jsonl "[[\"$QA\", \"wrong_password\"], [\"$QB\", \"wrong_password\"]]" "lucky wrong password alone"
pass "Defender quarantine download (ZipCrypto): no, wrong, right password; file and env; a wrong password passing the check byte"

# 2. Export-QuarantineMessage -CompressOutput -Password: a folder per quarantine GUID (AES),
# and an eDiscovery export's Manifest.xml and Results.csv next to the mail.
G1=4b2f0c1e-0000-4a5b-8c9d-000000000001; G2=4b2f0c1e-0000-4a5b-8c9d-000000000002
mkdir -p ex/$G1 ex/$G2
cp "$C2" ex/$G1/$G1.eml; cp "$L2" ex/$G2/$G2.eml
printf '<?xml version="1.0" encoding="utf-8"?>\n<Root><Batch/></Root>\n' >ex/Manifest.xml
printf 'Received,SenderAddress,RecipientAddress,Subject\n2022-07-04T18:56:53,a@b.example,c@d.example,Prize\n' >ex/Results.csv
if [ $HAVE7Z = 1 ]; then
  (cd ex && 7z a -tzip -mem=AES256 -p"$PW" ../export.zip $G1 $G2 Manifest.xml Results.csv >/dev/null) || fail "7z AES zip"
else
  echo "SKIP: 7z missing: the export zip is built with ZipCrypto instead of AES"
  (cd ex && zip -q -r -P "$PW" ../export.zip $G1 $G2 Manifest.xml Results.csv) || fail "zip export"
fi
run ex.jsonl ex.err scan --format jsonl --password "$PW" export.zip
expect_eq "$RC" 1 "export with password: exit status (not_mail does not make it 2)"
# 7z stores entries in its own order: compare as a set of (location, what).
python3 - ex.jsonl <<'PYEOF' || fail "export locations"
import json, sys
got = sorted((r["source"]["member"], r["verdict"]) for r in map(json.loads, open(sys.argv[1])))
g1, g2 = "4b2f0c1e-0000-4a5b-8c9d-000000000001", "4b2f0c1e-0000-4a5b-8c9d-000000000002"
assert [m for m, _ in got] == sorted(["%s/%s.eml" % (g1, g1), "%s/%s.eml" % (g2, g2),
                                      "Manifest.xml", "Results.csv"]), got
assert dict(got)["Manifest.xml"] == "not_mail" and dict(got)["Results.csv"] == "not_mail", got
PYEOF
expect_eq "$(py '[r["verdict"] for r in recs if r["source"]["member"].startswith("'$G1'")]' ex.jsonl)" \
  "['$(py 'recs[1]["verdict"]' solo.jsonl)']" "export: the GUID folder's message has its own verdict"
pass "Export-QuarantineMessage zip: GUID folders, Manifest.xml and Results.csv are not_mail"

# 3. A tar.gz of a Maildir, and an mbox in four compressions (index and offset in the
# uncompressed stream), and standard input compressed.
mkdir -p md/Maildir/cur md/Maildir/new md/Maildir/tmp
cp "$C1" "md/Maildir/cur/1700000000.1.host:2,S"; cp "$L2" md/Maildir/new/1700000001.2.host
tar -C md -czf corpus.tar.gz Maildir || fail "tar"
python3 "$HELP" mbox box.mbox "$C1" "$L1" "$C2" || fail "mbox build"
gzip -kf box.mbox && xz -kf box.mbox && bzip2 -kf box.mbox && zstd -qkf box.mbox || fail "compressors"
run plain.jsonl plain.err scan --format jsonl box.mbox
run tg.jsonl tg.err scan --format jsonl corpus.tar.gz box.mbox.gz box.mbox.xz box.mbox.bz2 box.mbox.zst
expect_eq "$RC" 1 "tar.gz and compressed mboxes: exit status"
offs=$(py '[r["source"]["offset"] for r in recs]' plain.jsonl | tr -d '[],')
set -- $offs
mb() { echo "[\"box.mbox.$1#0@$2\", \"$C1\"], [\"box.mbox.$1#1@$3\", \"$L1\"], [\"box.mbox.$1#2@$4\", \"$C2\"]"; }
TAR_ORDER=$(tar -tzf corpus.tar.gz | grep -v '/$' | tr '\n' ' ')
want_tar=""
for m in $TAR_ORDER; do
  case $m in *cur/*) f=$C1 ;; *) f=$L2 ;; esac
  want_tar+="[\"corpus.tar.gz!$m\", \"$f\"], "
done
check tg.jsonl "[$want_tar $(mb gz "$@"), $(mb xz "$@"), $(mb bz2 "$@"), $(mb zst "$@")]" "tar.gz and mboxes"
"$BIN" scan --format jsonl - <box.mbox.gz >stdin.jsonl
expect_eq "$(py '[(r["source"]["path"], r["source"]["index"], r["sha256"]) for r in recs]' stdin.jsonl)" \
  "$(py '[("-", r["source"]["index"], r["sha256"]) for r in recs]' plain.jsonl)" "gzip on standard input"
pass "tar.gz of a Maildir; mbox .gz .xz .bz2 .zst; gzip on stdin"

# 4. Nested: the quarantine zip and the tar.gz inside a zip inside a 7z (or a zip).
zip -q inner.zip "$Q" corpus.tar.gz || fail "inner zip"
if [ $HAVE7Z = 1 ]; then 7z a nest.7z inner.zip >/dev/null || fail "7z"; N=nest.7z; else zip -q nest.zip inner.zip; N=nest.zip; fi
run n.jsonl n.err scan --format jsonl --password "$PW" "$N"
want="[[\"$N!inner.zip!$QA\", \"$C1\"], [\"$N!inner.zip!$QB\", \"$L1\"]"
for m in $TAR_ORDER; do case $m in *cur/*) f=$C1 ;; *) f=$L2 ;; esac; want+=", [\"$N!inner.zip!corpus.tar.gz!$m\", \"$f\"]"; done
check n.jsonl "$want]" "nested archives"
# Deeper than 4 levels: the fifth archive is reported too_deep, not opened.
cp inner.zip l1.zip; for i in 2 3 4 5; do zip -q l$i.zip l$((i - 1)).zip; done
run deep.jsonl deep.err scan --format jsonl l5.zip
check deep.jsonl '[["l5.zip!l4.zip!l3.zip!l2.zip!l1.zip", "too_deep"]]' "too_deep"
expect_eq "$RC" 2 "too_deep: exit status"
pass "nested archives ($N!inner.zip!...), too_deep at the fifth level"

# 5. Failures, each with its code, the rest of the scan going on.
: >empty.eml
# A cut gzip: an mbox of 60 distinct messages (so the gzip is large enough to stream for a
# while before the cut), its gzip cut at two thirds.
python3 "$HELP" mbox long.mbox $(ls "$GEN"/consumer-onlist-full/*.eml | head -60) || fail "long mbox"
gzip -c long.mbox | head -c $(($(gzip -c long.mbox | wc -c) * 2 / 3)) >cut.mbox.gz
cp export.zip corrupt.zip
python3 - corrupt.zip <<'PYEOF' || fail "corrupt zip"
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"PK\x03\x04", 1) if b.count(b"PK\x03\x04") > 1 else 0
for k in range(60, 400):  # inside the first member's compressed data
    b[k] ^= 0xA5
open(sys.argv[1], "wb").write(bytes(b))
PYEOF
run f.jsonl f.err scan --format jsonl --password "$PW" nope.eml empty.eml cut.mbox.gz /bin/ls "$C1"
expect_eq "$RC" 2 "failures: exit status"
expect_eq "$(py '[r["verdict"] + ":" + (r["errors"][0]["code"] if r["errors"] else "") for r in recs][:2]' f.jsonl)" \
  "['unreadable:not_found', 'unreadable:empty_input']" "missing and empty inputs"
expect_eq "$(py '[r["errors"][0]["code"] for r in recs if r["source"]["path"] == "cut.mbox.gz" and r["errors"]]' f.jsonl)" \
  "['truncated']" "a cut gzip: the messages before the cut are read, the cut one is truncated"
expect_eq "$(py '[r["verdict"] for r in recs if r["source"]["path"] == "cut.mbox.gz"][0]' f.jsonl)" campaign "before the cut"
expect_eq "$(py '[(r["verdict"], r["errors"][0]["detail"]) for r in recs if r["source"]["path"] == "/bin/ls"]' f.jsonl)" \
  "[('not_mail', 'not a message: ELF executable')]" "/bin/ls"
expect_eq "$(py 'recs[-1]["verdict"]' f.jsonl)" campaign "the scan goes on after the failures"
run c.jsonl c.err scan --format jsonl --password "$PW" corrupt.zip
expect_eq "$(py 'any(r["verdict"] == "unreadable" and r["errors"][0]["code"] in ("corrupt", "wrong_password") for r in recs)' c.jsonl)" \
  True "a damaged encrypted member (bad data or a failed check: corrupt or wrong_password)"
printf '' | "$BIN" scan --format jsonl - >e.jsonl; RC=$?
expect_eq "$RC" 2 "empty stdin: exit status"
expect_eq "$(py '[(r["verdict"], r["errors"][0]["code"]) for r in recs]' e.jsonl)" "[('unreadable', 'empty_input')]" "empty stdin"
run nm.jsonl nm.err scan --format jsonl /bin/ls "$L1"
expect_eq "$RC" 0 "not_mail alone does not change the exit status"
if [ $HAVE7Z = 1 ]; then
  (cd dl && 7z a -p"$PW" ../enc.7z ./*.eml >/dev/null && 7z a -p"$PW" -mhe=on ../henc.7z ./*.eml >/dev/null) || fail "7z -p"
  run s7.jsonl s7.err scan --format jsonl --password "$PW" enc.7z henc.7z
  expect_eq "$(py '[(r["verdict"], r["errors"][0]["code"]) for r in recs]' s7.jsonl)" \
    "[('unreadable', 'unsupported_format'), ('unreadable', 'unsupported_format'), ('unreadable', 'unsupported_format')]" \
    "encrypted 7z (data, then header): unsupported_format"
  grep -q '7z x' <(py 'recs[0]["errors"][0]["detail"]' s7.jsonl) || fail "encrypted 7z: no hint"
else
  echo "SKIP: 7z missing: encrypted 7z not checked"
fi
pass "failure codes: not_found, empty_input, truncated, corrupt, not_mail, unsupported_format"

# 6. Text and CSV show the same verdicts; the summary counts unreadable and not_mail first.
run t.txt t.err scan --password "$PW" nope.eml /bin/ls "$Q"
grep -q '^nope.eml  unreadable   -  error: not_found' t.txt || fail "text: unreadable line: $(head -1 t.txt)"
grep -q '^messages: 4  unreadable: 1  not_mail: 1  campaign: 1' t.txt || fail "text summary: $(grep messages: t.txt)"
run t.csv t.err scan --format csv --password "$PW" nope.eml "$Q"
grep -q '^0,nope.eml,,,,,0,[0-9a-f]*,,,,,unreadable,,,not_found,' t.csv || fail "csv: $(sed -n 2p t.csv)"
pass "text and CSV"

# 7. Every location scan printed goes back through explain to the same message.
cat q2.jsonl tg.jsonl n.jsonl >all.jsonl
python3 - all.jsonl oracle.json "$BIN" "$PW" <<'PYEOF' || fail "explain round trip"
import json, subprocess, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def loc(s):
    esc = lambda t: t.replace("\\", "\\\\").replace("!", "\\!").replace("#", "\\#")
    t = esc(s["path"]) + ("!" + s["member"] if s["member"] else "")
    if s["index"] is not None: t += "#%d@%d" % (s["index"], s["offset"])
    return t
bad = 0
for r in recs:
    l = loc(r["source"])
    p = subprocess.run([sys.argv[3], "explain", "--format", "json", "--password", sys.argv[4], l],
                       capture_output=True)
    if p.returncode not in (0, 1):
        print("explain %s: exit %d %s" % (l, p.returncode, p.stderr.decode()[:200])); bad += 1; continue
    m = json.loads(p.stdout)
    if (m["sha256"], m["verdict"], m["score"], m["location"]) != (r["sha256"], r["verdict"], r["score"], l):
        print("explain %s: %s" % (l, (m["sha256"][:12], m["verdict"], m["score"], m["location"]))); bad += 1
print("explain: %d locations, %d mismatches" % (len(recs), bad))
sys.exit(1 if bad or len(recs) < 15 else 0)
PYEOF
pass "explain accepts every location scan printed"
echo "scan_archives: all passed"
