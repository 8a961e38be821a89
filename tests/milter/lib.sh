# lib.sh: shared helpers for the milter integration tests (sourced, not run).
# Starts and stops only processes these tests started (by PID / by their private config
# directory); everything lives under the scratch dir given to the test.
# Expects: HDRSCAN (binary), SRC (source dir), SCRATCH (scratch dir) set by the caller.

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -n "${MILTER_LOG:-}" ] && [ -f "$MILTER_LOG" ] && { echo "--- milter log (tail)"; tail -n 30 "$MILTER_LOG"; }; [ -n "${PF_ROOT:-}" ] && [ -f "$PF_ROOT/log/maillog" ] && { echo "--- maillog (tail)"; tail -n 30 "$PF_ROOT/log/maillog"; }; exit 1; }
pass() { echo "ok - $*"; }

# A TCP port on 127.0.0.1 for a test server (milter, Postfix smtpd), free right now and not
# handed out before by this function (on this machine, until the range wraps). Not from the
# kernel's ephemeral range (bind to port 0 gives one of those): there every outgoing
# connection, e.g. Postfix's to a milter being restarted, may take the port between the pick
# and the server's bind. Ports go round [20000, start of ip_local_port_range) in turn,
# under a lock, so tests run in parallel (ctest -j2) never get the same one.
free_port() {
  python3 - <<'PY'
import fcntl, socket
try:
    eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError):
    eph = 32768
first, last = 20000, eph - 1
if last - first < 100:  # a machine with an unusual ephemeral range: any port the kernel gives
    first, last = 10000, 19999
with open("/tmp/hdrscan-test-ports.last", "a+") as state:
    fcntl.flock(state, fcntl.LOCK_EX)
    state.seek(0)
    text = state.read().strip()
    port = int(text) if text.isdigit() and first <= int(text) <= last else last
    for _ in range(last - first + 1):
        port = port + 1 if port < last else first
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            break
        except OSError:
            continue
        finally:
            s.close()
    else:
        raise SystemExit("free_port: no free port in %d-%d" % (first, last))
    state.seek(0)
    state.truncate()
    state.write(str(port))
print(port)
PY
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  python3 - "$1" "${2:-20}" <<'PY'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# wait_until SECONDS WHAT CONDITION: evaluates the shell CONDITION every 0.1 s until it
# holds; fails the test ("WHAT: not within SECONDS s") after SECONDS. The limit is for a
# stuck machine, not a measure: the wait ends as soon as the event happens.
wait_until() {
  local limit=$1 what=$2 cond=$3 i=0
  until eval "$cond"; do
    i=$((i+1)); [ $i -lt $((limit * 10)) ] || fail "$what: not within $limit s"
    sleep 0.1
  done
}

# start_milter CONFIG [args...]: runs hdrscan milter in the background on $MILTER_PORT,
# logging to $MILTER_LOG (appended); sets MILTER_PID.
start_milter() {
  local conf=$1; shift
  "$HDRSCAN" milter --listen "inet:127.0.0.1:$MILTER_PORT" --config "$conf" "$@" >>"$MILTER_LOG" 2>&1 &
  MILTER_PID=$!
  wait_port "$MILTER_PORT" 60 || fail "milter did not start listening on $MILTER_PORT in 60 s"
  kill -0 "$MILTER_PID" 2>/dev/null || fail "milter exited at start-up"
}

# stop_milter: SIGTERM (drain) and wait; returns the milter's exit status.
stop_milter() {
  [ -n "${MILTER_PID:-}" ] || return 0
  local rc=0
  kill -TERM "$MILTER_PID" 2>/dev/null || true
  wait "$MILTER_PID" || rc=$?
  MILTER_PID=
  return $rc
}

