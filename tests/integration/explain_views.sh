#!/usr/bin/env bash
# explain_views.sh: what `hdrscan explain` shows beyond one plain message (issue 18, items 2-4).
#  - Nested messages: on a wrapper (corpus/samples/campaign-wrapped-report.eml, and that
#    report attached once more) explain lists the attached messages and shows the full view of
#    the one that gave the verdict; that view is checked against the attached message's own
#    bytes by explain_expect.py (Python's email package extracts it: hops, antispam, tenant,
#    authentication), its signal table carries the evidence's points and its score is the
#    wrapper's; --nested PATH (the evidence's notation) picks another, --nested outer none, a
#    path that names nothing is exit 2; scan's text line names the attachment.
#  - Locations: every location scan prints (mbox.gz index@offset, zip in zip, tar.gz member,
#    an mbox inside an archive, concatenated messages, .msg, PST folders from ../shared) is
#    accepted back by explain and gives the same message (SHA-256) and verdict.
#  - Width: the text fits $COLUMNS and a terminal's width (a pty), wraps instead of cutting
#    (every table cell and raw value complete, no ellipsis), --wide puts full values on one
#    line, and the JSON keeps a 6000-byte header value whole.
source "$(dirname "$0")/scan_lib.bash"
EXPECT="$SRC/tests/integration/explain_expect.py"
WRAP="$SRC/corpus/samples/campaign-wrapped-report.eml"

# ---- nested messages
python3 - "$WRAP" "$SRC/corpus/samples/related-relay-intact.eml" <<'PYEOF' || fail "fixtures"
import email, email.policy, sys
from email.message import EmailMessage
raw = open(sys.argv[1], "rb").read()
outer = email.message_from_bytes(raw, policy=email.policy.compat32)
inner = [p for p in outer.walk() if p.get_content_type() == "message/rfc822"]
assert len(inner) == 1, len(inner)
open("attached.eml", "wb").write(inner[0].get_payload(0).as_bytes())
# The report forwarded once more: the campaign message is now nested[0].nested[0].
w = EmailMessage()
w["From"] = "soc@example.org"; w["To"] = "admin@example.org"; w["Subject"] = "FW: FW: report"
w["Message-ID"] = "<twice@example.org>"; w["Date"] = "Wed, 20 Jul 2022 08:00:00 +0000"
w.set_content("see the attached report")
w.add_attachment(raw, maintype="message", subtype="rfc822")
open("twice.eml", "wb").write(bytes(w))
# A 6000-byte header value, for the JSON (it was cut at 4 KB).
base = open(sys.argv[2], "rb").read()
val = "CIP:198.51.100.7;" + ";".join("K%d:%s" % (i, "v" * 40) for i in range(140))
open("long.eml", "wb").write(b"X-Forefront-Antispam-Report-Untrusted: " + val.encode() + b"\n" + base)
open("long.value", "w").write(val)
PYEOF
run w.json w.err explain --format json "$WRAP"
expect_eq "$RC" 1 "explain exit status of the wrapped campaign report"
python3 - w.json <<'PYEOF' || fail "nested view (json)"
import json, sys
x = json.load(open(sys.argv[1]))
n = x["nested"]
assert n and n["path"] == x["nested_from"] == "nested[0]" and n["chosen_by"] == "verdict", n and n["path"]
v = n["view"]
assert v["nested_path"] == "nested[0]"
assert (v["verdict"], v["score"]) == (x["verdict"], x["score"]), (v["verdict"], v["score"], x["score"])
assert [m["path"] for m in x["nested_messages"]] == ["nested[0]"], x["nested_messages"]
assert x["nested_messages"][0]["verdict"] == "campaign"
# The view is the attached message's own: its hops, not the wrapper's one hop.
assert len(v["received"]) > len(x["received"]) == 1, (len(v["received"]), len(x["received"]))
assert any(h["zone"] == "tenant (entry)" for h in v["received"])
assert v["tenant_headers"] and v["authentication"] and v["antispam"] is not None
# Its signal table carries the points of its evidence (no +0 for a fired signal).
fired = {c["signal"]: c["weight"] for c in v["checks"] if c["fired"]}
for e in v["evidence"]:
    assert fired.get(e["signal"]) == e["weight"], (e["signal"], e["weight"], fired.get(e["signal"]))
