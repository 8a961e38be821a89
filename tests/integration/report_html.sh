#!/usr/bin/env bash
# report_html.sh: `hdrscan scan --report FILE.html` writes a self-contained page (no external
# resource, a CSP forbidding fetches) that renders in headless Chromium without a script error,
# and whose numbers (verdict counts, score histogram, top signals, flagged rows, dated
# messages, messages with errors) match the same numbers computed from the JSONL of the same
# scan, with JavaScript and without it (issue 18: the page is rendered by hdrscan; the script
# only sorts and filters). Without JavaScript: the same page with its CSP set to
# script-src 'none', so Chromium runs no script at all (Chromium 156's
# --blink-settings=scriptEnabled=false also stops --dump-dom). "Flagged" is one count: the
# page's (stated on it), --summary-json's and the exit status, at the default --min-verdict
# and at --min-verdict suspicious. A hostile Subject stays text.
source "$(dirname "$0")/scan_lib.bash"

CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || skip "chromium not installed (tools/install-deps.sh installs it)"

# A campaign message whose Subject tries to inject markup into the flagged table.
mkdir -p hostile
python3 - "$GEN/consumer-onlist-full/0001.eml" hostile/campaign-hostile.eml <<'PYEOF' || fail "fixture"
import re, sys
data = open(sys.argv[1], "rb").read()
data, n = re.subn(rb"(?im)^Subject:[^\n]*(\n[ \t][^\n]*)*", b"Subject: You WON </script><script>alert(1)</script> <img src=x onerror=alert(2)>", data, count=1)
assert n == 1
open(sys.argv[2], "wb").write(data)
PYEOF
inputs=("$GEN" "$FIX" hostile)
shared_part "report over the real relays" "$SHARED/dev_relays" && inputs+=("$SHARED/dev_relays")
run out.jsonl err.txt scan --format jsonl --report report.html --summary-json sum.json "${inputs[@]}"
[ "$RC" -le 1 ] || fail "scan exit status $RC: $(head -3 err.txt)"
SCAN_RC=$RC
[ -s report.html ] || fail "no report written"

# Self-contained: no external references, fetches forbidden by policy.
grep -q "Content-Security-Policy\" content=\"default-src 'none'" report.html || fail "no CSP"
# The page's markup (its text shows URLs from the evidence, as text): no element or attribute
# that loads anything, no url()/@import in styles.
python3 - report.html <<'PYEOF' || fail "report references an external resource"
import re, sys
from html.parser import HTMLParser
bad, scripts = [], []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag in ("link", "img", "iframe", "object", "embed", "image", "use", "frame", "base"):
            bad.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "xlink:href", "action", "poster", "background", "data"):
                bad.append("%s %s=" % (tag, k))
            if k == "style" and v and re.search(r"url\(|@import", v, re.I):
                bad.append("style url")
        if tag == "script":
            scripts.append(dict(attrs).get("id"))
    def handle_data(self, data):
        if self.lasttag == "style" and re.search(r"url\(|@import|https?://", data, re.I):
            bad.append("style sheet url")
P().feed(open(sys.argv[1], encoding="utf-8").read())
assert not bad, bad
assert len([s for s in scripts if s != "hdrscan-data"]) == 2 and "hdrscan-data" in scripts, scripts
PYEOF
grep -q '<script>alert(1)</script>' report.html && fail "hostile subject injected as markup"

dom() {  # dom FILE.html OUT.html
  local profile
  profile=$(mktemp -d)
  timeout 180 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --dump-dom "file://$WORK/$1" >"$2" 2>chrome.err
  local rc=$?
  rm -rf "$profile"
  [ $rc -eq 0 ] && [ -s "$2" ] || fail "chromium failed ($rc): $(tail -3 chrome.err)"
}
dom report.html dom.html
grep -q 'data-rendered="ok"' dom.html || fail "page script did not finish: $(grep -o 'data-js-error="[^"]*"' dom.html)"
python3 "$HELP" report dom.html out.jsonl || fail "report numbers differ from the JSONL"
grep -qF 'You WON &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x' dom.html || fail "hostile subject not shown as text in the flagged table"
grep -q 'onerror=alert' <(grep -v 'You WON &lt;' dom.html | grep -o '<img[^>]*>') && fail "hostile <img> became an element"
pass "report renders and matches $(wc -l <out.jsonl) JSONL records"

# Without JavaScript: the same numbers and rows, and no script ran.
sed "s/script-src 'unsafe-inline'/script-src 'none'/" report.html >nojs.html
grep -q "script-src 'none'" nojs.html || fail "no-JS copy"
dom nojs.html nojsdom.html
grep -q 'data-rendered="ok"' nojsdom.html && fail "a script ran in the no-JS page"
python3 "$HELP" report nojsdom.html out.jsonl --no-js || fail "report without JavaScript differs from the JSONL"
grep -qF 'You WON &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x' nojsdom.html || fail "no-JS: hostile subject"
# One "flagged": the page's statement, --summary-json and the exit status agree.
python3 - nojsdom.html sum.json "$SCAN_RC" <<'PYEOF' || fail "flagged differs between report, summary and exit status"
import json, re, sys
page, summary, rc = open(sys.argv[1], encoding="utf-8").read(), json.load(open(sys.argv[2])), int(sys.argv[3])
m = re.search(r'id="flagged-definition" data-min-verdict="(\w+)" data-flagged="(\d+)"', page)
assert m and (m.group(1), int(m.group(2))) == (summary["min_verdict"], summary["flagged"]), (m and m.groups(), summary["flagged"])
assert (rc == 1) == (summary["flagged"] > 0), (rc, summary["flagged"])
assert "Flagged</b> = an analysed message whose verdict is <b>campaign</b>" in page
print("flagged:", summary["flagged"], "at", summary["min_verdict"], "exit", rc)
PYEOF
run sus.jsonl sus.err scan --format jsonl --min-verdict suspicious --report sus.html --summary-json sus.json \
  "$SRC/corpus/samples"
expect_eq "$RC" 1 "exit status with suspicious and campaign samples at --min-verdict suspicious"
python3 "$HELP" report sus.html sus.jsonl --no-js --min-verdict suspicious || fail "--min-verdict suspicious: page (as written) differs"
grep -q 'suspicious' sus.jsonl && grep -q 'campaign' sus.jsonl || fail "samples: no suspicious and campaign records"
expect_eq "$(python3 -c "import json; print(json.load(open('sus.json'))['flagged'])")" \
  "$(python3 -c "import json,sys; print(sum(1 for l in open('sus.jsonl') if json.loads(l)['verdict'] in ('suspicious','campaign')))")" \
  "--summary-json flagged at --min-verdict suspicious"
pass "report complete without JavaScript; one flagged count (page, --summary-json, exit status)"

# The checker can fail: a report of a different scan must not match this JSONL.
run half.jsonl half.err scan --format jsonl --shard 1/2 --report half.html "${inputs[@]}"
dom half.html halfdom.html
python3 "$HELP" report halfdom.html out.jsonl >/dev/null && fail "checker accepted a mismatching report"
python3 "$HELP" report halfdom.html half.jsonl || fail "shard report differs from its JSONL"
pass "shard report matches its own JSONL, not the whole"

# An empty scan still renders.
mkdir -p empty
run e.jsonl e.err scan --format jsonl --report empty.html empty
dom empty.html emptydom.html
grep -q 'data-rendered="ok"' emptydom.html || fail "empty report did not render"
pass "empty report"
shared_exit
