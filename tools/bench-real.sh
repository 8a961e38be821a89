# bench-real.sh: tools/bench's main part (issue 17), sourced by it: hdrscan on real
# third-party mail, against the floor and rspamd on the same messages.
#
# Inputs (tools/bench_real.py, from $SHARED, built once under $OUT/real): the ham-spam set
# (SpamAssassin), dev_m365_legit (Microsoft 365 list mail), dev_relays (real phishing), each
# as one file per message (the corpus folder read in place: hdrscan walks it, rspamd gets
# SET.list; ham-spam's folder also holds its LICENSE, one not_mail record) and as one mboxrd
# (SET.mbox); hamspam-big.mbox, the ham-spam mbox repeated to >= $REAL_MB MB; and, for m365
# and relays, SET-repeated.mbox (SET.mbox x20 and x50: 12,000 and 4,000 messages, bench_real.py's
# REPEATS), one process long enough that its start-up is amortised (rows
# hdrscan-SET-repeated-1t: the steady-state cost per message).
# Runs, page cache hot (real_warm before every measured run), each $ROUNDS rounds (rounds
# interleaved when a second binary is given, --hdrscan-b): hdrscan scan --format jsonl
# --output /dev/null --threads 1 on every input (and --threads $NPROC on the big mbox); the
# floor (split; split + SHA-256; the cryptography a record needs: SHA-256 of message and body
# and one RSA-2048 check per ARC-Seal) on every mbox, and that cryptography with each file read
# whole on every set's files (floor-crypto-files-SET); rspamd (the median of $RSPAMD_ROUNDS timed
# passes after $RSPAMD_WARM_PASSES untimed ones over all the files) on every set's files when
# peers are on.
# Each row: median wall seconds, median CPU seconds (user+system, from wait4's rusage at
# microsecond resolution: tools/rusage-run; /usr/bin/time's 10 ms steps were 10-30% of the
# m365 and relays figures), peak RSS (largest of the rounds) and every round's CPU seconds:
# CPU seconds are the figure to read on a shared machine. A start-up row (hdrscan-startup-1t:
# a scan of one 4-line message, the mean CPU seconds of 20 runs a round, tools/rusage-run -n 20)
# measures what every run pays before its first message (exec, 12 shared libraries mapped
# and relocated, OpenSSL's set-up, the indicator pack, the Public Suffix List): rspamd is measured warm, so the report also gives the rspamd ratios with
# hdrscan's start-up taken out, and the repeated mboxes give it at steady state. $REAL_SETS
# chooses the sets (a repeated mbox is built only for a chosen set).
# Rows go to $REAL_RES (name, set, input, messages, bytes, wall_s, cpu_s,
# peak_rss_kb, rounds, cpu_rounds, note); the report is bench_report.py's.
# Uses from tools/bench: OUT, SHARED, HDRSCAN, HDRSCAN_B, ROUNDS, RSPAMD_ROUNDS,
# RSPAMD_WARM_PASSES, REAL_MB, NPROC, PEERS, REAL_SETS, REPO, log, now_ns, time_cpu, time_rss,
# rss_sampler, rspamd_start/stop, sess_cpu.

# Reads inputs (files, or every file under a folder) into the page cache just before they
# are measured. Warming once at the start was not enough: these VMs run DAMON with a pageout
# scheme for unmapped page cache (kdamond, /sys/kernel/mm/damon/admin/kdamonds/0: pages idle
# for 12 aggregation intervals of 5 s are paged out), so an input not read for a minute is
# mostly gone again (fincore: dev_m365_legit's 9.1 MB all resident after a run, 1.1 MB 90 s
# later) and the next run read it from disk: 0.11-0.14 CPU-s instead of 0.08 for the same binary on
# the m365 files, the "bimodal" rounds of the fourth and fifth sessions. rspamd never paid
# for it (rspamc reads the files, not the measured daemon). The reads are cat's, not charged to
# the measured command.
real_warm() {  # path... (files, or folders: every file under them)
  local p
  for p; do
    if [ -d "$p" ]; then find "$p" -type f -exec cat {} + > /dev/null 2>&1 || true
    else cat "$p" > /dev/null 2>&1 || true; fi
  done
}

real_median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

real_record() {  # name set input messages bytes walls cpus rss note (rounds: the CPU figures)
  local wall cpu
  wall=$(tr ' ' '\n' <<<"$6" | grep -v '^$' | real_median)
  cpu=$(tr ' ' '\n' <<<"$7" | grep -v '^$' | real_median)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$wall" "$cpu" "$8" \
    "$(wc -w <<<"$7")" "$(echo $7 | tr ' ' ',')" "$9" >> "$REAL_RES"
  log "$1: $4 msgs, $5 bytes, median wall $wall s, median CPU $cpu s, peak RSS $8 KB"
}

