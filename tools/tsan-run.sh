#!/usr/bin/env bash
# tsan-run.sh: ThreadSanitizer over the parts of hdrscan that run threads.
#  1. builds the hdrscan binary with -fsanitize=thread (build-tsan; mimalloc off: TSan brings
#     its own allocator);
#  2. `hdrscan scan` over corpus/, ../shared/corpus/ham-spam and dev_relays (required where ../shared exists) with 2 and 7
#     worker threads and an HTML report, and checks the JSONL is byte-identical to a
#     one-thread run (the scan driver: input walker, workers, in-order writer);
#  3. the milter against OpenDKIM's miltertest (tests/integration/milter_miltertest.sh: many
#     sessions, aborts, reloads) under TSan; it skips visibly without miltertest/Postfix.
# Every report goes to $BUILD/tsan-logs (TSAN log_path), so reports in processes whose stderr
# a script swallows are still seen. Any report => failure. tools/tsan.supp lists what is
# suppressed and why (nothing at present; an entry must match without libc6-dbg, as on a
# fresh CI machine: check with tools/fresh-root.sh).
# Usage: tools/tsan-run.sh [--no-build]
# Environment: HDRSCAN_TSAN_BUILD (default ../build-tsan next to the repo),
#   HDRSCAN_SHARED_CORPUS (default ../shared/corpus).
# Exit status: 0 no report and identical output; 1 a report, a difference or a failed step;
# 2 build error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HDRSCAN_TSAN_BUILD:-$ROOT/../build-tsan}
SHARED=${HDRSCAN_SHARED_CORPUS:-$ROOT/../shared/corpus}
. "$ROOT/tests/support/shared_data.bash"
DO_BUILD=1
[ "${1:-}" = "--no-build" ] && DO_BUILD=0
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
if [ "$DO_BUILD" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Check -DHDRSCAN_TESTS=OFF -DHDRSCAN_MIMALLOC=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >"$BUILD/cmake.log" 2>&1 \
    || { cat "$BUILD/cmake.log" >&2; echo "tsan-run: cmake failed" >&2; exit 2; }
  # -Wtsan: GCC notes that atomic_thread_fence (inside Boost.Asio) is not instrumented.
  cmake --build "$BUILD" -j"$(nproc)" --target hdrscan >"$BUILD/build.log" 2>&1 \
    || { tail -40 "$BUILD/build.log" >&2; echo "tsan-run: build failed" >&2; exit 2; }
fi
BIN="$BUILD/scanner/hdrscan"
LOGS="$BUILD/tsan-logs"
WORK="$BUILD/tsan-work"
rm -rf "$LOGS" "$WORK"
mkdir -p "$LOGS" "$WORK"
export TSAN_OPTIONS="log_path=$LOGS/tsan second_deadlock_stack=1 suppressions=$ROOT/tools/tsan.supp"
status=0

inputs=("$ROOT/corpus")
shared_part "tsan-run scan of ../shared/corpus/ham-spam" "$SHARED/ham-spam" && inputs+=("$SHARED/ham-spam")
# Real Exchange Online ARC seals, verified with the pack's keys by every worker at once
# through each key's shared verification contexts (heuristics/signature.hpp).
shared_part "tsan-run scan of ../shared/corpus/dev_relays" "$SHARED/dev_relays" && inputs+=("$SHARED/dev_relays")
"$BIN" scan --format jsonl --threads 1 --output "$WORK/t1.jsonl" "${inputs[@]}" 2>"$WORK/t1.err"
for t in 2 7; do
  "$BIN" scan --format jsonl --threads "$t" --report "$WORK/t$t.html" --output "$WORK/t$t.jsonl" "${inputs[@]}" \
    2>"$WORK/t$t.err"
  rc=$?
  if [ "$rc" -gt 2 ]; then echo "tsan-run: scan --threads $t exited $rc" >&2; status=1; fi
  if ! cmp -s "$WORK/t1.jsonl" "$WORK/t$t.jsonl"; then
    echo "tsan-run: scan --threads $t output differs from one thread" >&2
    status=1
  fi
done
echo "tsan-run: scan with 1/2/7 threads over ${inputs[*]}: $(wc -l <"$WORK/t1.jsonl") records each"

bash "$ROOT/tests/integration/milter_miltertest.sh" "$BIN" "$ROOT" "$SHARED" "$WORK/milter" >"$WORK/milter.log" 2>&1
rc=$?
if [ "$rc" = 77 ]; then
  echo "tsan-run: SKIP milter step: $(grep -m1 SKIP "$WORK/milter.log")"
elif [ "$rc" != 0 ]; then
  tail -20 "$WORK/milter.log" >&2
  echo "tsan-run: milter under TSan failed (exit $rc)" >&2
  status=1
else
  echo "tsan-run: milter (miltertest scripts) under TSan: $(grep -c '^ok' "$WORK/milter.log") steps ok"
fi

reports=$(cat "$LOGS"/tsan* 2>/dev/null | grep -c "WARNING: ThreadSanitizer")
if [ "$reports" -gt 0 ]; then
  grep -h -A20 "WARNING: ThreadSanitizer" "$LOGS"/tsan* | head -60 >&2
  echo "tsan-run: $reports ThreadSanitizer report(s), logs in $LOGS" >&2
  status=1
fi
echo "tsan-run: $([ "$status" = 0 ] && echo PASS || echo FAIL) ($reports reports)"
exit $status
