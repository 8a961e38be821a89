# bench-peers.sh: private, loopback-only instances of the peers for tools/bench (sourced).
#
# rspamd_start DIR PORT WORKERS MODE   Debian's rspamd with its stock config plus overrides
#     in DIR (LOCAL_CONFDIR): normal worker on 127.0.0.1:PORT (MODE=normal, WORKERS processes)
#     or the proxy worker in milter mode scanning itself on 127.0.0.1:PORT (MODE=milter);
#     controller on PORT+1. Network modules off: rbl (incl. surbl/emails), spf, dkim, dmarc,
#     arc, asn, fuzzy_check, phishing feeds (phishtank/openphish), dcc, url_redirector; no
#     redis (so no bayes, neural, ratelimit, greylist, reputation, replies); DNS goes to a
#     loopback stub (tools/bench_dns.py) answering NXDOMAIN at once. Logging at warning level. Sets RSPAMD_SID.
# sa_start DIR PORT CHILDREN   Debian's spamd, local tests only (-L), no Bayes, no
#     user configs, on 127.0.0.1:PORT. Sets SA_SID.
# rspamd_stop / sa_stop  stop them (SIGTERM to the process started here, then wait).
# sess_cpu SID   user+system CPU seconds of the processes now in session SID.
# Needs root (they drop to _rspamd / nobody). Nothing under /etc is changed.

# user+system CPU seconds used so far by the processes now in session SID (children that
# already exited are not counted: the daemons here keep their workers for the whole run)
sess_cpu() {
  local hz; hz=$(getconf CLK_TCK)
  for p in $(ps -o pid= -s "$1" 2>/dev/null); do cat /proc/$p/stat 2>/dev/null; done |
    sed 's/.*) //' | awk -v hz="$hz" '{s += $12 + $13} END{printf "%.3f", s / hz}'
}

rspamd_start() {
  local dir=$1 port=$2 workers=$3 mode=$4
  rm -rf "$dir"; mkdir -p "$dir/local.d" "$dir/override.d" "$dir/db" "$dir/run" "$dir/log"
  chown -R _rspamd:_rspamd "$dir"
  if [ "$mode" = milter ]; then
    cat > "$dir/override.d/worker-normal.inc" <<EOF
bind_socket = "127.0.0.1:$((port + 3))";
count = 1;
EOF
    cat > "$dir/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$port";
milter = yes;
timeout = 120s;
count = $workers;
upstream "local" {
  default = yes;
  self_scan = yes;
}
EOF
    # the benchmark measures scanning, not refusals: nothing is rejected
    echo 'reject = 999;' > "$dir/local.d/actions.conf"
  else
    cat > "$dir/override.d/worker-normal.inc" <<EOF
bind_socket = "127.0.0.1:$port";
count = $workers;
EOF
    cat > "$dir/override.d/worker-proxy.inc" <<EOF
bind_socket = "127.0.0.1:$((port + 2))";
count = 1;
EOF
  fi
  echo "bind_socket = \"127.0.0.1:$((port + 1))\";" > "$dir/override.d/worker-controller.inc"
  cat > "$dir/local.d/options.inc" <<EOF
dns {
  nameserver = ["127.0.0.1:${BENCH_DNS_PORT:-11553}"];
}
EOF
  echo 'level = "warning";' > "$dir/override.d/logging.inc"
  for m in rbl surbl emails spf dkim dmarc arc asn fuzzy_check dcc url_redirector neural \
           ratelimit greylist reputation replies history_redis mx_check dkim_signing; do
    echo "enabled = false;" > "$dir/local.d/$m.conf"
  done
  printf 'phishtank_enabled = false;\nopenphish_enabled = false;\n' > "$dir/local.d/phishing.conf"
  echo "enabled = false;" > "$dir/local.d/redis.conf"
  setsid rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
    --var=LOCAL_CONFDIR="$dir" --var=DBDIR="$dir/db" --var=RUNDIR="$dir/run" --var=LOGDIR="$dir/log" \
    > "$dir/log/stdout.log" 2>&1 &
  RSPAMD_PID=$!
  RSPAMD_SID=$RSPAMD_PID
  if ! wait_port "$port" 60; then
    echo "tools/bench: rspamd did not start; its log:" >&2
    tail -n 20 "$dir/log/rspamd.log" "$dir/log/stdout.log" >&2 || true
    return 1
  fi
}

rspamd_stop() {
  [ -n "${RSPAMD_PID:-}" ] || return 0
  kill -TERM "$RSPAMD_PID" 2>/dev/null || true
  wait "$RSPAMD_PID" 2>/dev/null || true
  RSPAMD_PID=""
}

sa_start() {
  local dir=$1 port=$2 children=$3
  rm -rf "$dir"; mkdir -p "$dir/site" "$dir/home"
  cp /etc/spamassassin/*.pre "$dir/site/"
  cat > "$dir/site/local.cf" <<EOF
use_bayes 0
bayes_auto_learn 0
skip_rbl_checks 1
dns_available no
use_razor2 0
use_pyzor 0
use_dcc 0
use_auto_whitelist 0
EOF
  chown -R nobody:nogroup "$dir"
  setsid spamd -L -x -u nobody --siteconfigpath="$dir/site" --listen="127.0.0.1:$port" \
    --max-children="$children" --min-children="$children" --min-spare=1 --max-spare="$children" \
    --pidfile="$dir/spamd.pid" -s "$dir/spamd.log" > "$dir/stdout.log" 2>&1 &
  SA_PID=$!
  SA_SID=$SA_PID
  if ! wait_port "$port" 120; then
    echo "tools/bench: spamd did not start; its log:" >&2
    tail -n 20 "$dir/spamd.log" "$dir/stdout.log" >&2 || true
    return 1
  fi
}

sa_stop() {
  [ -n "${SA_PID:-}" ] || return 0
  kill -TERM "$SA_PID" 2>/dev/null || true
  wait "$SA_PID" 2>/dev/null || true
  SA_PID=""
}