# hdrscan rows for one input: label "" (HDRSCAN) and "b" (HDRSCAN_B), rounds interleaved
real_hdrscan() {  # set input path threads [bytes]
  local set=$1 kind=$2 path=$3 threads=$4 r bins=("$HDRSCAN") labels=("") i
  [ -n "$HDRSCAN_B" ] && bins+=("$HDRSCAN_B") && labels+=("b")
  local -A walls=() cpus=() rss=() msgs=()
  for ((r = 0; r < ROUNDS; r++)); do
    for i in "${!bins[@]}"; do
      local rc=0
      real_warm "$path"
      "$REPO/tools/rusage-run" -o "$OUT/time.out" "${bins[$i]}" scan --format jsonl --output /dev/null \
        --threads "$threads" --summary-json "$OUT/real-summary.json" "$path" >/dev/null 2>"$OUT/run.err" || rc=$?
      [ $rc = 0 ] || [ $rc = 1 ] || { echo "tools/bench: hdrscan failed ($rc) on $path:" >&2; tail -5 "$OUT/run.err" >&2; exit 2; }
      # hdrscan's own wall time (rusage-run's 4th field), not rusage-run's interpreter start-up
      walls[$i]+="$(tail -n 1 "$OUT/time.out" | awk '{printf "%.4f", $4}') "
      cpus[$i]+="$(time_cpu "$OUT/time.out") "
      local m; m=$(time_rss "$OUT/time.out")
      [ "${rss[$i]:-0}" -ge "$m" ] || rss[$i]=$m
      msgs[$i]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$OUT/real-summary.json")
    done
  done
  local bytes=${5:-}
  [ -n "$bytes" ] || bytes=$(stat -c %s "$path")
  for i in "${!bins[@]}"; do
    local name="hdrscan${labels[$i]:+-${labels[$i]}}-$set-$kind-${threads}t"
    real_record "$name" "$set" "$kind" "${msgs[$i]}" "$bytes" "${walls[$i]}" "${cpus[$i]}" "${rss[$i]}" \
      "${bins[$i]}"
  done
}

real_floor() {  # set input mode [folder]: the mbox, or (crypto-files) the set's file list and folder
  local set=$1 input=$2 mode=$3 kind=mbox warm=$2 r walls="" cpus="" rss=0 m msgs bytes secs
  [ -z "${4:-}" ] || { kind=files; warm=$4; }
  for ((r = 0; r < ROUNDS; r++)); do
    real_warm "$warm"
    # bench_floor prints "messages bytes seconds" (bytes: the mbox's, or the files' read)
    read -r msgs bytes secs < <("$REPO/tools/rusage-run" -o "$OUT/time.out" "$OUT/bench_floor" "$mode" "$input" 2>/dev/null)
    walls+="$secs "; cpus+="$(time_cpu "$OUT/time.out") "
    m=$(time_rss "$OUT/time.out"); [ "$rss" -ge "$m" ] || rss=$m
  done
  real_record "floor-$mode-$set" "$set" "$kind" "$msgs" "$bytes" "$walls" "$cpus" "$rss" "tools/bench_floor.cpp $mode"
}

real_rspamd() {  # set list bytes (rspamd running)
  local set=$1 list=$2 b=$3 n c0 c1 t0 t1 scanned files r walls="" cpus="" rounds=$RSPAMD_ROUNDS
  mapfile -t files < "$list"
  n=${#files[@]}
  # Warm-up: $RSPAMD_WARM_PASSES passes over all the files before any is timed. rspamd gets
  # cheaper over its first passes after a start (maps, its regexp cache: hs_helper compiling
  # the Hyperscan databases while the workers scan): 12 consecutive passes over the m365 files
  # took 2.10, 1.87, 1.59, 1.46, then 1.29-1.62 CPU-s. The old warm-up (300 files, once) timed
  # it in that descent, which flattered hdrscan by up to half (2.11 against ~1.4 CPU-s).
  for ((r = 0; r < RSPAMD_WARM_PASSES; r++)); do
    rspamc -h "127.0.0.1:$RSPAMD_PORT" -n 8 -t 120 "${files[@]}" > /dev/null 2>&1 || true
  done
  echo 0 > "$OUT/rspamd.rss"
  rss_sampler "$RSPAMD_SID" "$OUT/rspamd.rss" & local sampler=$!
  # Several timed passes, their median: one pass's CPU seconds varied 1.29-1.62 for the same
  # 600 m365 files even after the warm-up.
  for ((r = 0; r < rounds; r++)); do
    real_warm "${files[@]}"
    c0=$(sess_cpu "$RSPAMD_SID"); t0=$(now_ns)
    rspamc -h "127.0.0.1:$RSPAMD_PORT" -n 8 -t 120 "${files[@]}" > "$OUT/rspamc-$set.out" 2>&1 || true
    t1=$(now_ns); c1=$(sess_cpu "$RSPAMD_SID")
    scanned=$(grep -c '^Action:' "$OUT/rspamc-$set.out" || true)
    [ "$scanned" = "$n" ] || log "WARNING: rspamc reported $scanned results for $n files of $set (pass $((r + 1)))"
    walls+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}') "
    cpus+="$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.3f", b-a}') "
  done
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  real_record "rspamd-$set-files-${NPROC}w" "$set" files "$scanned" "$b" "$walls" "$cpus" \
    "$(cat "$OUT/rspamd.rss")" "rspamc -n 8, $NPROC workers, median of $rounds timed passes after $RSPAMD_WARM_PASSES warm-up passes"
}