assert sum(f["points"] for f in v["score_breakdown"]) >= v["score"] > 0
print("nested view:", len(v["received"]), "hops,", len(fired), "fired signals, score", v["score"])
json.dump(v, open("view.json", "w"))
PYEOF
python3 "$EXPECT" view.json attached.eml campaign || fail "the attached message's view differs from its bytes"
pass "explain on a wrapper: the attached message's full view, checked against its bytes"

run w.txt w.err explain "$WRAP"
grep -qF "=== attached message nested[0] ===" w.txt || fail "text: no attached message section"
expect_eq "$(grep -c '^== Received hops' w.txt)" 1 "text: hop tables (the wrapper is shown briefly)"
grep -qE '^\s+>\s+nested\[0\]\s+campaign\s+97\s' w.txt || fail "text: attached list: $(grep -A3 Wrapper: w.txt)"
grep -qE '^\s+[0-9]+\s+tenant \(entry\)\s' w.txt || fail "text: the attached message's hops"
grep -qE '^\s+FIRED\s+strip.tenant_verdict_missing\s+\+18' w.txt || fail "text: fired signal with its points"
grep -qF 'nested[0]:' w.txt && fail "text: the view lists the wrapper's prefixed checks"
run s.txt s.err scan --no-summary "$WRAP"
grep -qF "(verdict from attached message nested[0])" s.txt || fail "scan line does not name the attachment: $(cat s.txt)"
run o.txt o.err explain --nested outer "$WRAP"
grep -qF "=== attached" o.txt && fail "--nested outer still shows an attached view"
grep -qF 'nested[0]:strip.tenant_verdict_missing' o.txt || fail "--nested outer: the wrapper's own checks"
run b.txt b.err explain --nested 'nested[3]' "$WRAP"
expect_eq "$RC" 2 "explain --nested naming no attachment"
grep -qF 'no attached message nested[3] (attached: nested[0])' b.err || fail "--nested error: $(cat b.err)"
run t.json t.err explain --format json twice.eml
run t2.json t2.err explain --format json --nested 'nested[0]' twice.eml
run t3.json t3.err explain --format json --nested outer twice.eml
python3 - t.json t2.json w.json t3.json <<'PYEOF' || fail "two levels deep; --nested nested[0] on the twice-forwarded report"
import json, sys
x, x2, w, x3 = (json.load(open(p)) for p in sys.argv[1:])
# The wrapper's own checks name the deeper message by its full path, with the evidence's points.
ev = {}
for e in x3["evidence"]:
    assert e["message"] == "nested[0].nested[0]", e["message"]
    ev[e["message"] + ":" + e["signal"]] = ev.get(e["message"] + ":" + e["signal"], 0) + e["weight"]
fired = {c["signal"]: c["weight"] for c in x3["checks"] if c["fired"]}
assert ev and all(fired.get(k) == v for k, v in ev.items()), (ev, fired)
assert x["nested_from"] == x["nested"]["path"] == "nested[0].nested[0]", x["nested_from"]
assert [m["path"] for m in x["nested_messages"]] == ["nested[0]", "nested[0].nested[0]"]
assert x["nested"]["view"]["score"] == x["score"] and x["verdict"] == "campaign"
# --nested nested[0]: the middle message, i.e. the report explained above
n = x2["nested"]
assert n["path"] == "nested[0]" and n["chosen_by"] == "option"
assert n["view"]["message_id"] == w["message_id"], (n["view"]["message_id"], w["message_id"])
PYEOF
pass "--nested (two levels, outer, a missing path), scan names the attachment"

# ---- every location scan prints, back into explain
python3 "$HELP" mbox box.mbox "$GEN/consumer-onlist-full/0001.eml" "$GEN/lookalike-hybrid/0001.eml" \
  "$SRC/corpus/samples/clean-hybrid-relay.eml" || fail "mbox"
