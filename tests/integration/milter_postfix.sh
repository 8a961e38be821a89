#!/usr/bin/env bash
# milter_postfix.sh: `hdrscan milter` in front of a real, private Postfix 3.7 on loopback.
#
# Every labelled sample (corpus/samples/) and tests/milter/clean.eml is sent with swaks through
# Postfix. The expected verdict of each file comes from the corpus labels (lib.sh
# expected_verdict: corpus/labels.tsv and the sample names; campaign, related = suspicious,
# clean), the expected action from that verdict and the milter config (action_for): a
# detection regression fails here, never skips. The X-Hdrscan-Score must besides equal the
# score `hdrscan scan` gives the same file (consistency, not the expectation).
#  - tag: delivered copies in the Maildir carry exactly one X-Hdrscan-Verdict (the labelled
#    verdict) and one X-Hdrscan-Score (the scan's score and top signals);
#  - forged X-Hdrscan-* headers from outside are removed (only ours remain);
#  - quarantine (campaign, the default): the message sits in Postfix's hold queue, tagged;
#  - several messages in one SMTP session get their own verdicts;
#  - a wrapper (a user's report holding campaign mail as message/rfc822, labelled so) is
#    delivered tagged campaign with nested_from=nested[0] in X-Hdrscan-Score and the log, by
#    default and even under `campaign = reject`; `wrapper-action = reject` rejects it;
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

