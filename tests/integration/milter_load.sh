#!/usr/bin/env bash
# milter_load.sh: `hdrscan milter` under load behind a real, private Postfix 3.7.
#
# Phase 1 (Postfix's smtp-source): 20 concurrent SMTP sessions, 2,000 messages: one
#   smtp-source sends 1,000 "load-hold" messages over 10 sessions with several messages per
#   session (-d), another 1,000 "load-pass" messages over 10 sessions, one per session. A
#   test indicator file makes "load-hold" subjects suspicious, and the config quarantines
#   suspicious mail: every message must be delivered (tagged clean) or held, none lost
#   (smtp-source exits non-zero on any non-2xx reply, so all 2,000 were accepted), with
#   three SIGHUP reloads during the load (no connection dropped).
# Phase 2 (kill -KILL mid-load) and phase 3 (SIGTERM mid-load, drain): tests/milter/
#   smtp_load.py records the answer to every message while the milter is killed and
#   restarted; every message is delivered, held, or refused with a 4xx (the sender keeps it,
#   milter_default_action = tempfail); none is accepted and lost: accepted "pass" ids are all
#   in the Maildir, accepted "hold" ids are all in the hold queue, nothing got a 5xx or no
#   answer. An smtp-source run alongside reports its 4xx. Sessions held open mid-message and
#   idle (see run_phase) make sure each signal hits open transactions whatever the machine's
#   speed: at the kill they all get a 4xx; at SIGTERM the drain finishes the mid-message ones
#   and the idle ones get a 4xx.
# Bounded: every wait has a limit (a few minutes in all on 2 cores).
# Args: $1 hdrscan binary, $2 source dir, $3 shared corpus dir (unused), $4 scratch dir.
set -u
HDRSCAN=$1 SRC=$2 SCRATCH=$4
. "$SRC/tests/milter/lib.sh"
need_postfix
SMTP_SOURCE=$(command -v smtp-source || echo /usr/sbin/smtp-source)
[ -x "$SMTP_SOURCE" ] || skip "smtp-source not found (package postfix ships /usr/sbin/smtp-source)"
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
MILTER_LOG=$SCRATCH/milter.log
trap cleanup EXIT

cat >"$SCRATCH/load.ind" <<'EOF'
@format hdrscan-indicators 1
@source tests/integration/milter_load.sh: load-test subjects to be held
header-rule load.test_hold 50 Subject ^load-hold
EOF
printf 'From: <load@example.org>\r\nTo: <bob@test.local>\r\nSubject: load-hold x\r\n\r\nLa de da.\r\n' >"$SCRATCH/h.eml"
printf 'From: <load@example.org>\r\nTo: <bob@test.local>\r\nSubject: load-pass x\r\n\r\nLa de da.\r\n' >"$SCRATCH/p.eml"
read -r hv _ < <("$HDRSCAN" scan --indicators "$SCRATCH/load.ind" --format jsonl "$SCRATCH/h.eml" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["verdict"], d["score"])')
read -r pv _ < <("$HDRSCAN" scan --indicators "$SCRATCH/load.ind" --format jsonl "$SCRATCH/p.eml" | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["verdict"], d["score"])')
[ "$hv" = suspicious ] && [ "$pv" = clean ] || fail "test indicator: load-hold is '$hv' (want suspicious), load-pass is '$pv' (want clean)"

SMTP_PORT=$(free_port); MILTER_PORT=$(free_port)
CONF=$SCRATCH/milter.conf
# two I/O threads: connections' strands really run in parallel here (the other tests use one)
printf 'clean = tag\nsuspicious = quarantine\ncampaign = quarantine\nio-threads = 2\nscan-threads = 2\nstats-file = %s\n' "$SCRATCH/stats.json" >"$CONF"
MILTER_ARGS=(--indicators "$SCRATCH/load.ind")
start_milter "$CONF" "${MILTER_ARGS[@]}"
pf_setup
pf_start

