#!/usr/bin/env bash
# milter_postfix.sh: `hdrscan milter` in front of a real, private Postfix 3.7 on loopback.
#
# Campaign, suspicious and clean messages (the project's corpus/samples/ and
# tests/milter/clean.eml; the expected verdict of each file is taken from `hdrscan scan
# --format jsonl` on the same file at test time) are sent with swaks through Postfix:
#  - tag: delivered copies in the Maildir carry exactly one X-Hdrscan-Verdict (the scan's
#    verdict) and one X-Hdrscan-Score (the scan's score and top signals);
#  - forged X-Hdrscan-* headers from outside are removed (only ours remain);
#  - quarantine (campaign, the default): the message sits in Postfix's hold queue, tagged;
#  - several messages in one SMTP session get their own verdicts;
#  - SIGHUP reload to `campaign = reject`: the SMTP client gets the configured 550 5.7.1 text;
#  - dry-run (reload again): nothing is changed, the log says what would have been done;
#  - SIGTERM: the milter drains and exits 0; one log line per message with Postfix's queue id.
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
# Needs root (private Postfix instance), postfix, swaks, python3; exit 77 when absent.
set -u
HDRSCAN=$1 SRC=$2 SCRATCH=$4
. "$SRC/tests/milter/lib.sh"
need_postfix
command -v swaks >/dev/null || skip "swaks not installed (tools/install-deps.sh)"

rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
MILTER_LOG=$SCRATCH/milter.log
trap cleanup EXIT

