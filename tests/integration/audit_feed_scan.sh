#!/usr/bin/env bash
# audit_feed_scan: the audit -> scan loop of issue 8. An attack export whose connector
# allow-lists a rotated IP (203.0.113.77, not in the builtin pack) is audited with
# --export-indicators; scanning a message relayed from that IP with the exported file shows
# the relay.known_connector_ip evidence, which the same scan without the file lacks.
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
set -u
bin=$1 src=$2 scratch=$4
mkdir -p "$scratch"
export_csv="$src/corpus/audit/attack-rotated-ip.csv"
eml="$src/corpus/audit/relayed-from-rotated-ip.eml"
ind="$scratch/exported.ind"
fail() { echo "FAIL: $*"; exit 1; }

rm -f "$ind"
"$bin" audit --export-indicators "$ind" "$export_csv" >"$scratch/audit.txt" 2>"$scratch/audit.err"
rc=$?
[ "$rc" -eq 1 ] || fail "audit exit status $rc, want 1 (findings); stderr: $(cat "$scratch/audit.err")"
[ -s "$ind" ] || fail "no indicator file written"
grep -qx 'connector-ip 203.0.113.77' "$ind" || fail "exported file lacks connector-ip 203.0.113.77: $(cat "$ind")"
grep -qx 'stripped-header ARC-Message-Signature' "$ind" || fail "exported file lacks stripped-header ARC-Message-Signature"
grep -q '^@source hdrscan audit of .*connector Ran_xAFzd created 2022-10-12T10:02:11Z' "$ind" ||
  fail "no @source naming the connector and its creation time"
# the rotated IP is not in the builtin pack: it must not appear as a known IP in the audit
grep -q 'connector.known_campaign_ip' "$scratch/audit.txt" && fail "203.0.113.77 reported as a builtin campaign IP"

signals() {  # prints the evidence signals of the one message, one per line
  python3 -c '
import json, sys
lines = [l for l in sys.stdin if l.strip()]
assert len(lines) == 1, "want one jsonl object, got %d" % len(lines)
o = json.loads(lines[0])
for e in o.get("evidence", []):
    print(e["signal"])
'
}
without=$("$bin" scan --format jsonl "$eml" 2>"$scratch/scan1.err" | signals) || fail "scan without indicators: $(cat "$scratch/scan1.err")"
with=$("$bin" scan --indicators "$ind" --format jsonl "$eml" 2>"$scratch/scan2.err" | signals) || fail "scan with indicators: $(cat "$scratch/scan2.err")"
echo "$without" | grep -q 'connector_ip' &&
  fail "relay.known_connector_ip fires without the exported indicators"
echo "$with" | grep -qx 'relay.known_connector_ip' || fail "relay.known_connector_ip missing with the exported indicators; signals: $with"
echo "ok: exported $(grep -c '^connector-ip\|^stripped-header' "$ind") indicators; relay.known_connector_ip only with them"
exit 0
