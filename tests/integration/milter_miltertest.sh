#!/usr/bin/env bash
# milter_miltertest.sh: protocol edges of `hdrscan milter` driven by miltertest (OpenDKIM's
# Lua MTA simulator) with tests/milter/edges.lua: all macros, empty macro packets, headers
# with leading spaces, body chunks of 65535 bytes, several messages per connection, abort,
# forged-header deletion. The expected verdicts come from the corpus labels (lib.sh
# expected_verdict: corpus/labels.tsv and the sample names), the expected action from that
# verdict and the milter config (action_for): a detection regression fails here, it is never
# a skip. That the milter's score equals `hdrscan scan`'s for the same file is checked besides
# (consistency). The milter's log must show the queue ids given as macros and the truncated body.
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
# Exit 77 when miltertest or python3 is missing.
set -u
HDRSCAN=$1 SRC=$2 SCRATCH=$4
. "$SRC/tests/milter/lib.sh"
command -v miltertest >/dev/null || skip "miltertest not installed (tools/install-deps.sh installs it)"
command -v python3 >/dev/null || skip "python3 not installed"
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
MILTER_LOG=$SCRATCH/milter.log
trap cleanup EXIT

# The campaign message: the first sample labelled campaign (a labelled sample always exists).
mapfile -t SAMPLES < <(labelled_samples)
CAMPAIGN=
for f in "${SAMPLES[@]}"; do
  v=$(expected_verdict "$f") || fail "no label for $f"
  # not a wrapper: a forward as attachment gets wrapper-action, which edges.lua does not model
  [ "$v" = campaign ] && [ "$(expected_wrapper "$f")" = direct ] && { CAMPAIGN=$f; break; }
done
[ -n "$CAMPAIGN" ] || fail "no sample labelled campaign in corpus/labels.tsv"
CLEAN=$SRC/tests/milter/clean.eml
CAMP_V=$(expected_verdict "$CAMPAIGN") || fail "no label for $CAMPAIGN"
CLEAN_V=$(expected_verdict "$CLEAN") || fail "no label for $CLEAN"
# Consistency only: the scores the milter must log are the ones `hdrscan scan` gives.
read -r _ CSCORE < <(scan_verdict "$CAMPAIGN") || fail "hdrscan scan failed on $CAMPAIGN"
read -r _ CLEAN_S < <(scan_verdict "$CLEAN") || fail "hdrscan scan failed on $CLEAN"

MILTER_PORT=$(free_port)
printf 'max-body-bytes = 100k\n' >"$SCRATCH/milter.conf"
CAMP_A=$(action_for "$CAMP_V" "$SCRATCH/milter.conf") || fail "action_for"
CLEAN_A=$(action_for "$CLEAN_V" "$SCRATCH/milter.conf") || fail "action_for"
echo "# expected: $CAMPAIGN $CAMP_V -> $CAMP_A (scan score $CSCORE); $CLEAN $CLEAN_V -> $CLEAN_A (scan score $CLEAN_S)"
start_milter "$SCRATCH/milter.conf"

miltertest -D "sock=inet:$MILTER_PORT@127.0.0.1" -D "campaign_eml=$CAMPAIGN" -D "clean_eml=$CLEAN" \
  -D "campaign_verdict=$CAMP_V" -D "clean_verdict=$CLEAN_V" -D "campaign_action=$CAMP_A" -D "clean_action=$CLEAN_A" \
  -s "$SRC/tests/milter/edges.lua" >"$SCRATCH/miltertest.out" 2>&1
rc=$?
tail -n 3 "$SCRATCH/miltertest.out"
[ $rc = 0 ] || { grep -v '^ok' "$SCRATCH/miltertest.out" | tail -n 20; fail "miltertest exit $rc after: $(grep '^ok' "$SCRATCH/miltertest.out" | tail -n1)"; }
grep -q "ALL .* CHECKS PASSED" "$SCRATCH/miltertest.out" || fail "edges.lua did not finish"
pass "edges.lua: $(tail -n1 "$SCRATCH/miltertest.out")"