# delivered/held per sender, from the Maildir and the hold queue
count_delivered() { grep -l -s "^Return-Path: <$1>" "$PF_ROOT"/mail/inbox/new/* "$PF_ROOT"/mail/inbox/cur/* 2>/dev/null | wc -l; }
count_held() { pf_queue | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    q = json.loads(line)
    if q.get("queue_name") == "hold" and q.get("sender") == sys.argv[1]:
        n += 1
print(n)' "$1"; }
# wait until nothing is left in incoming/active/deferred (bounded)
wait_queue_settled() {
  local i=0
  while [ "$(pf_active_count)" != 0 ]; do
    i=$((i+1)); [ $i -lt 1800 ] || fail "queue did not settle in 180 s: $(pf_queue | head -n 3)"
    sleep 0.1
  done
}
milter_lines() { grep -c " verdict=" "$MILTER_LOG" || true; }

# --- phase 1: smtp-source, 20 sessions, 2,000 messages ------------------------------------------
T0=$(date +%s)
timeout 300 "$SMTP_SOURCE" -4 -d -s 10 -m 1000 -f load-a@example.org -t bob@test.local -S "load-hold via smtp-source" \
  "127.0.0.1:$SMTP_PORT" >"$SCRATCH/ss-a.out" 2>&1 &
A=$!
timeout 300 "$SMTP_SOURCE" -4 -s 10 -m 1000 -f load-b@example.org -t bob@test.local -S "load-pass via smtp-source" \
  "127.0.0.1:$SMTP_PORT" >"$SCRATCH/ss-b.out" 2>&1 &
B=$!
# SIGHUP (reload config + indicators) three times under load: no connection may drop, so
# smtp-source (which dies on any non-2xx reply) must still finish every message.
# Waits last as long as the senders run (each bounded by its `timeout 300`), not a fixed
# time: how fast 400 messages get through depends on the machine and its load.
for k in 1 2 3; do
  until [ "$(milter_lines)" -ge $((k * 400)) ]; do
    kill -0 $A 2>/dev/null || kill -0 $B 2>/dev/null || fail "phase 1: senders done after $(milter_lines) milter log lines, before $((k * 400))"
    sleep 0.05
  done
  kill -HUP "$MILTER_PID"
done
wait $A || fail "smtp-source A (hold) exit $?: $(tail -n 3 "$SCRATCH/ss-a.out")"
wait $B || fail "smtp-source B (pass) exit $?: $(tail -n 3 "$SCRATCH/ss-b.out")"
T1=$(date +%s)
wait_queue_settled
i=0; while [ "$(count_delivered load-b@example.org)" -lt 1000 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
d=$(count_delivered load-b@example.org); h=$(count_held load-a@example.org)
dh=$(count_delivered load-a@example.org); hd=$(count_held load-b@example.org)
echo "# phase 1: 2000 messages in $((T1-T0)) s; delivered(pass)=$d held(hold)=$h delivered(hold)=$dh held(pass)=$hd"
[ "$d" = 1000 ] && [ "$h" = 1000 ] && [ "$dh" = 0 ] && [ "$hd" = 0 ] || fail "phase 1: want 1000 delivered + 1000 held"
untagged=$(grep -L -s "^X-Hdrscan-Verdict: clean" $(grep -l -s "^Return-Path: <load-b@example.org>" "$PF_ROOT"/mail/inbox/new/*) | wc -l)
[ "$untagged" = 0 ] || fail "phase 1: $untagged delivered messages without X-Hdrscan-Verdict: clean"
[ "$(milter_lines)" = 2000 ] || fail "phase 1: $(milter_lines) milter log lines, want 2000"
[ "$(grep -c 'reloaded:' "$MILTER_LOG")" = 3 ] || fail "phase 1: want 3 reloads logged"
pass "phase 1: smtp-source 20 sessions x 2000 messages, 3 x SIGHUP: 1000 delivered (tagged), 1000 held, 0 lost ($((T1-T0)) s)"

# --- phases 2 and 3: kill / SIGTERM the milter mid-load, restart -------------------------------
# Held sessions (smtp_load.py HOLD_DIR MID IDLE) make the signal hit open transactions on any
# machine, however fast or loaded: MID sessions wait with the whole message sent but its final
# "." (the MTA holds the transaction open with the milter), IDLE ones wait after EHLO (their
# milter connection is open, no message yet). The signal is sent only once all are held and
# 200 messages of the load went through, and they are let go at set points, not after a time:
#  KILL: both kinds go on while the milter is down; each must get a 4xx (the milter died
#    under them: milter_default_action = tempfail), never a 250.
#  TERM: MID ones go on once the drain has started (it waits for them): each must be
#    scored and accepted (250); IDLE ones go on after the milter has exited: a 4xx (the drain
#    closed their milter connection).
HOLD_MID=3 HOLD_IDLE=3
held_count() { # DIR PREFIX -> how many PREFIX-* files (ready-/done-) the held sessions wrote
  find "$1" -name "$2-*" 2>/dev/null | wc -l
}
# wait_held NAME DIR PREFIX CLIENT_PID: until every held session wrote PREFIX-* (as long as
# the client runs: it bounds its own waits)
wait_held() {
  local all=$((HOLD_MID + HOLD_IDLE))
  until [ "$(held_count "$2" "$3")" = $all ]; do
    kill -0 "$4" 2>/dev/null || [ "$(held_count "$2" "$3")" = $all ] \
      || fail "$1: load client ended with $(held_count "$2" "$3") of $all held sessions" \
              "at '$3': $(<"$SCRATCH/$1.out")"
    sleep 0.05
  done
}
run_phase() { # NAME SIGNAL
  local name=$1 sig=$2 before run=$1 hold=$SCRATCH/$1.hold
  before=$(milter_lines)
  rm -rf "$hold"; mkdir -p "$hold"
  python3 "$SRC/tests/milter/smtp_load.py" "$SMTP_PORT" 16 800 5 "$run" "$SCRATCH/$run.json" 240 \
    "$hold" $HOLD_MID $HOLD_IDLE >"$SCRATCH/$run.out" 2>&1 &
  local L=$!
  timeout 240 "$SMTP_SOURCE" -4 -s 4 -m 400 -f "ss-$run@example.org" -t bob@test.local -S "load-pass smtp-source $run" \
    "127.0.0.1:$SMTP_PORT" >"$SCRATCH/ss-$run.out" 2>&1 &
  local S=$!
  wait_held "$name" "$hold" ready "$L"
  grep -L -x held "$hold"/ready-* | grep -q . \
    && fail "$name: a session could not be held: $(grep -v -x held "$hold"/ready-*)"
  # as long as the load client runs (bounded by its own 240 s), not a fixed time
  until [ "$(milter_lines)" -ge $((before + 200)) ]; do
    kill -0 $L 2>/dev/null || fail "$name: load client done before 200 messages reached the milter: $(cat "$SCRATCH/$run.out")"
    sleep 0.05
  done
  kill -"$sig" "$MILTER_PID"
  if [ "$sig" = TERM ]; then
    local i=0
    until grep -q "draining:" "$MILTER_LOG"; do
      i=$((i+1)); [ $i -lt 1200 ] || fail "$name: no drain logged 60 s after SIGTERM"
      sleep 0.05
    done
    touch "$hold/release-mid"
  fi
  wait "$MILTER_PID"; local rc=$?
  MILTER_PID=
  if [ "$sig" = TERM ]; then
    [ $rc = 0 ] || fail "$name: milter exit $rc after SIGTERM (want 0 after drain)"
  fi
  # the milter is down: Postfix answers 4xx (milter_default_action = tempfail)
  touch "$hold/release-mid" "$hold/release-idle"
  wait_held "$name" "$hold" done "$L"
  sleep 0.5
  start_milter "$CONF" "${MILTER_ARGS[@]}"
  wait $L || fail "$name: load client failed: $(cat "$SCRATCH/$run.out")"
  wait $S; local src=$?
  wait_queue_settled
  sleep 1
  python3 - "$SCRATCH/$run.json" "$PF_ROOT" "$run" "$sig" <<'PY' >"$SCRATCH/$run.check" 2>&1 \
    || { cat "$SCRATCH/$run.check"; fail "$name: accounting"; }
import glob, json, subprocess, sys
res, root, run, sig = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
delivered = set()
for f in glob.glob(root + "/mail/inbox/new/*") + glob.glob(root + "/mail/inbox/cur/*"):
    with open(f, "rb") as fh:
        for line in fh:
            if line in (b"\n", b"\r\n"):
                break
            if line.startswith(b"X-Load-Id: " + run.encode() + b"-"):
                delivered.add(line.split(b": ", 1)[1].strip().decode())
held = 0
q = subprocess.run(["postqueue", "-c", root + "/etc", "-j"], capture_output=True, text=True).stdout
for line in q.splitlines():
    e = json.loads(line)
    if e.get("queue_name") == "hold" and e.get("sender") == "load-%s@example.org" % run:
        held += 1
acc = res["accepted"]
acc_pass = {i for i in acc if int(i.rsplit("-", 1)[1]) % 2 == 1}
acc_hold = [i for i in acc if int(i.rsplit("-", 1)[1]) % 2 == 0]
mid = sorted(i for i, k in res["held"].items() if k == "mid")
idle = sorted(i for i, k in res["held"].items() if k == "idle")
mid_acc = [i for i in mid if i in acc]
print("sent=%d accepted=%d (pass %d, hold %d) tempfail=%d permfail=%d dropped=%d delivered=%d"
      " held=%d; open at the signal: %d mid-message (%d finished with 250),"
      " %d idle (%d with 4xx)" % (
    res["sent"], len(acc), len(acc_pass), len(acc_hold), len(res["tempfail"]), len(res["permfail"]),
    len(res["dropped"]), len(delivered), held, len(mid), len(mid_acc), len(idle),
    len([i for i in idle if i in res["tempfail"]])))
assert res["sent"] == len(acc) + len(res["tempfail"]) + len(res["permfail"]) + len(res["dropped"])
assert not res["permfail"], "5xx replies: %s" % res["replies"]
assert not res["dropped"], "messages without an answer: %s" % res["dropped"][:5]
assert mid and idle, "no held sessions in the results: %s" % res["held"]
tempfail = set(res["tempfail"])
# KILL: the milter died under open transactions: every one must get a 4xx, none a 250.
# TERM: the drain lets messages in progress finish (docs/milter.md): 250, accounted below.
for i in mid:
    if sig == "KILL":
        assert i in tempfail, "mid-message session %s at SIGKILL: %s" % (
            i, "accepted" if i in acc else "no 4xx")
    else:
        assert i in acc, "mid-message session %s at SIGTERM not finished by the drain: %s" % (
            i, "4xx" if i in tempfail else "no answer")
for i in idle:
    assert i in tempfail, "idle session %s after SIG%s got no 4xx" % (i, sig)
lost = acc_pass - delivered
assert not lost, "accepted but not delivered: %s" % sorted(lost)[:10]
assert delivered <= acc_pass, "delivered but never accepted: %s" % sorted(delivered - acc_pass)[:10]
assert held == len(acc_hold), "held %d != accepted hold messages %d" % (held, len(acc_hold))
print("OK: accepted == delivered + held; every other message got a 4xx")
PY
  pass "$name: $(head -n1 "$SCRATCH/$run.check")"
  if [ $src != 0 ]; then
    grep -q "fatal: .* 4[0-9][0-9] " "$SCRATCH/ss-$run.out" || fail "$name: smtp-source failed without a 4xx: $(tail -n 2 "$SCRATCH/ss-$run.out")"
    pass "$name: smtp-source reported: $(grep -m1 'fatal:' "$SCRATCH/ss-$run.out")"
  else
    pass "$name: smtp-source finished its 400 messages without a failure"
  fi
  # Postfix side: every message smtp-source got accepted was delivered (none held or lost).
  local acc_ss del_ss
  acc_ss=$(grep -c "from=<ss-$run@example.org>, size=.*(queue active)" "$PF_ROOT/log/maillog")
  del_ss=$(count_delivered "ss-$run@example.org")
  [ "$acc_ss" = "$del_ss" ] || fail "$name: smtp-source messages queued $acc_ss, delivered $del_ss"
  pass "$name: smtp-source messages queued by Postfix $acc_ss = delivered $del_ss"
}
run_phase kill KILL
run_phase term TERM

kill -USR1 "$MILTER_PID"; sleep 0.5
stop_milter || fail "final SIGTERM: exit status $?"
grep "stats (exit)" "$MILTER_LOG" | tail -n1 | cut -c1-400
echo "PASS"