# --- expectations: the label of every sample (never the scanner's verdict) ---------------
# WANT[file] = expected verdict (labels). FILE[verdict]: the message used for that verdict in
# the later steps (the first sample labelled so; tests/milter/clean.eml for clean). The score
# each tagged copy must carry is `hdrscan scan`'s on the message as the milter saw it
# (view_score; consistency, not the expectation).
# WRAP[file] = wrapper | direct (labels: the verdict comes from an attached message);
# FILE[wrapper]: the first sample labelled campaign that is a wrapper.
declare -A FILE WANT WRAP
mapfile -t ALL < <(labelled_samples)
[ ${#ALL[@]} -gt 0 ] || fail "no corpus/samples/*.eml (repository data)"
ALL+=("$SRC/tests/milter/clean.eml")
for f in "${ALL[@]}"; do
  WANT[$f]=$(expected_verdict "$f") || fail "no label for $f"
  WRAP[$f]=$(expected_wrapper "$f") || fail "no label for $f"
  if [ "${WRAP[$f]}" = wrapper ]; then
    [ "${WANT[$f]}" = campaign ] && [ -z "${FILE[wrapper]:-}" ] && FILE[wrapper]=$f
    continue
  fi
  [ -n "${FILE[${WANT[$f]}]:-}" ] || FILE[${WANT[$f]}]=$f
done
FILE[clean]=$SRC/tests/milter/clean.eml
for v in campaign suspicious clean wrapper; do
  [ -n "${FILE[$v]:-}" ] || fail "no sample labelled $v (corpus/labels.tsv)"
  echo "# $v: ${FILE[$v]}"
done

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
header_values() { # FILE NAME... -> every value of those headers in the header block, one a line
  # (with one NAME: the bare values; with several: "NAME: value", in the order of the NAMEs)
  python3 - "$@" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.compat32)
for name in sys.argv[2:]:
    for v in m.get_all(name) or []:
        print((name + ": " if len(sys.argv) > 3 else "") + " ".join(v.split()))
PY
}
queue_id_of() { sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$SCRATCH/$1.swaks" | tail -n1; }

# view_score ID FILE COPY -> `hdrscan scan`'s score of FILE as Postfix handed it to the milter
# (the consistency check): the headers Postfix's cleanup drops (message_drop_headers:
# Return-Path, Bcc...) removed, and Postfix's own Received (the first one of COPY, the delivered
# or held copy) on top; written to $SCRATCH/ID.view.eml and scanned. (A campaign's Return-Path
# never reaches a milter behind a default Postfix.) One python process: they are slow to start
# on a loaded machine.
view_score() {
  local drop
  drop=$(postconf -c "$PF_ETC" -h message_drop_headers) || fail "$1: postconf message_drop_headers"
  python3 - "$2" "$3" "$SCRATCH/$1.view.eml" "$drop" "$HDRSCAN" <<'PY' || fail "$1: could not rebuild or scan the milter's view"
import json, re, subprocess, sys
orig, copy, out, drop, hdrscan = sys.argv[1:6]
drop = {d.strip().lower() for d in drop.replace(",", " ").split()}
data = open(orig, "rb").read()
sep = re.search(rb"\r?\n\r?\n", data)
head, body = (data[:sep.start()], data[sep.start():]) if sep else (data, b"")
fields = re.split(rb"\r?\n(?![ \t])", head)
kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().decode("latin-1") not in drop]
chead = re.split(rb"\r?\n\r?\n", open(copy, "rb").read(), maxsplit=1)[0]
rec = next(f for f in re.split(rb"\r?\n(?![ \t])", chead) if f.lower().startswith(b"received:"))
eol = b"\r\n" if b"\r\n" in head else b"\n"
open(out, "wb").write(eol.join([rec.replace(b"\r\n", b"\n").replace(b"\n", eol)] + kept) + body)
r = subprocess.run([hdrscan, "scan", "--format", "jsonl", out], capture_output=True)
print(json.loads(r.stdout.splitlines()[0])["score"])
PY
}

check_tagged() { # ID VERDICT FILE: delivered, tagged VERDICT (expected) and the scan's score (consistency)
  local id=$1 v=$2 orig=$3 f vals s
  f=$(delivered "$id") || fail "$id: not delivered to the Maildir"
  s=$(view_score "$id" "$orig" "$f") || fail "$id: $s"
  LAST_SCORE=$s
  vals=$(header_values "$f" X-Hdrscan-Verdict X-Hdrscan-Score)
  [ "$(sed -n 1p <<<"$vals")" = "X-Hdrscan-Verdict: $v" ] && [ "$(grep -c '^X-Hdrscan-Verdict: ' <<<"$vals")" = 1 ] \
    || fail "$id: X-Hdrscan-Verdict values '$(grep '^X-Hdrscan-Verdict: ' <<<"$vals")', want exactly one '$v'"
  [ "$(grep -c '^X-Hdrscan-Score: ' <<<"$vals")" = 1 ] || fail "$id: want one X-Hdrscan-Score, got '$vals'"
  vals=$(sed -n 's/^X-Hdrscan-Score: //p' <<<"$vals")
  case "$vals" in "$s"|"$s signals="*) ;; *) fail "$id: X-Hdrscan-Score '$vals', want score $s";; esac
  grep -q "^X-Hdrscan-Verdict: $v" "$f" || fail "$id: header not written as 'X-Hdrscan-Verdict: $v' (leading space)"
  pass "$id delivered, tagged X-Hdrscan-Verdict: $v / X-Hdrscan-Score: $vals"
}