# The milter's own view: queue id from the macros, the client from CONNECT, the scores.
grep -q "qid=MTALL1 client=client.example\[192.0.2.10\] verdict=$CAMP_V score=$CSCORE action=$CAMP_A" "$MILTER_LOG" \
  || fail "all-macros message: no log line with qid=MTALL1, client, verdict $CAMP_V, scan's score $CSCORE, action $CAMP_A"
for i in 1 3; do grep -q "qid=MTMULTI$i .*verdict=$CAMP_V score=$CSCORE action=$CAMP_A" "$MILTER_LOG" || fail "MTMULTI$i not $CAMP_V/$CSCORE/$CAMP_A"; done
for i in 2 4; do grep -q "qid=MTMULTI$i .*verdict=$CLEAN_V score=$CLEAN_S action=$CLEAN_A" "$MILTER_LOG" || fail "MTMULTI$i not $CLEAN_V/$CLEAN_S/$CLEAN_A"; done
grep -q "qid=MTCHUNK1 .*verdict=$CLEAN_V .*body_truncated=" "$MILTER_LOG" || fail "65535-byte chunk message: body not reported truncated at 100k"
grep -q "qid=MTLEAD1 .*forged_removed=3" "$MILTER_LOG" || fail "leading-space message: 3 forged headers not removed"
grep -q "qid=MTABORT2 .*verdict=$CLEAN_V" "$MILTER_LOG" || fail "message after abort not $CLEAN_V"
grep -q "qid=MTABORT1 " "$MILTER_LOG" && fail "aborted message was scored"
pass "milter log: queue ids from macros, verdicts per message, truncation and forged-header counts"

kill -USR1 "$MILTER_PID"
wait_until 60 "stats after SIGUSR1" 'grep -q "stats (SIGUSR1)" "$MILTER_LOG"'
grep "stats (SIGUSR1)" "$MILTER_LOG" | grep -q " aborted=1 " || fail "stats: want aborted=1 (MTABORT1): $(grep 'stats (SIGUSR1)' "$MILTER_LOG")"
grep "stats (SIGUSR1)" "$MILTER_LOG" | grep -q " protocol_errors=0 " || fail "stats: protocol errors during a clean run"
pass "SIGUSR1 counters: $(grep 'stats (SIGUSR1)' "$MILTER_LOG" | cut -c1-160)..."
stop_milter || fail "milter exit status after SIGTERM"

# The same edges over a unix-domain socket (listen = unix:PATH), as Postfix may use it.
SOCK=$SCRATCH/milter.sock
printf 'max-body-bytes = 100k\nlisten = unix:%s\n' "$SOCK" >"$SCRATCH/unix.conf"
"$HDRSCAN" milter --config "$SCRATCH/unix.conf" >>"$MILTER_LOG" 2>&1 &
MILTER_PID=$!
wait_until 60 "unix socket $SOCK" '[ -S "$SOCK" ]'
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "unix socket mode $(stat -c %a "$SOCK"), want 660"
miltertest -D "sock=unix:$SOCK" -D "campaign_eml=$CAMPAIGN" -D "clean_eml=$CLEAN" \
  -D "campaign_verdict=$CAMP_V" -D "clean_verdict=$CLEAN_V" -D "campaign_action=$(action_for "$CAMP_V" "$SCRATCH/unix.conf")" \
  -D "clean_action=$(action_for "$CLEAN_V" "$SCRATCH/unix.conf")" -s "$SRC/tests/milter/edges.lua" >"$SCRATCH/miltertest-unix.out" 2>&1 \
  || fail "edges.lua over unix socket: $(tail -n 3 "$SCRATCH/miltertest-unix.out")"
pass "edges.lua over unix:$SOCK: $(tail -n1 "$SCRATCH/miltertest-unix.out")"
stop_milter || fail "milter (unix) exit status after SIGTERM"
[ ! -e "$SOCK" ] || fail "unix socket not removed at exit"
echo "PASS"