# --- pick one message per verdict, as `hdrscan scan` judges them -------------------------
declare -A FILE SCORE
for f in "$SRC"/corpus/samples/*.eml "$SRC/tests/milter/clean.eml"; do
  [ -f "$f" ] || continue
  read -r v s < <(scan_verdict "$f") || continue
  if [ -z "${FILE[$v]:-}" ]; then FILE[$v]=$f; SCORE[$v]=$s; fi
done
[ -n "${FILE[campaign]:-}" ] || skip "no message that hdrscan scan calls campaign in corpus/samples/"
[ -n "${FILE[clean]:-}" ] || fail "tests/milter/clean.eml is not clean according to hdrscan scan"
for v in campaign suspicious clean; do echo "# $v: ${FILE[$v]:-<none>} (score ${SCORE[$v]:-})"; done

# --- start milter and Postfix --------------------------------------------------------------
SMTP_PORT=$(free_port); MILTER_PORT=$(free_port)
CONF=$SCRATCH/milter.conf
cat >"$CONF" <<EOF
clean = tag
suspicious = tag
campaign = quarantine
quarantine-reason = hdrscan test hold
EOF
start_milter "$CONF"
pf_setup
pf_start
pass "postfix on 127.0.0.1:$SMTP_PORT, milter on 127.0.0.1:$MILTER_PORT"

# send ID FILE [swaks args...] -> swaks transcript in $SCRATCH/ID.swaks, returns swaks rc
send() {
  local id=$1 file=$2; shift 2
  swaks --server 127.0.0.1 --port "$SMTP_PORT" --from alice@example.org --to bob@test.local \
        --data "@$file" --add-header "X-Test-Id: $id" "$@" >"$SCRATCH/$id.swaks" 2>&1
}
# delivered ID -> path of the Maildir copy carrying X-Test-Id: ID (waits up to 30 s)
delivered() {
  local i=0 f
  while [ $i -lt 300 ]; do
    f=$(grep -l -s "^X-Test-Id: $1\$" "$PF_ROOT"/mail/inbox/new/* "$PF_ROOT"/mail/inbox/cur/* 2>/dev/null | head -n1 | tr -d '\r')
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.1; i=$((i+1))
  done
  return 1
}
header_values() { # FILE NAME -> every value of that header in the header block, one a line
  python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
for v in m.get_all(sys.argv[2]) or []:
    print(" ".join(v.split()))
PY
}
queue_id_of() { sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$SCRATCH/$1.swaks" | tail -n1; }

check_tagged() { # ID VERDICT SCORE
  local id=$1 v=$2 s=$3 f vals
  f=$(delivered "$id") || fail "$id: not delivered to the Maildir"
  vals=$(header_values "$f" X-Hdrscan-Verdict)
  [ "$vals" = "$v" ] || fail "$id: X-Hdrscan-Verdict values '$vals', want exactly one '$v'"
  vals=$(header_values "$f" X-Hdrscan-Score)
  [ "$(printf '%s\n' "$vals" | wc -l)" = 1 ] || fail "$id: want one X-Hdrscan-Score, got '$vals'"
  case "$vals" in "$s"|"$s signals="*) ;; *) fail "$id: X-Hdrscan-Score '$vals', want score $s";; esac
  grep -q "^X-Hdrscan-Verdict: $v" "$f" || fail "$id: header not written as 'X-Hdrscan-Verdict: $v' (leading space)"
  pass "$id delivered, tagged X-Hdrscan-Verdict: $v / X-Hdrscan-Score: $vals"
}

# --- 1. clean and suspicious: tagged and delivered -------------------------------------------
send clean-1 "${FILE[clean]}" || fail "clean-1: swaks failed: $(tail -n 5 "$SCRATCH/clean-1.swaks")"
check_tagged clean-1 clean "${SCORE[clean]}"
if [ -n "${FILE[suspicious]:-}" ]; then
  send susp-1 "${FILE[suspicious]}" || fail "susp-1: swaks failed"
  check_tagged susp-1 suspicious "${SCORE[suspicious]}"
else
  echo "# no suspicious sample in corpus/samples/: suspicious tagging not exercised"
fi

# --- 2. forged headers from outside (two verdicts in any case, one score) are removed -------
send forged-1 "${FILE[clean]}" --add-header "X-Hdrscan-Verdict: campaign" \
     --add-header "x-hdrscan-verdict:   suspicious" \
     --add-header "X-Hdrscan-Score: 100 signals=forged" || fail "forged-1: swaks failed"
f=$(delivered forged-1) || fail "forged-1 not delivered"
grep -qi "^X-Hdrscan-Verdict: *\(campaign\|suspicious\)" "$f" && fail "forged-1: a forged X-Hdrscan-Verdict survived"
grep -q "signals=forged" "$f" && fail "forged-1: forged X-Hdrscan-Score survived"
check_tagged forged-1 clean "${SCORE[clean]}"

# --- 3. campaign -> quarantine: held, tagged, not delivered ----------------------------------
send camp-1 "${FILE[campaign]}" --add-header "X-Hdrscan-Verdict: clean" || fail "camp-1: swaks failed: $(tail -n 5 "$SCRATCH/camp-1.swaks")"
qid=$(queue_id_of camp-1)
[ -n "$qid" ] || fail "camp-1: no queue id in swaks output"
i=0; until pf_queue | grep -q "\"queue_id\": *\"$qid\".*\"queue_name\": *\"hold\"\|\"queue_name\": *\"hold\".*\"queue_id\": *\"$qid\""; do
  i=$((i+1)); [ $i -lt 100 ] || fail "camp-1 ($qid) is not in the hold queue: $(pf_queue)"; sleep 0.1; done
postcat -c "$PF_ETC" -hq "$qid" >"$SCRATCH/camp-1.held" 2>/dev/null || fail "postcat of held $qid failed"
[ "$(grep -c '^X-Hdrscan-Verdict:' "$SCRATCH/camp-1.held")" = 1 ] || fail "held copy: want one X-Hdrscan-Verdict"
grep -q "^X-Hdrscan-Verdict: campaign$" "$SCRATCH/camp-1.held" || fail "held copy not tagged campaign (forged 'clean' must be gone)"
grep -q "^X-Hdrscan-Score: ${SCORE[campaign]}" "$SCRATCH/camp-1.held" || fail "held copy: score is not ${SCORE[campaign]}"
grep -q "milter-hold" "$PF_ROOT/log/maillog" || fail "no milter-hold in maillog"
sleep 1
grep -l -s "^X-Test-Id: camp-1" "$PF_ROOT"/mail/inbox/new/* >/dev/null && fail "camp-1 was delivered although quarantined"
pass "camp-1 ($qid) held in the hold queue, tagged campaign, forged header removed"
grep -q "qid=$qid .*verdict=campaign score=${SCORE[campaign]} action=quarantine" "$MILTER_LOG" \
  || fail "no milter log line for $qid with verdict/score/action"
pass "milter log line for $qid: $(grep "qid=$qid" "$MILTER_LOG")"

# --- 4. several messages in one SMTP session (one milter connection) -------------------------
python3 "$SRC/tests/milter/smtp_session.py" "$SMTP_PORT" multi-1="${FILE[campaign]}" \
  multi-2="${FILE[clean]}" multi-3="${FILE[campaign]}" multi-4="${FILE[clean]}" >"$SCRATCH/multi.out" \
  || fail "multi-message session failed: $(cat "$SCRATCH/multi.out")"
[ "$(grep -c ' 250 ' "$SCRATCH/multi.out")" = 4 ] || fail "multi: want 4 x 250, got: $(cat "$SCRATCH/multi.out")"
check_tagged multi-2 clean "${SCORE[clean]}"
check_tagged multi-4 clean "${SCORE[clean]}"
held=$(pf_held_count)
[ "$held" = 3 ] || fail "want 3 held messages (camp-1, multi-1, multi-3), got $held"
pass "4 messages in one SMTP session: 2 delivered clean, 2 held campaign"

# --- 5. SIGHUP reload: campaign -> reject with the configured reply ---------------------------
cat >"$CONF" <<EOF
clean = tag
suspicious = tag
campaign = reject
reject-reply = 550 5.7.1 hdrscan test: campaign message refused (100% sure)
EOF
n=$(grep -c "reloaded:" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
i=0; until [ "$(grep -c "reloaded:" "$MILTER_LOG")" -gt "$n" ]; do i=$((i+1)); [ $i -lt 100 ] || fail "no reload after SIGHUP"; sleep 0.1; done
send camp-rej "${FILE[campaign]}" && fail "camp-rej: swaks succeeded, want a 550 reject"
grep -q "<\*\* *550 5.7.1 hdrscan test: campaign message refused (100% sure)" "$SCRATCH/camp-rej.swaks" \
  || fail "camp-rej: client did not get the configured 550 reply: $(grep '<\*\*' "$SCRATCH/camp-rej.swaks")"
grep -q "milter-reject: END-OF-MESSAGE" "$PF_ROOT/log/maillog" || fail "no milter-reject in maillog"
pass "after SIGHUP: campaign rejected: $(grep '<\*\*' "$SCRATCH/camp-rej.swaks" | head -n1)"
send clean-2 "${FILE[clean]}" || fail "clean-2 after reload failed"
check_tagged clean-2 clean "${SCORE[clean]}"

# --- 6. a bad config on SIGHUP keeps the running one ------------------------------------------
echo "campaign = explode" >>"$CONF"
n=$(grep -c "reload failed" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
i=0; until [ "$(grep -c "reload failed" "$MILTER_LOG")" -gt "$n" ]; do i=$((i+1)); [ $i -lt 100 ] || fail "no 'reload failed' after a bad config"; sleep 0.1; done
send camp-rej2 "${FILE[campaign]}" && fail "camp-rej2 accepted: the bad reload changed the policy"
grep -q "<\*\* *550 5.7.1 hdrscan test" "$SCRATCH/camp-rej2.swaks" || fail "camp-rej2: not rejected after a failed reload"
pass "bad config on SIGHUP: logged, previous policy kept"

# --- 7. dry-run: nothing changed, only logged --------------------------------------------------
printf 'campaign = reject\ndry-run = yes\n' >"$CONF"
n=$(grep -c "reloaded:" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
i=0; until [ "$(grep -c "reloaded:" "$MILTER_LOG")" -gt "$n" ]; do i=$((i+1)); [ $i -lt 100 ] || fail "no reload (dry-run)"; sleep 0.1; done
send camp-dry "${FILE[campaign]}" --add-header "X-Hdrscan-Verdict: forged-kept-in-dry-run" || fail "camp-dry: swaks failed (dry-run must not reject)"
f=$(delivered camp-dry) || fail "camp-dry not delivered"
[ "$(header_values "$f" X-Hdrscan-Verdict)" = "forged-kept-in-dry-run" ] || fail "dry-run changed the headers"
grep -q "verdict=campaign score=${SCORE[campaign]} action=dry-run:reject .*forged_seen=1" "$MILTER_LOG" || fail "dry-run not logged (with forged_seen=1)"
pass "dry-run: delivered unchanged, log says action=dry-run:reject"

# --- 8. SIGTERM: drain and exit 0 ---------------------------------------------------------------
stop_milter || fail "milter exit status $? after SIGTERM, want 0"
grep -q "stats (exit):.* messages=" "$MILTER_LOG" || fail "no exit stats line"
pass "SIGTERM: drained and exited 0; $(grep 'stats (exit)' "$MILTER_LOG" | tail -n1 | cut -c1-200)"
# one log line per message scored: 1 clean-1 +1 susp +1 forged +1 camp +4 multi +1 rej +1 clean-2 +1 rej2 +1 dry
want=11; [ -n "${FILE[suspicious]:-}" ] && want=12
got=$(grep -c " verdict=" "$MILTER_LOG")
[ "$got" = "$want" ] || fail "want $want per-message log lines, got $got"
pass "$got per-message log lines"

# --- 9. slow scoring (test hook HDRSCAN_MILTER_TEST_SCAN_DELAY_MS) ------------------------------
# a) Postfix waits at most milter_content_timeout (2 s here) per read; scoring takes 3.5 s,
#    progress packets every second keep the session alive: delivered and tagged.
postconf -c "$PF_ETC" -e "milter_content_timeout = 2s" && postfix -c "$PF_ETC" reload >/dev/null 2>&1
printf 'scan-timeout = 20\nprogress-interval = 1\n' >"$CONF"
HDRSCAN_MILTER_TEST_SCAN_DELAY_MS=3500 start_milter "$CONF"
send slow-1 "${FILE[clean]}" || fail "slow-1: swaks failed although progress packets were sent: $(grep '<\*\*' "$SCRATCH/slow-1.swaks")"
check_tagged slow-1 clean "${SCORE[clean]}"
pass "3.5 s scoring behind a 2 s milter_content_timeout: progress packets kept Postfix waiting"
stop_milter || fail "slow milter exit status"
# b) scan-timeout (1 s) shorter than the scoring: the configured on-error result (tempfail)
#    reaches the client as 4xx; the sender keeps the message, nothing is queued.
printf 'scan-timeout = 1\nprogress-interval = 1\non-error = tempfail\n' >"$CONF"
HDRSCAN_MILTER_TEST_SCAN_DELAY_MS=3500 start_milter "$CONF"
send slow-2 "${FILE[clean]}" && fail "slow-2: accepted although scoring timed out"
grep -q "<\*\* *451 4.7.1" "$SCRATCH/slow-2.swaks" || fail "slow-2: want 451 4.7.1, got: $(grep '<\*\*' "$SCRATCH/slow-2.swaks")"
grep -q 'action=error:tempfail .*error="scan timeout"' "$MILTER_LOG" || fail "slow-2: scan timeout not logged"
pass "scan-timeout: client got $(grep -m1 '<\*\*' "$SCRATCH/slow-2.swaks" | cut -c1-60); milter logged action=error:tempfail"
send after-slow "${FILE[clean]}" -timeout 30 >/dev/null 2>&1 || true
kill -0 "$MILTER_PID" || fail "milter died after a scan timeout"
stop_milter || fail "milter exit status after scan timeouts"

# --- 10. a message above the inline-scoring size (128 KiB) is scored on the pool ------------
# Messages up to 128 KiB are scored on the connection's I/O strand, larger ones on the scan
# pool (milter_server.cpp start_scan). The campaign sample with 300 KiB of text after its
# last line must get the verdict and score `hdrscan scan` gives the same file.
BIG=$SCRATCH/big.eml
{ cat "${FILE[campaign]}"; for i in $(seq 4000); do echo "filler line $i: lorem ipsum dolor sit amet consectetur adipiscing elit"; done; } >"$BIG"
[ "$(stat -c %s "$BIG")" -gt 300000 ] || fail "big.eml is not larger than 300 kB"
read -r bv bs < <(scan_verdict "$BIG") || fail "hdrscan scan failed on big.eml"
printf 'clean = tag\nsuspicious = tag\ncampaign = tag\n' >"$CONF"
start_milter "$CONF"
send big-1 "$BIG" || fail "big-1: swaks failed: $(grep '<\*\*' "$SCRATCH/big-1.swaks")"
check_tagged big-1 "$bv" "$bs"
grep -q "verdict=$bv score=$bs .*size=[0-9]\{6,\}" "$MILTER_LOG" || fail "big-1: no log line with verdict=$bv score=$bs and a 6-digit size"
stop_milter || fail "milter exit status after the big message"
pass "a $(stat -c %s "$BIG")-byte message (scored on the pool): verdict $bv, score $bs as hdrscan scan"
echo "PASS"