gzip -k box.mbox
mkdir -p z && cp "$SRC/corpus/samples/campaign-thirdparty-1.eml" z/a.eml && cp box.mbox z/inner.mbox
(cd z && zip -q -r ../z.zip . && tar czf ../t.tar.gz .) && zip -q outer.zip z.zip t.tar.gz || fail "archives"
cat "$SRC/corpus/samples/campaign-consumer-1.eml" "$SRC/corpus/samples/clean-hybrid-relay.eml" >cat.eml
inputs=(box.mbox.gz outer.zip cat.eml "$WRAP")
if shared_part "explain at .msg and PST locations" "$SHARED/outlook/msg" "$SHARED/outlook/pst"; then
  inputs+=("$SHARED"/outlook/msg/*.msg "$SHARED"/outlook/pst/*.pst)
fi
run l.jsonl l.err scan --format jsonl "${inputs[@]}"
[ "$RC" -le 2 ] || fail "scan: $RC"
python3 - l.jsonl >locs.tsv <<'PYEOF' || fail "locations"
import json, sys
def esc(s, member=False):  # docs/output.md: \ ! # escaped, and a member's leading /
    return "".join(("\\" if c in "\\!#" or (member and i == 0 and c == "/") else "") + c for i, c in enumerate(s))
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line); s = r["source"]
    t = esc(s["path"]) + ("!" + s["member"] if s["member"] else "") + ("!" + esc(s["folder"]) if s["folder"] else "")
    t += ("#%d" % s["index"] if s["index"] is not None else "") + ("@%d" % s["offset"] if s["offset"] is not None else "")
    print("\t".join([r["verdict"], r.get("sha256") or "", t]))
PYEOF
n=0 kinds=""
while IFS=$'\t' read -r verdict sha loc; do
  "$BIN" explain --format json "$loc" >"e$n.json" 2>"e$n.err"
  echo "$? $n" >>rcs.txt
  n=$((n + 1))
  case $loc in *'#'*'@'*) kinds+=" index@offset" ;; esac
  case $loc in *'.zip!'*'!'*) kinds+=" nested-archive" ;; esac
  case $loc in *'!/'*) kinds+=" pst-folder" ;; esac
  case $loc in *.msg) kinds+=" msg" ;; esac
done <locs.tsv
[ "$n" -ge 15 ] || fail "only $n locations"
for k in index@offset nested-archive; do [[ $kinds == *$k* ]] || fail "no $k location tried"; done
shared_absent || for k in pst-folder msg; do [[ $kinds == *$k* ]] || fail "no $k location tried"; done
python3 - locs.tsv rcs.txt <<'PYEOF' || fail "explain at the locations scan printed"
import json, sys
locs = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
rcs = [int(l.split()[0]) for l in open(sys.argv[2])]
assert len(rcs) == len(locs)
for n, ((verdict, sha, loc), rc) in enumerate(zip(locs, rcs)):
    err = open("e%d.err" % n, encoding="utf-8").read()
    if verdict == "not_mail":
        assert rc == 0 and "not_mail" in err, (loc, rc, err)
        continue
    assert rc <= 1, (loc, rc, err)
    x = json.load(open("e%d.json" % n))
    assert (x["verdict"], x["sha256"]) == (verdict, sha), (loc, x["verdict"], x["sha256"], verdict, sha)
PYEOF
pass "explain accepts all $n locations scan printed (same message, same verdict)"

# ---- width
ATT=attached.eml
COLUMNS=80 "$BIN" explain "$WRAP" >c80.txt
COLUMNS=240 "$BIN" explain --wide "$WRAP" >wide.txt
"$BIN" explain --format json --nested 'nested[0]' "$WRAP" >cw.json
python3 - c80.txt wide.txt cw.json <<'PYEOF' || fail "width"
import json, re, sys
narrow = open(sys.argv[1], encoding="utf-8").read().splitlines()
wide = open(sys.argv[2], encoding="utf-8").read().splitlines()
x = json.load(open(sys.argv[3]))["nested"]["view"]
over = [l for l in narrow if len(l) > 80]
assert not over, over[:3]
assert not any("\u2026" in l for l in narrow + wide), "a value was cut"
# Each table column read back (its slices on every line, spaces dropped) holds every cell whole.
def columns(lines):
    rule = lambda l: re.fullmatch(r"\s+-+(\s+-+)*", l)
    cols, i = {}, 0
    while i < len(lines):
        if rule(lines[i]) and i > 0:
            head = lines[i - 1]
            spans = [m.span() for m in re.finditer(r"-+", lines[i])]
            spans = [(a, spans[k + 1][0] if k + 1 < len(spans) else 10**6) for k, (a, b) in enumerate(spans)]
            names = [head[a:b].strip() for a, b in spans]
            i += 1
            while (i < len(lines) and lines[i].startswith("  ") and lines[i].strip()
                   and not lines[i].lstrip().startswith("raw: ")
                   and not (i + 1 < len(lines) and rule(lines[i + 1]))):
                for (a, b), nm in zip(spans, names):
                    cols.setdefault(nm, []).append(lines[i][a:b].strip())
                i += 1
        else:
            i += 1
    return {k: "".join(v).replace(" ", "") for k, v in cols.items()}
def nospace(s): return re.sub(r"\s", "", s)
for view, name in ((narrow, "narrow"), (wide, "wide")):
    c = columns(view)
    for t in x["tenant_headers"]:
        assert nospace(t["header"]) in c["header"], (name, t["header"])
        assert nospace(t["value"]) in c["value"], (name, t["value"])
    for h in x["received"]:
        assert nospace(h["by"]) in c["by"], (name, h["by"])
    for e in x["evidence"]:
        assert nospace(e["excerpt"]) in c["excerpt"], (name, e["excerpt"])
    for ch in x["checks"]:
        assert nospace(ch["why"]) in c["why"], (name, ch["why"])
    text = nospace("".join(view))
    for a in x["authentication"]:
        assert nospace(a["raw"]) in text, (name, a["raw"][:60])
conn = next(t["value"] for t in x["tenant_headers"] if t["header"].endswith("TenantConnectingIp"))
assert any(conn in l for l in wide), "--wide: the connecting-ip value not on one line"
assert max(map(len, wide)) > 200
print("80 columns: %d lines, longest %d; --wide longest %d" % (len(narrow), max(map(len, narrow)), max(map(len, wide))))
PYEOF
# A terminal: its width (TIOCGWINSZ) when COLUMNS is not set; not a terminal: 100.
python3 - "$BIN" "$WRAP" <<'PYEOF' || fail "terminal width"
import fcntl, os, pty, struct, subprocess, sys, termios
m, s = pty.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 90, 0, 0))
env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
env["NO_COLOR"] = "1"
p = subprocess.Popen([sys.argv[1], "explain", sys.argv[2]], stdout=s, stderr=subprocess.DEVNULL, env=env)
os.close(s)
out = b""
while True:
    try:
        chunk = os.read(m, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
lines = out.decode("utf-8").replace("\r\n", "\n").splitlines()
assert len(lines) > 50 and max(map(len, lines)) <= 90 and max(map(len, lines)) > 85, max(map(len, lines))
piped = subprocess.run([sys.argv[1], "explain", sys.argv[2]], capture_output=True, env=env).stdout.decode()
widths = [len(l) for l in piped.splitlines()]
assert max(widths) <= 100 and max(widths) > 95, max(widths)
PYEOF
pass "explain fits 80 columns, a 90-column terminal and 100 when piped, cuts nothing; --wide"

# JSON keeps a long value whole (it was cut at 4 KB).
run long.json long.err explain --format json long.eml
python3 - long.json long.value <<'PYEOF' || fail "JSON cut a long value"
import json, sys
x, val = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
raws = [a["raw"] for a in x["antispam"] if a["header"] == "X-Forefront-Antispam-Report-Untrusted"]
assert len(val) > 6000 and val in raws, [len(r) for r in raws]
PYEOF
pass "explain JSON keeps a $(wc -c <long.value)-byte value whole"
shared_exit
