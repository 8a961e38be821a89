#!/usr/bin/env bash
# fuzz-run.sh: builds the libFuzzer harnesses (tests/fuzz/) with clang and runs every one of
# them for a fixed time, one process each (-jobs=1 -workers=1), as many at a time as there are
# cores (HDRSCAN_FUZZ_JOBS), the build at -j2.
#
# Usage: tools/fuzz-run.sh [SECONDS] [--full] [--only NAME[,NAME..]] [--no-build]
#   SECONDS     seconds per harness (default 60; CI uses ~30-60)
#   --full      the long form: 3600 s (1 h) per harness, e.g. overnight:
#                 tools/fuzz-run.sh --full            (19 harnesses: ~10 h on 2 cores)
#   --only      run only these harnesses (names without the fuzz_ prefix are accepted)
#   --no-build  use the existing build
# Environment: HDRSCAN_FUZZ_BUILD (build dir, default ../build-fuzz next to the repo),
#   HDRSCAN_FUZZ_CRASHES (crash dir, default $BUILD/crashes), HDRSCAN_SHARED_CORPUS,
#   HDRSCAN_FUZZ_JOBS (harnesses run at once, default nproc).
# Each harness runs with -rss_limit_mb=2048 -timeout=10 (an input taking > 10 s or 2 GB is a
# finding), over its persistent working corpus $BUILD/corpus/<harness> (what libFuzzer found
# interesting is kept between runs) plus the seeds from tools/fuzz-seeds.sh ($BUILD/seeds).
# Crashes, leaks, timeouts and OOMs are saved as $CRASHES/<harness>/{crash,leak,timeout,oom}-*;
# reproduce one with: $BUILD/tests/fuzz/<harness> $CRASHES/<harness>/crash-...
# Output: one line per harness (seconds, executions, corpus size, findings) and a final line;
# exit status 0 when no harness found anything, 1 otherwise, 2 on a build/usage error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HDRSCAN_FUZZ_BUILD:-$ROOT/../build-fuzz}
SECS=60
BUILD_IT=1
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --full) SECS=3600 ;;
    --no-build) BUILD_IT=0 ;;
    --only) ONLY="$2"; shift ;;
    --only=*) ONLY="${1#--only=}" ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    ''|*[!0-9]*) echo "fuzz-run: unknown argument '$1'" >&2; exit 2 ;;
    *) SECS="$1" ;;
  esac
  shift
done
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
CRASHES=${HDRSCAN_FUZZ_CRASHES:-$BUILD/crashes}

if [ "$BUILD_IT" = 1 ]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DHDRSCAN_FUZZ=ON -DHDRSCAN_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Check >"$BUILD/cmake.log" 2>&1 \
    || { cat "$BUILD/cmake.log" >&2; echo "fuzz-run: cmake failed" >&2; exit 2; }
  cmake --build "$BUILD" -j2 >"$BUILD/build.log" 2>&1 \
    || { tail -40 "$BUILD/build.log" >&2; echo "fuzz-run: build failed" >&2; exit 2; }
fi
# Seeds from ../shared/corpus/malformed: required where ../shared exists (exit 2 when missing);
# only when ../shared is absent as a whole do the harnesses start from corpus/ alone (SKIP line).
SHARED=${HDRSCAN_SHARED_CORPUS:-$ROOT/../shared/corpus}
SHARED_FAIL_STATUS=2
. "$ROOT/tests/support/shared_data.bash"
shared_part "fuzz seeds from ../shared/corpus/malformed" "$SHARED/malformed" || echo "fuzz-run: seeding from corpus/ only"
export HDRSCAN_SHARED_CORPUS=$SHARED
# fuzz-seeds.sh replaces the seed dirs: two runs sharing this build dir (one harness on each
# core, --only) take turns here instead of deleting each other's seeds mid-write
( flock 9
  "$ROOT/tools/fuzz-seeds.sh" "$BUILD/seeds" >"$BUILD/seeds.log" 2>&1 ) 9>"$BUILD/seeds.lock" \
  || { cat "$BUILD/seeds.log" >&2; echo "fuzz-run: seeding failed" >&2; exit 2; }

harnesses=()
for bin in "$BUILD"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  name=$(basename "$bin")
  if [ -n "$ONLY" ]; then
    case ",$ONLY," in *",$name,"*|*",${name#fuzz_},"*) ;; *) continue ;; esac
  fi
  harnesses+=("$name")
done
[ ${#harnesses[@]} -gt 0 ] || { echo "fuzz-run: no harness built/selected" >&2; exit 2; }

# Leaks inside third-party libraries that are not ours are listed, with reasons, in
# tools/lsan.supp (libFuzzer's leak check honours LSan suppressions).
export LSAN_OPTIONS="suppressions=$ROOT/tools/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Harnesses run HDRSCAN_FUZZ_JOBS at a time (default: one per core), each one process
# (-jobs=1 -workers=1), so the step's wall time is about SECONDS x harnesses / cores.
JOBS=${HDRSCAN_FUZZ_JOBS:-$(nproc)}
RESULTS="$BUILD/results"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"

run_one() {  # NAME: runs one harness, writes its table line (and findings) to $RESULTS/NAME
  local name=$1 work="$BUILD/corpus/$1" crash="$CRASHES/$1" logd="$BUILD/logs/$1"
  mkdir -p "$work" "$crash" "$logd" "$BUILD/seeds/$name"
  local before start rc secs log execs corpus after new note
  before=$(ls "$crash" | wc -l)
  start=$(date +%s)
  # -jobs=1 -workers=1: one child process whose output goes to $logd/fuzz-0.log.
  (cd "$logd" && rm -f fuzz-0.log && \
   "$BUILD/tests/fuzz/$name" "$work" "$BUILD/seeds/$name" -max_total_time="$SECS" \
     -rss_limit_mb=2048 -timeout=10 -jobs=1 -workers=1 -print_final_stats=1 \
     -artifact_prefix="$crash/" >"$logd/driver.log" 2>&1)
  rc=$?
  secs=$(( $(date +%s) - start ))
  log="$logd/fuzz-0.log"; [ -f "$log" ] || log="$logd/driver.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  corpus=$(ls "$work" | wc -l)
  after=$(ls "$crash" | wc -l)
  new=$((after - before))
  note="none"
  if [ "$new" -gt 0 ] || [ "$rc" -ne 0 ]; then
    note="$new new artifact(s) in $crash (rc=$rc; log $log)"
    grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehavior)|runtime error|invariant failed' "$log" \
      | sed 's/^/    /' >"$RESULTS/$name.findings"
  fi
  printf '%-32s %6s %10s %8s %s\n' "$name" "$secs" "${execs:-?}" "$corpus" "$note" >"$RESULTS/$name"
}

total_start=$(date +%s)
running=0
for name in "${harnesses[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
  run_one "$name" &
  running=$((running + 1))
done
wait
found=0
printf '%-32s %6s %10s %8s %s\n' harness seconds execs corpus findings
for name in "${harnesses[@]}"; do
  cat "$RESULTS/$name" 2>/dev/null || { echo "$name: no result (the runner died)"; found=1; }
  if [ -f "$RESULTS/$name.findings" ]; then found=1; cat "$RESULTS/$name.findings" >&2; fi
  grep -q ' none$' "$RESULTS/$name" 2>/dev/null || found=1
done
echo "fuzz-run: ${#harnesses[@]} harnesses, ${SECS}s each, $JOBS at a time, $(( $(date +%s) - total_start ))s total, findings: $([ $found = 0 ] && echo none || echo YES)"
exit $found