real_startup() {  # dir: hdrscan's CPU seconds before its first message, per run
  local r walls="" cpus="" rss=0 m
  printf 'From: start-up <s@example.org>\nSubject: start-up\n\nx\n' > "$1/startup.eml"
  for ((r = 0; r < ROUNDS; r++)); do
    local rc=0
    real_warm "$1/startup.eml"
    "$REPO/tools/rusage-run" -n 20 -o "$OUT/time.out" "$HDRSCAN" scan --format jsonl --output /dev/null \
      --threads 1 "$1/startup.eml" >/dev/null 2>"$OUT/run.err" || rc=$?
    # 0 clean, 1 something found: a failed start is no start-up figure
    [ $rc = 0 ] || [ $rc = 1 ] || { echo "tools/bench: hdrscan failed ($rc) on $1/startup.eml:" >&2; tail -5 "$OUT/run.err" >&2; exit 2; }
    walls+="$(awk '{printf "%.5f", $4}' "$OUT/time.out") "
    cpus+="$(time_cpu "$OUT/time.out") "
    m=$(time_rss "$OUT/time.out"); [ "$rss" -ge "$m" ] || rss=$m
  done
  real_record "hdrscan-startup-1t" startup mbox 1 "$(stat -c %s "$1/startup.eml")" "$walls" "$cpus" "$rss" \
    "one 4-line message, mean of 20 runs a round, tools/rusage-run -n 20"
}

real_mail_bench() {
  local R=$OUT/real set
  REAL_RES=$OUT/real.tsv
  log "real-mail inputs from $SHARED (under $R)"
  python3 "$REPO/tools/bench_real.py" --shared "$SHARED" --out "$R" --big-mb "$REAL_MB" --repeated "$REAL_SETS"
  printf 'name\tset\tinput\tmessages\tbytes\twall_s\tcpu_s\tpeak_rss_kb\trounds\tcpu_rounds\tnote\n' > "$REAL_RES"
  # manifest columns: set messages bytes median_size mean_size mbox_bytes folder
  local folder bytes
  real_startup "$R"
  for set in $REAL_SETS; do
    folder=$(awk -F'\t' -v s="$set" '$1 == s {print $7}' "$R/manifest.tsv")
    bytes=$(awk -F'\t' -v s="$set" '$1 == s {print $3}' "$R/manifest.tsv")
    real_floor "$set" "$R/$set.mbox" split
    real_floor "$set" "$R/$set.mbox" sha
    real_floor "$set" "$R/$set.mbox" crypto
    [ -z "$folder" ] || real_floor "$set" "$R/$set.list" crypto-files "$folder"
    real_hdrscan "$set" mbox "$R/$set.mbox" 1
    [ "$set" = hamspam-big ] && real_hdrscan "$set" mbox "$R/$set.mbox" "$NPROC"
    [ -z "$folder" ] || real_hdrscan "$set" files "$folder" 1 "$bytes"
    [ ! -f "$R/$set-repeated.mbox" ] || real_hdrscan "$set" repeated "$R/$set-repeated.mbox" 1
  done
  if [ "$PEERS" = 1 ]; then
    rspamd_start "$OUT/rspamd" "$RSPAMD_PORT" "$NPROC" normal
    for set in $REAL_SETS; do
      [ "$set" = hamspam-big ] && continue
      bytes=$(awk -F'\t' -v s="$set" '$1 == s {print $3}' "$R/manifest.tsv")
      real_rspamd "$set" "$R/$set.list" "$bytes"
    done
    rspamd_stop
  fi
}
