#!/usr/bin/env bash
# bench-milter.sh: tools/bench's milter part (run by tools/bench; can run alone).
#
# A private loopback Postfix 3.7 (the ../shared/docs/postfix-test-recipe.md set-up: own config,
# queue, log and Maildir under PF_ROOT (tmpfs, see below), SMTP on 127.0.0.1:$SMTP_PORT,
# delivery by virtual(8) to a Maildir, no chroot) is started once per mode, identical but for
# smtpd_milters:
#   none     no milter
#   null     tools/bench_null_milter.cpp: the floor, a milter that negotiates what hdrscan
#            negotiates, receives the same packets, analyses nothing and adds one header
#   hdrscan  `hdrscan milter --listen inet:127.0.0.1:$MILTER_PORT`, every verdict tagged
#            (campaign -> tag, not the default hold, so that every mode delivers every message)
#   hdrscan-b the same with the binary $HDRSCAN_B (an A/B comparison of two builds)
#   hdrscan-unix  hdrscan on a unix socket instead of loopback TCP
#   null-unix     the null milter on a unix socket (the floor for hdrscan-unix)
#   rspamd   rspamd's proxy worker in milter mode, scanning itself (self_scan), network
#            modules off (tools/bench-peers.sh), reject action raised so nothing is refused
# Each gets the same load: smtp-source -s S -m $MILTER_MSGS -F <one campaign-shaped message>
# (throughput = messages / wall time of smtp-source), and, during that load, one extra
# session (tools/bench_smtp_probe.py) sending the first 200 benchmark messages one after
# another and timing each from DATA to the final reply (p50, p99). S takes each value of
# $SESSIONS: 20 saturates both cores (throughput; latency then is mostly queueing behind the
# other 20 sessions), 2 loads the machine without saturating it (the latency a message sees
# on a server that is not overloaded).
# in_flow_delay = 0 so Postfix's flow control does not cap acceptance at the delivery rate.
# The modes run interleaved, MILTER_ROUNDS times; the probe's latencies go to
# OUT/probe-MODE.rROUND.txt (the report pools them per mode); every run writes one row of
# OUT/milter.tsv (rewritten by each invocation):
# mode, messages, seconds, p50_ms, p99_ms, probe_n, milter_cpu_ms (user+system CPU of the
# milter's processes per message, load and probe), postfix_cpu_ms (the same for the Postfix
# instance: live processes + children the master reaped), note.
# Env: OUT (with subset/ from bench_gen.py), HDRSCAN, MILTER_MSGS (3000), MILTER_ROUNDS (3),
#      SESSIONS ("20 2"), MODES ("none null hdrscan null-unix hdrscan-unix rspamd"), PF_ROOT, SMTP_PORT (11525),
#      MILTER_PORT (11526), NULL_MILTER_PORT (11527), RSPAMD_MILTER_PORT (11540),
#      BENCH_DNS_PORT, HDRSCAN_B, HDRSCAN_CONF_EXTRA and HDRSCAN_B_CONF_EXTRA (config lines added
#      for mode hdrscan / hdrscan-b).
# Needs root and the postfix package. Stops everything it started, also on error.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/hdrscan-bench}
HDRSCAN=${HDRSCAN:-$REPO/build/scanner/hdrscan}
MILTER_MSGS=${MILTER_MSGS:-3000}
MILTER_ROUNDS=${MILTER_ROUNDS:-3}
SESSIONS=${SESSIONS:-"20 2"}
SMTP_PORT=${SMTP_PORT:-11525}
MILTER_PORT=${MILTER_PORT:-11526}
RSPAMD_MILTER_PORT=${RSPAMD_MILTER_PORT:-11540}
BENCH_DNS_PORT=${BENCH_DNS_PORT:-11553}
NULL_MILTER_PORT=${NULL_MILTER_PORT:-11527}
MODES=${MODES:-"none null hdrscan null-unix hdrscan-unix rspamd"}
log() { printf '[bench-milter %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# start_milter LOG ADDR CMD...: runs CMD, which listens on ADDR (Postfix's syntax: inet:HOST:PORT
# or unix:PATH), in its own session; waits until ADDR is there; points smtpd_milters at it.
# smtpd is not chrooted here and runs as user postfix: a unix socket is handed to that user.
start_milter() {
  local logf=$1 addr=$2 i up=0
  shift 2
  [ "${addr#unix:}" != "$addr" ] && rm -f "${addr#unix:}"
  setsid "$@" > "$logf" 2>&1 &
  MILTER_PID=$!
  case $addr in
    inet:*) wait_port "${addr##*:}" 30 && up=1 ;;
    unix:*) for ((i = 0; i < 300; i++)); do [ -S "${addr#unix:}" ] && { up=1; break; }; sleep 0.1; done
            [ $up = 1 ] && chown postfix "${addr#unix:}" ;;
  esac
  [ $up = 1 ] || { log "milter did not start on $addr:"; tail -n 5 "$logf" >&2; return 1; }
  $P -e "smtpd_milters = $addr"
}
. "$REPO/tools/bench-peers.sh"

