#!/usr/bin/env bash
# report_html.sh: `hdrscan scan --report FILE.html` writes a self-contained page (no external
# resource, a CSP forbidding fetches) that renders in headless Chromium without a script error,
# and whose numbers (verdict counts, score histogram, top signals, flagged rows, dated
# messages, messages with errors), written into the DOM by the page's own script, match the
# same numbers computed from the JSONL of the same scan. A hostile Subject stays text.
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
run out.jsonl err.txt scan --format jsonl --report report.html "${inputs[@]}"
[ "$RC" -le 1 ] || fail "scan exit status $RC: $(head -3 err.txt)"
[ -s report.html ] || fail "no report written"

# Self-contained: no external references, fetches forbidden by policy.
grep -q "Content-Security-Policy\" content=\"default-src 'none'" report.html || fail "no CSP"
grep -v 'id="hdrscan-data"' report.html | sed 's,http://www.w3.org/2000/svg,SVG-NAMESPACE,g' >page-without-data.html
grep -Eiq '<(link|img|iframe|object|embed)\b|\bsrc=|url\(|@import|https?://' page-without-data.html && fail "report references an external resource"
expect_eq "$(grep -c '<script' page-without-data.html)" 2 "inline scripts besides the data block"
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