# Postfix: private instance under $PF_ROOT (see pf-setup.sh).
pf_setup() {
  PF_ROOT=$SCRATCH/pf
  PF_ETC=$PF_ROOT/etc
  ROOT=$PF_ROOT SMTP_PORT=$SMTP_PORT MILTER_PORT=$MILTER_PORT sh "$SRC/tests/milter/pf-setup.sh" >"$SCRATCH/pf-setup.log" 2>&1 \
    || { cat "$SCRATCH/pf-setup.log"; fail "pf-setup.sh failed"; }
}
pf_start() {
  postfix -c "$PF_ETC" start >>"$SCRATCH/pf-setup.log" 2>&1 || fail "postfix start failed"
  PF_STARTED=1
  wait_port "$SMTP_PORT" 30 || fail "postfix smtpd not listening on $SMTP_PORT"
}
pf_stop() {
  [ -n "${PF_STARTED:-}" ] || return 0
  postfix -c "$PF_ETC" stop >/dev/null 2>&1 || true
  local i=0
  while postfix -c "$PF_ETC" status >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  PF_STARTED=
}
# Queue listing (JSON lines) of the private instance.
pf_queue() { postqueue -c "$PF_ETC" -j 2>/dev/null || true; }
pf_held_count() { pf_queue | grep -c '"queue_name": *"hold"' || true; }
pf_active_count() { pf_queue | grep -vc '"queue_name": *"hold"' || true; }
maildir_count() { find "$PF_ROOT/mail/inbox/new" "$PF_ROOT/mail/inbox/cur" -type f 2>/dev/null | wc -l; }

cleanup() {
  pf_stop
  if [ -n "${MILTER_PID:-}" ]; then kill -TERM "$MILTER_PID" 2>/dev/null || true; wait "$MILTER_PID" 2>/dev/null || true; fi
}

# expected_verdict FILE -> the verdict FILE must get, from the corpus labels, never from the
# scanner (tests/support/expected_verdict.py: corpus/labels.tsv and the sample names; campaign,
# related = suspicious, clean; tests/milter/clean.eml is clean by construction).
expected_verdict() {
  python3 "$SRC/tests/support/expected_verdict.py" "$SRC" "$1" || fail "no label for $1"
}

# expected_wrapper FILE -> "wrapper" when the labels say FILE holds the labelled mail as an
# attached message (message/rfc822: a user's report), else "direct" (expected_verdict.py).
expected_wrapper() {
  python3 "$SRC/tests/support/expected_verdict.py" --wrapper "$SRC" "$1" || fail "no label for $1"
}

# labelled_samples -> every corpus/samples/*.eml, one a line (nothing when there is none: the
# caller checks the count; each file's label is checked by expected_verdict).
labelled_samples() {
  local f
  for f in "$SRC"/corpus/samples/*.eml; do
    [ -f "$f" ] && echo "$f"
  done
}

# action_for VERDICT CONF [wrapper] -> the action the milter config CONF gives VERDICT: the
# last "VERDICT = ACTION" line, else the documented default (docs/milter.md: tag / tag /
# quarantine); for a wrapper (third argument "wrapper": the verdict came from an attached
# message) flagged suspicious or campaign, the last "wrapper-action = ACTION" line, else tag;
# "dry-run:ACTION" when CONF sets dry-run = yes.
action_for() {
  local v=$1 conf=$2 key=$1 a dry
  case "$v" in clean|suspicious) a=tag ;; campaign) a=quarantine ;; *) fail "action_for: verdict '$v'" ;; esac
  if [ "${3:-direct}" = wrapper ] && [ "$v" != clean ]; then a=tag; key=wrapper-action; fi
  local set
  set=$(sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*\([a-z]*\)[[:space:]]*\$/\1/p" "$conf" | tail -n1)
  [ -n "$set" ] && a=$set
  dry=$(sed -n 's/^[[:space:]]*dry-run[[:space:]]*=[[:space:]]*\([a-z]*\)[[:space:]]*$/\1/p' "$conf" | tail -n1)
  case "$dry" in yes|true|on|1) a="dry-run:$a" ;; esac
  echo "$a"
}

# scan_verdict FILE -> "verdict score" from `hdrscan scan --format jsonl`. Used only for the
# consistency check (the milter scores a message as `hdrscan scan` does), never as the
# expectation.
scan_verdict() {
  "$HDRSCAN" scan --format jsonl "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
print(d["verdict"], d["score"])'
}

# common preconditions for tests that start Postfix
need_postfix() {
  [ "$(id -u)" = 0 ] || skip "needs root to run a private Postfix instance (CI runs as root)"
  command -v postfix >/dev/null && command -v postconf >/dev/null || skip "postfix not installed (tools/install-deps.sh)"
  id postfix >/dev/null 2>&1 || skip "no postfix user (postfix package not configured)"
  command -v python3 >/dev/null || skip "python3 not installed"
}