# The instance lives on tmpfs when there is one: on this machine's ext4, Postfix alone took
# 1.9 to 4.4 s for the same 3000 messages depending on what earlier runs had created and
# deleted (perf: half of all samples in cleanup's rename/inode allocation, ext4's
# recently_deleted scan), which drowned what the milter adds. PF_ROOT overrides.
if [ -z "${PF_ROOT:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
  PF_ROOT=/dev/shm/hdrscan-bench-pf
fi
ROOT=${PF_ROOT:-$OUT/pf}
E=$ROOT/etc
PF_UP=0
MILTER_PID=""
DNS_PID=""
cleanup() {
  if [ $PF_UP = 1 ]; then
    postfix -c "$E" stop >/dev/null 2>&1 || true
    for _ in $(seq 100); do postfix -c "$E" status >/dev/null 2>&1 || break; sleep 0.1; done
  fi
  [ -n "$MILTER_PID" ] && { kill -TERM "$MILTER_PID" 2>/dev/null || true; wait "$MILTER_PID" 2>/dev/null || true; }
  rspamd_stop || true
  [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null || true
}
trap cleanup EXIT

if ! (exec 3<>/dev/udp/127.0.0.1/"$BENCH_DNS_PORT") 2>/dev/null || ! pgrep -f "bench_dns.py $BENCH_DNS_PORT" >/dev/null; then
  python3 "$REPO/tools/bench_dns.py" "$BENCH_DNS_PORT" & DNS_PID=$!
fi

# ---- the private Postfix instance
rm -rf "$ROOT"
mkdir -p "$E" "$ROOT/queue" "$ROOT/data" "$ROOT/mail" "$ROOT/log"
cp /etc/postfix/master.cf "$E/master.cf"
: > "$E/main.cf"
chown nobody:nogroup "$ROOT/mail"
chown postfix "$ROOT/data"
P="postconf -c $E"
$P -e \
  "compatibility_level = 3.6" "queue_directory = $ROOT/queue" "data_directory = $ROOT/data" \
  "syslog_name = postfix-bench" "maillog_file_prefixes = $ROOT/log" "maillog_file = $ROOT/log/maillog" \
  "myhostname = mx.test.local" "mydomain = test.local" "myorigin = \$myhostname" "mydestination =" \
  "inet_interfaces = loopback-only" "inet_protocols = ipv4" "mynetworks = 127.0.0.0/8" \
  "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" \
  "alias_maps =" "alias_database =" "local_recipient_maps =" \
  "relayhost =" "default_transport = error" "relay_transport = error" \
  "virtual_mailbox_domains = test.local" "virtual_mailbox_base = $ROOT/mail" \
  "virtual_mailbox_maps = static:inbox/" "virtual_uid_maps = static:65534" "virtual_gid_maps = static:65534" \
  "smtputf8_enable = no" "message_size_limit = 52428800" "virtual_mailbox_limit = 52428800" "in_flow_delay = 0" \
  "smtpd_milters =" "non_smtpd_milters =" \
  "milter_protocol = 6" "milter_default_action = tempfail" \
  "milter_connect_timeout = 5s" "milter_command_timeout = 30s" "milter_content_timeout = 60s" \
  "milter_connect_macros = j {daemon_name} {daemon_addr} {client_addr} {client_name} {client_port} v _"
$P -F '*/*/chroot = n'
$P -MX smtp/inet
$P -M "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
postfix -c "$E" check

# the load message: a campaign-shaped one (full analysis, HTML decoded) from the subset
LOAD_MSG=$(grep -l 'OriginalAttributedTenantConnectingIp' "$OUT"/subset/00*.eml | sort | sed -n 1p || true)
PROBE_FILES=$(ls "$OUT"/subset/ | sort | sed -n '1,200p' | sed "s|^|$OUT/subset/|" || true)
[ -n "$LOAD_MSG" ] || { echo "bench-milter: no campaign-shaped message in $OUT/subset" >&2; exit 2; }
log "load: smtp-source -s {$SESSIONS} -m $MILTER_MSGS -F $(basename "$LOAD_MSG") ($(stat -c %s "$LOAD_MSG") bytes); probe: 200 subset messages"
rm -f "$OUT"/probe-*.txt
case " $MODES " in *" null "*|*" null-unix "*) g++ -O2 -std=c++20 ${NULL_MILTER_CXXFLAGS:-} "$REPO/tools/bench_null_milter.cpp" -o "$OUT/bench_null_milter" ;; esac
case " $MODES " in *" hdrscan-b "*) [ -x "${HDRSCAN_B:-}" ] || { echo "bench-milter: mode hdrscan-b needs HDRSCAN_B" >&2; exit 2; } ;; esac
printf 'mode\tmessages\tseconds\tp50_ms\tp99_ms\tprobe_n\tmilter_cpu_ms\tpostfix_cpu_ms\tnote\tsessions\n' > "$OUT/milter.tsv"

