#!/usr/bin/env bash
# milter_hostile.sh: hostile input on the milter port. Random bytes, "GET / HTTP/1.0", a 4 GB
# length, a zero length, an over-limit packet, a TLS hello, random packet sequences, a client
# that disappears while its message is scored, and 32 half-open / silent connections: each
# connection is closed by the server (protocol error, or idle/read timeout for the silent
# ones), the server stays up, serves a real session (exact reply bytes checked by
# tests/milter/raw_client.py) during and after the abuse, and exits 0 on SIGTERM.
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
set -u
HDRSCAN=$1 SRC=$2 SCRATCH=$4
. "$SRC/tests/milter/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
MILTER_LOG=$SCRATCH/milter.log
trap cleanup EXIT

# The real-session message: the first sample labelled campaign that is not a wrapper; its
# expected verdict is the label (lib.sh expected_verdict), not what `hdrscan scan` says.
mapfile -t SAMPLES < <(labelled_samples)
EML=; EXPECT=
for f in "${SAMPLES[@]}"; do
  v=$(expected_verdict "$f") || fail "no label for $f"
  # not a wrapper: a forward as attachment is tagged, not held (wrapper-action)
  if [ "$v" = campaign ] && [ "$(expected_wrapper "$f")" = direct ]; then EML=$f; EXPECT=$v; break; fi
done
[ -n "$EML" ] || fail "no sample labelled campaign in corpus/labels.tsv"
echo "# real-session message: $EML (labelled: $EXPECT)"

MILTER_PORT=$(free_port)
printf 'read-timeout = 2\nidle-timeout = 3\nstats-file = %s\n' "$SCRATCH/stats.json" >"$SCRATCH/milter.conf"
start_milter "$SCRATCH/milter.conf"
RAW="python3 $SRC/tests/milter/raw_client.py"

$RAW session "$MILTER_PORT" "$EML" "$EXPECT" >"$SCRATCH/session0.out" 2>&1 || fail "real session before abuse: $(cat "$SCRATCH/session0.out")"
pass "real session before: $(tail -n1 "$SCRATCH/session0.out")"

# 32 silent / half-open connections held open in the background (it says "held 32" once they
# are all open: the test waits for that, not for a time) ...
$RAW halfopen "$MILTER_PORT" 32 30 >"$SCRATCH/halfopen.out" 2>&1 &
HALF=$!
until grep -q "^held 32" "$SCRATCH/halfopen.out"; do
  kill -0 $HALF 2>/dev/null || grep -q "^held 32" "$SCRATCH/halfopen.out" \
    || fail "half-open client ended before its 32 connections were open:" \
            "$(<"$SCRATCH/halfopen.out")"
  sleep 0.05
done
# ... while a real session is served (at once: the silent ones time out after 2-3 s) and
# hostile inputs arrive.
$RAW session "$MILTER_PORT" "$EML" "$EXPECT" >"$SCRATCH/session1.out" 2>&1 || fail "real session during abuse: $(cat "$SCRATCH/session1.out")"
pass "real session while 32 half-open connections are held: $(tail -n1 "$SCRATCH/session1.out")"
$RAW hostile "$MILTER_PORT" >"$SCRATCH/hostile.out" 2>&1 \
  || { cat "$SCRATCH/hostile.out"; fail "a hostile connection was not closed by the server"; }
pass "$(grep -c 'closed by server' "$SCRATCH/hostile.out") hostile connections closed by the server"
wait $HALF || fail "half-open connections not closed by the server: $(cat "$SCRATCH/halfopen.out")"
pass "half-open connections: $(tail -n1 "$SCRATCH/halfopen.out") (idle/read timeouts)"

kill -0 "$MILTER_PID" 2>/dev/null || fail "milter died"
for reason in "bad packet length 1195725856" "bad packet length 4294967295" "bad packet length 0;" \
              "bad packet length 1048578" "expected option negotiation first" "unknown command 0x5a" \
              "second option negotiation" "short option negotiation packet"; do
  grep -q "protocol error: $reason" "$MILTER_LOG" || fail "no log line 'protocol error: $reason'"
done
pass "each hostile input logged with its reason"
grep -q "idle timeout; closing" "$MILTER_LOG" || fail "no idle timeout logged"
grep -q "read timeout (incomplete packet); closing" "$MILTER_LOG" || fail "no read timeout logged"

$RAW session "$MILTER_PORT" "$EML" "$EXPECT" >"$SCRATCH/session2.out" 2>&1 || fail "real session after abuse: $(cat "$SCRATCH/session2.out")"
pass "real session after: $(tail -n1 "$SCRATCH/session2.out")"
if command -v miltertest >/dev/null; then
  cat >"$SCRATCH/after.lua" <<EOF
local conn = mt.connect("inet:$MILTER_PORT@127.0.0.1", 5, 0.2)
assert(conn, "connect")
assert(mt.negotiate(conn, 6, 0x1FF, 0x1FFFFF) == nil, "negotiate")
mt.conninfo(conn, "after.example", "192.0.2.99")
mt.mailfrom(conn, "<a@example.org>"); mt.rcptto(conn, "<b@test.local>"); mt.data(conn)
mt.header(conn, "Subject", " after the abuse"); mt.eoh(conn); mt.bodystring(conn, "hello\r\n")
assert(mt.eom(conn) == nil, "eom")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "continue")
assert(mt.getheader(conn, "X-Hdrscan-Verdict", 0) ~= nil, "tagged")
mt.disconnect(conn)
EOF
  miltertest -s "$SCRATCH/after.lua" >"$SCRATCH/after.out" 2>&1 || fail "miltertest session after abuse failed: $(cat "$SCRATCH/after.out")"
  pass "miltertest session after the abuse"
fi

kill -USR1 "$MILTER_PID"
wait_until 60 "stats file after SIGUSR1" '[ -s "$SCRATCH/stats.json" ]'
python3 - "$SCRATCH/stats.json" <<'PY' || fail "stats: $(cat "$SCRATCH/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["protocol_errors"] >= 9, s
assert s["timeouts"] >= 32, s
assert s["errors"] == 0, s
print("ok - stats: protocol_errors=%d timeouts=%d connections=%d messages=%d" % (
    s["protocol_errors"], s["timeouts"], s["connections"], s["messages"]))
PY
stop_milter || fail "milter exit status after SIGTERM, want 0"
pass "SIGTERM: exit 0"
echo "PASS"