check_held() { # ID VERDICT FILE: in the hold queue, tagged VERDICT (expected) and the scan's score, not delivered
  local id=$1 v=$2 orig=$3 s qid i=0
  qid=$(queue_id_of "$id")
  [ -n "$qid" ] || fail "$id: no queue id in swaks output"
  # one JSON object a line: the line of $qid says hold
  wait_until 60 "$id ($qid) in the hold queue" \
    'pf_queue | grep "\"queue_name\": *\"hold\"" | grep -q "\"queue_id\": *\"$qid\""'
  postcat -c "$PF_ETC" -hq "$qid" >"$SCRATCH/$id.held" 2>/dev/null || fail "postcat of held $qid failed"
  s=$(view_score "$id" "$orig" "$SCRATCH/$id.held") || fail "$id: $s"
  LAST_SCORE=$s
  [ "$(grep -c '^X-Hdrscan-Verdict:' "$SCRATCH/$id.held")" = 1 ] || fail "$id held copy: want one X-Hdrscan-Verdict"
  grep -q "^X-Hdrscan-Verdict: $v$" "$SCRATCH/$id.held" || fail "$id held copy not tagged $v"
  grep -q "^X-Hdrscan-Score: $s\( \|$\)" "$SCRATCH/$id.held" || fail "$id held copy: score is not $s"
  grep -l -s "^X-Test-Id: $id\$" "$PF_ROOT"/mail/inbox/new/* >/dev/null && fail "$id was delivered although quarantined"
  pass "$id ($qid) held in the hold queue, tagged $v / $s"
}

# --- 1. every labelled sample: the action its label's verdict gets under this config ----------
# All are sent first, then checked (delivery runs meanwhile).
HELD_SAMPLES=0; n=0
for f in "${ALL[@]}"; do
  n=$((n+1)); id=sample-$n
  send "$id" "$f" || fail "$id: swaks failed: $(tail -n 5 "$SCRATCH/$id.swaks")"
done
n=0
for f in "${ALL[@]}"; do
  n=$((n+1)); id=sample-$n; v=${WANT[$f]}
  a=$(action_for "$v" "$CONF" "${WRAP[$f]}") || fail "action_for"
  echo "# $id: ${f#"$SRC"/} labelled $v (${WRAP[$f]}) -> $a"
  case "$a" in
    tag) check_tagged "$id" "$v" "$f" ;;
    quarantine) check_held "$id" "$v" "$f"; HELD_SAMPLES=$((HELD_SAMPLES+1)) ;;
    *) fail "$id: this step checks tag and quarantine, the config gives $v -> $a" ;;
  esac
  qid=$(queue_id_of "$id")
  s=$LAST_SCORE
  grep -q "qid=$qid .*verdict=$v score=$s action=$a" "$MILTER_LOG" || fail "$id: no milter log line qid=$qid verdict=$v score=$s action=$a"
  if [ "${WRAP[$f]}" = wrapper ] && [ "$v" != clean ]; then
    grep -q "qid=$qid .* nested_from=nested\[0\]\( \|\$\)" "$MILTER_LOG" || fail "$id: wrapper's log line lacks nested_from=nested[0]"
    [ "$a" = tag ] && { header_values "$(delivered "$id")" X-Hdrscan-Score | grep -q " nested_from=nested\[0\]\$" \
      || fail "$id: wrapper's X-Hdrscan-Score does not end in nested_from=nested[0]"; }
  fi
done
pass "${#ALL[@]} labelled messages: verdict from the label, action from the config, score as hdrscan scan"

# --- 2. forged headers from outside (two verdicts in any case, one score) are removed -------
send forged-1 "${FILE[clean]}" --add-header "X-Hdrscan-Verdict: campaign" \
     --add-header "x-hdrscan-verdict:   suspicious" \
     --add-header "X-Hdrscan-Score: 100 signals=forged" || fail "forged-1: swaks failed"
f=$(delivered forged-1) || fail "forged-1 not delivered"
grep -qi "^X-Hdrscan-Verdict: *\(campaign\|suspicious\)" "$f" && fail "forged-1: a forged X-Hdrscan-Verdict survived"
grep -q "signals=forged" "$f" && fail "forged-1: forged X-Hdrscan-Score survived"
check_tagged forged-1 clean "${FILE[clean]}"

# --- 3. campaign -> quarantine: held, tagged, not delivered, forged verdict gone -------------
[ "$(action_for campaign "$CONF")" = quarantine ] || fail "step 3 expects campaign = quarantine in $CONF"
send camp-1 "${FILE[campaign]}" --add-header "X-Hdrscan-Verdict: clean" || fail "camp-1: swaks failed: $(tail -n 5 "$SCRATCH/camp-1.swaks")"
check_held camp-1 campaign "${FILE[campaign]}"
CAMP_SCORE=$LAST_SCORE
qid=$(queue_id_of camp-1)
grep -q "milter-hold" "$PF_ROOT/log/maillog" || fail "no milter-hold in maillog"
sleep 1
grep -l -s "^X-Test-Id: camp-1" "$PF_ROOT"/mail/inbox/new/* >/dev/null && fail "camp-1 was delivered although quarantined"
pass "camp-1 ($qid): forged 'X-Hdrscan-Verdict: clean' gone, tagged campaign"
grep -q "qid=$qid .*verdict=campaign score=$CAMP_SCORE action=quarantine" "$MILTER_LOG" \
  || fail "no milter log line for $qid with verdict/score/action"
pass "milter log line for $qid: $(grep "qid=$qid" "$MILTER_LOG")"

# --- 4. several messages in one SMTP session (one milter connection) -------------------------
python3 "$SRC/tests/milter/smtp_session.py" "$SMTP_PORT" multi-1="${FILE[campaign]}" \
  multi-2="${FILE[clean]}" multi-3="${FILE[campaign]}" multi-4="${FILE[clean]}" >"$SCRATCH/multi.out" \
  || fail "multi-message session failed: $(cat "$SCRATCH/multi.out")"
[ "$(grep -c ' 250 ' "$SCRATCH/multi.out")" = 4 ] || fail "multi: want 4 x 250, got: $(cat "$SCRATCH/multi.out")"
check_tagged multi-2 clean "${FILE[clean]}"
check_tagged multi-4 clean "${FILE[clean]}"
held=$(pf_held_count)
[ "$held" = $((HELD_SAMPLES + 3)) ] || fail "want $((HELD_SAMPLES + 3)) held messages ($HELD_SAMPLES samples, camp-1, multi-1, multi-3), got $held"
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
wait_until 60 "reload after SIGHUP" '[ "$(grep -c "reloaded:" "$MILTER_LOG")" -gt "$n" ]'
send camp-rej "${FILE[campaign]}" && fail "camp-rej: swaks succeeded, want a 550 reject"
grep -q "<\*\* *550 5.7.1 hdrscan test: campaign message refused (100% sure)" "$SCRATCH/camp-rej.swaks" \
  || fail "camp-rej: client did not get the configured 550 reply: $(grep '<\*\*' "$SCRATCH/camp-rej.swaks")"
grep -q "milter-reject: END-OF-MESSAGE" "$PF_ROOT/log/maillog" || fail "no milter-reject in maillog"
pass "after SIGHUP: campaign rejected: $(grep '<\*\*' "$SCRATCH/camp-rej.swaks" | head -n1)"
send clean-2 "${FILE[clean]}" || fail "clean-2 after reload failed"
check_tagged clean-2 clean "${FILE[clean]}"
# A user's report holding campaign mail (a wrapper): delivered and tagged, not rejected, under
# the same `campaign = reject` (wrapper-action defaults to tag).
[ "$(action_for campaign "$CONF" wrapper)" = tag ] || fail "step 5 expects wrapper-action unset in $CONF"
send wrap-1 "${FILE[wrapper]}" || fail "wrap-1: the wrapper was refused: $(grep '<\*\*' "$SCRATCH/wrap-1.swaks")"
check_tagged wrap-1 campaign "${FILE[wrapper]}"
grep -q "qid=$(queue_id_of wrap-1) .*verdict=campaign score=$LAST_SCORE action=tag .*nested_from=nested\[0\]" "$MILTER_LOG" \
  || fail "wrap-1: no log line verdict=campaign action=tag ... nested_from=nested[0]"
pass "wrapper under campaign = reject: delivered, tagged campaign, nested_from=nested[0]"

# --- 5b. wrapper-action = reject: the wrapper is refused with the reject reply ----------------
echo "wrapper-action = reject" >>"$CONF"
n=$(grep -c "reloaded:" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
wait_until 60 "reload (wrapper-action) after SIGHUP" '[ "$(grep -c "reloaded:" "$MILTER_LOG")" -gt "$n" ]'
[ "$(action_for campaign "$CONF" wrapper)" = reject ] || fail "action_for: wrapper-action = reject not read"
send wrap-rej "${FILE[wrapper]}" && fail "wrap-rej: swaks succeeded, want a 550 reject (wrapper-action = reject)"
grep -q "<\*\* *550 5.7.1 hdrscan test: campaign message refused (100% sure)" "$SCRATCH/wrap-rej.swaks" \
  || fail "wrap-rej: client did not get the configured 550 reply: $(grep '<\*\*' "$SCRATCH/wrap-rej.swaks")"
grep -q "verdict=campaign score=[0-9]* action=reject .*nested_from=nested\[0\]" "$MILTER_LOG" \
  || fail "wrap-rej: no log line action=reject with nested_from=nested[0]"
pass "wrapper-action = reject: the wrapper is refused: $(grep '<\*\*' "$SCRATCH/wrap-rej.swaks" | head -n1)"

# --- 6. a bad config on SIGHUP keeps the running one ------------------------------------------
echo "campaign = explode" >>"$CONF"
n=$(grep -c "reload failed" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
wait_until 60 "'reload failed' after a bad config" \
  '[ "$(grep -c "reload failed" "$MILTER_LOG")" -gt "$n" ]'
send camp-rej2 "${FILE[campaign]}" && fail "camp-rej2 accepted: the bad reload changed the policy"
grep -q "<\*\* *550 5.7.1 hdrscan test" "$SCRATCH/camp-rej2.swaks" || fail "camp-rej2: not rejected after a failed reload"
pass "bad config on SIGHUP: logged, previous policy kept"

# --- 7. dry-run: nothing changed, only logged --------------------------------------------------
printf 'campaign = reject\ndry-run = yes\n' >"$CONF"
n=$(grep -c "reloaded:" "$MILTER_LOG")
kill -HUP "$MILTER_PID"
wait_until 60 "reload (dry-run) after SIGHUP" '[ "$(grep -c "reloaded:" "$MILTER_LOG")" -gt "$n" ]'
send camp-dry "${FILE[campaign]}" --add-header "X-Hdrscan-Verdict: forged-kept-in-dry-run" || fail "camp-dry: swaks failed (dry-run must not reject)"
f=$(delivered camp-dry) || fail "camp-dry not delivered"
[ "$(header_values "$f" X-Hdrscan-Verdict)" = "forged-kept-in-dry-run" ] || fail "dry-run changed the headers"
s=$(view_score camp-dry "${FILE[campaign]}" "$f") || fail "camp-dry: $s"
grep -q "verdict=campaign score=$s action=dry-run:reject .*forged_seen=1" "$MILTER_LOG" || fail "dry-run not logged (with forged_seen=1, score $s)"
pass "dry-run: delivered unchanged, log says action=dry-run:reject"

# --- 8. SIGTERM: drain and exit 0 ---------------------------------------------------------------
stop_milter || fail "milter exit status $? after SIGTERM, want 0"
grep -q "stats (exit):.* messages=" "$MILTER_LOG" || fail "no exit stats line"
pass "SIGTERM: drained and exited 0; $(grep 'stats (exit)' "$MILTER_LOG" | tail -n1 | cut -c1-200)"
# one log line per message scored: the samples +1 forged +1 camp +4 multi +1 rej +1 clean-2
# +2 wrappers +1 rej2 +1 dry
want=$(( ${#ALL[@]} + 12 ))
got=$(grep -c " verdict=" "$MILTER_LOG")
[ "$got" = "$want" ] || fail "want $want per-message log lines, got $got"
pass "$got per-message log lines"

# --- 9. slow scoring (test hook HDRSCAN_MILTER_TEST_SCAN_DELAY_MS) ------------------------------
# a) Postfix waits at most milter_content_timeout (3 s here) per read; scoring takes 5 s,
#    progress packets every second keep the session alive: delivered and tagged. (A packet
#    may come up to 2 s late before Postfix gives up: a loaded machine must not fail this.)
postconf -c "$PF_ETC" -e "milter_content_timeout = 3s" \
  && postfix -c "$PF_ETC" reload >/dev/null 2>&1
printf 'scan-timeout = 20\nprogress-interval = 1\n' >"$CONF"
HDRSCAN_MILTER_TEST_SCAN_DELAY_MS=5000 start_milter "$CONF"
send slow-1 "${FILE[clean]}" || fail "slow-1: swaks failed although progress packets were sent: $(grep '<\*\*' "$SCRATCH/slow-1.swaks")"
check_tagged slow-1 clean "${FILE[clean]}"
pass "5 s scoring behind a 3 s milter_content_timeout: progress packets kept Postfix waiting"
stop_milter || fail "slow milter exit status"
# b) scan-timeout (1 s) shorter than the scoring: the configured on-error result (tempfail)
#    reaches the client as 4xx; the sender keeps the message, nothing is queued.
printf 'scan-timeout = 1\nprogress-interval = 1\non-error = tempfail\n' >"$CONF"
HDRSCAN_MILTER_TEST_SCAN_DELAY_MS=3500 start_milter "$CONF"
send slow-2 "${FILE[clean]}" && fail "slow-2: accepted although scoring timed out"
grep -q "<\*\* *451 4.7.1" "$SCRATCH/slow-2.swaks" || fail "slow-2: want 451 4.7.1, got: $(grep '<\*\*' "$SCRATCH/slow-2.swaks")"
grep -q 'action=error:tempfail .*error="scan timeout"' "$MILTER_LOG" || fail "slow-2: scan timeout not logged"
pass "scan-timeout: client got $(grep -m1 '<\*\*' "$SCRATCH/slow-2.swaks" | cut -c1-60); milter logged action=error:tempfail"
# A second message under the same delay times out the same way, and the milter lives on.
send after-slow "${FILE[clean]}" -timeout 30 && fail "after-slow: accepted although scoring still times out"
grep -q "<\*\* *451 4.7.1" "$SCRATCH/after-slow.swaks" || fail "after-slow: want 451 4.7.1, got: $(grep '<\*\*' "$SCRATCH/after-slow.swaks")"
kill -0 "$MILTER_PID" || fail "milter died after a scan timeout"
stop_milter || fail "milter exit status after scan timeouts"

# --- 10. a message above the inline-scoring size (128 KiB) is scored on the pool ------------
# Messages up to 128 KiB are scored on the connection's I/O strand, larger ones on the scan
# pool (milter_server.cpp start_scan). The campaign sample with 300 KiB of plain text after
# its last line keeps its labelled verdict (the text adds no evidence either way), with the
# score `hdrscan scan` gives the same file (consistency).
BIG=$SCRATCH/big.eml
{ cat "${FILE[campaign]}"; for i in $(seq 4000); do echo "filler line $i: lorem ipsum dolor sit amet consectetur adipiscing elit"; done; } >"$BIG"
[ "$(stat -c %s "$BIG")" -gt 300000 ] || fail "big.eml is not larger than 300 kB"
bv=${WANT[${FILE[campaign]}]}
printf 'clean = tag\nsuspicious = tag\ncampaign = tag\n' >"$CONF"
start_milter "$CONF"
send big-1 "$BIG" || fail "big-1: swaks failed: $(grep '<\*\*' "$SCRATCH/big-1.swaks")"
check_tagged big-1 "$bv" "$BIG"
bs=$LAST_SCORE
grep -q "verdict=$bv score=$bs .*size=[0-9]\{6,\}" "$MILTER_LOG" || fail "big-1: no log line with verdict=$bv score=$bs and a 6-digit size"
stop_milter || fail "milter exit status after the big message"
pass "a $(stat -c %s "$BIG")-byte message (scored on the pool): verdict $bv, score $bs as hdrscan scan"
echo "PASS"