# CPU seconds of the Postfix instance: its live processes (master's session) plus what the
# master collected from children that already exited (cutime+cstime)
postfix_cpu() {
  local mp hz
  mp=$(tr -d ' \n' < "$ROOT/queue/pid/master.pid" 2>/dev/null || true)
  [ -n "$mp" ] || { echo 0; return; }
  hz=$(getconf CLK_TCK)
  { for p in $(ps -o pid= -s "$mp" 2>/dev/null); do sed 's/.*) //' /proc/$p/stat 2>/dev/null; done | awk '{s += $12 + $13} END{print s + 0}'
    sed 's/.*) //' /proc/$mp/stat 2>/dev/null | awk '{print $14 + $15}'; } | awk -v hz="$hz" '{s += $1} END{printf "%.3f", s / hz}'
}

run_mode() {
  local mode=$1 sessions=$2 note=""
  case $mode in
    none) $P -e "smtpd_milters =" ;;
    hdrscan|hdrscan-b|hdrscan-unix)
      # campaign -> tag (not the default hold): every mode then delivers every message, so
      # Postfix does the same work in each; holding the campaign-shaped load would skip delivery
      printf 'campaign = tag\n' > "$E/hdrscan-milter.conf"
      local bin=$HDRSCAN extra=${HDRSCAN_CONF_EXTRA:-}
      [ "$mode" = hdrscan-b ] && { bin=$HDRSCAN_B; extra=${HDRSCAN_B_CONF_EXTRA:-}; }
      # extra config lines (A/B of a setting: HDRSCAN_B=$HDRSCAN HDRSCAN_B_CONF_EXTRA='io-threads = 2')
      [ -n "$extra" ] && printf '%s\n' "$extra" >> "$E/hdrscan-milter.conf" && note="config: ${extra//$'\n'/, }; "
      local addr="inet:127.0.0.1:$MILTER_PORT"
      [ "$mode" = hdrscan-unix ] && { addr="unix:$ROOT/hdrscan-milter.sock"; note="${note}unix socket; "; }
      start_milter "$ROOT/log/hdrscan-milter.log" "$addr" "$bin" milter --config "$E/hdrscan-milter.conf" --listen "$addr" || return 1
      note="${note}policy: tag every verdict"
      [ "$mode" = hdrscan-b ] && note="$note; build B: $HDRSCAN_B"
      ;;
    null|null-unix)
      local addr="inet:127.0.0.1:$NULL_MILTER_PORT" arg=$NULL_MILTER_PORT
      [ "$mode" = null-unix ] && { addr="unix:$ROOT/null-milter.sock"; arg=${addr#unix:}; note="unix socket; "; }
      start_milter "$ROOT/log/null-milter.log" "$addr" "$OUT/bench_null_milter" "$arg" || return 1
      note="${note}floor: tools/bench_null_milter.cpp, same negotiation, adds one header" ;;
    rspamd)
      rspamd_start "$OUT/rspamd-milter" "$RSPAMD_MILTER_PORT" "$(nproc)" milter
      # warm-up: regexp/hyperscan caches, before Postfix depends on it
      $P -e "smtpd_milters = inet:127.0.0.1:$RSPAMD_MILTER_PORT"
      note="proxy self_scan, $(nproc) workers" ;;
  esac
  rm -rf "$ROOT/mail/inbox"
  postfix -c "$E" start >/dev/null 2>&1; PF_UP=1
  wait_port "$SMTP_PORT" 30
  # warm-up (first connections, the milter's first messages)
  smtp-source -s 2 -m 20 -F "$LOAD_MSG" -f load@example.org -t warm@test.local "127.0.0.1:$SMTP_PORT"
  rm -f "$OUT/load.done"
  local t0 probe secs c0 c1 sid
  case $mode in rspamd) sid=$RSPAMD_SID ;; *) sid=$MILTER_PID ;; esac
  c0=0; [ -n "$sid" ] && c0=$(sess_cpu "$sid")
  local p0 p1; p0=$(postfix_cpu)
  t0=$(date +%s%N)
  ( smtp-source -s "$sessions" -m "$MILTER_MSGS" -F "$LOAD_MSG" -f load@example.org -t load@test.local "127.0.0.1:$SMTP_PORT"
    date +%s%N > "$OUT/load.done.tmp"; mv "$OUT/load.done.tmp" "$OUT/load.done" ) &
  local load=$!
  probe=$(python3 "$REPO/tools/bench_smtp_probe.py" --port "$SMTP_PORT" --stop-file "$OUT/load.done" --count 100000 --min 100 \
          --out "$OUT/probe-$mode.s$sessions.r$round.txt" $PROBE_FILES)
  wait "$load"
  # throughput from smtp-source alone: its wall time (the probe may run a little longer)
  secs=$(awk -v a="$t0" -v b="$(cat "$OUT/load.done")" 'BEGIN{printf "%.4f", (b-a)/1e9}')
  c1=0; [ -n "$sid" ] && c1=$(sess_cpu "$sid")
  p1=$(postfix_cpu)
  # the milter's CPU per message of the whole run (load and probe messages)
  local cpu_ms
  cpu_ms=$(awk -v a="$c0" -v b="$c1" -v n="$MILTER_MSGS" -v p="${probe%% *}" 'BEGIN{printf "%.3f", (b-a)*1000/(n+p)}')
  local pf_ms
  pf_ms=$(awk -v a="$p0" -v b="$p1" -v n="$MILTER_MSGS" -v p="${probe%% *}" 'BEGIN{printf "%.3f", (b-a)*1000/(n+p)}')
  set -- $probe
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$MILTER_MSGS" "$secs" "$2" "$3" "$1" "$cpu_ms" "$pf_ms" "$note; probe replies $4" "$sessions" >> "$OUT/milter.tsv"
  log "$mode, $sessions sessions: $MILTER_MSGS msgs in $secs s; probe n=$1 p50=$2 ms p99=$3 ms codes=$4; milter CPU $cpu_ms ms/msg, Postfix CPU $pf_ms ms/msg"
  postfix -c "$E" stop >/dev/null 2>&1 || true
  for _ in $(seq 100); do postfix -c "$E" status >/dev/null 2>&1 || break; sleep 0.1; done
  PF_UP=0
  if [ -n "$MILTER_PID" ]; then kill -TERM "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true; MILTER_PID=""; fi
  if [ "$mode" = rspamd ]; then rspamd_stop; fi
  postsuper -c "$E" -d ALL >/dev/null 2>&1 || true
}

# Rounds: the modes interleaved, MILTER_ROUNDS times (the report takes the median per mode);
# one run of a mode varies by about +-10% on this machine.
for s in $SESSIONS; do
  for ((round = 1; round <= MILTER_ROUNDS; round++)); do
    for m in $MODES; do run_mode "$m" "$s"; done
  done
done
