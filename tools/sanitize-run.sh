#!/usr/bin/env bash
# sanitize-run.sh: the AddressSanitizer + UndefinedBehaviorSanitizer run CI asks for.
#  1. builds hdrscan and the whole test suite with -DHDRSCAN_SANITIZE=ON (top-level
#     CMakeLists: -fsanitize=address,undefined -fno-sanitize-recover=undefined) in build-asan;
#  2. runs the ctest suite under it (unit binaries and integration scripts; tests that need
#     root-only services skip visibly as usual), less the tests labelled release-only (data,
#     documents, accuracy, weight fit, repeated determinism scans: tests/CMakeLists.txt),
#     which are named;
#  3. runs `hdrscan scan --format jsonl` over every file under ../shared/corpus (all of it,
#     malformed/ included) and the project's corpus/, and reports messages read, verdicts, errors by reason (the JSONL
#     "errors" codes) and the slowest messages (per-message time measured by scanning each
#     malformed/ file on its own, under the sanitizers: an upper bound of the release time).
# Every sanitizer report is written to $OUT/sanitizer-logs (ASAN/UBSAN/LSAN log_path), so a
# report is seen even when a test script swallows stderr. Any report => failure.
#
# Usage: tools/sanitize-run.sh [--no-build] [--no-ctest] [--no-corpus] [--no-times]
#        [-- CTEST_ARGS...]
# Environment: HDRSCAN_ASAN_BUILD (default ../build-asan next to the repo),
#   HDRSCAN_SHARED_CORPUS (default ../shared/corpus; the corpus step needs its sets: a missing one
#   fails the run; it skips, visibly, only when ../shared is absent as a whole),
#   CC/CXX (default: the system compiler).
# Exit status: 0 all good; 1 test failures, sanitizer reports, a crash/unexpected exit status
# of the scan, or fewer records than files; 2 build error.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HDRSCAN_ASAN_BUILD:-$ROOT/../build-asan}
SHARED=${HDRSCAN_SHARED_CORPUS:-$ROOT/../shared/corpus}
. "$ROOT/tests/support/shared_data.bash"
DO_BUILD=1 DO_CTEST=1 DO_CORPUS=1 DO_TIMES=1
CTEST_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) DO_BUILD=0 ;;
    --no-ctest) DO_CTEST=0 ;;
    --no-corpus) DO_CORPUS=0 ;;
    --no-times) DO_TIMES=0 ;;
    --) shift; CTEST_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "sanitize-run: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
OUT="$BUILD/sanitize-run"
LOGS="$OUT/sanitizer-logs"
rm -rf "$OUT"; mkdir -p "$LOGS"
fail=0
t0=$(date +%s)

if [ "$DO_BUILD" = 1 ]; then
  echo "sanitize-run: building (ASan+UBSan) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DHDRSCAN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Check \
    -DHDRSCAN_SHARED_CORPUS="$SHARED" >"$OUT/cmake.log" 2>&1 \
    || { cat "$OUT/cmake.log" >&2; exit 2; }
  cmake --build "$BUILD" -j2 >"$OUT/build.log" 2>&1 \
    || { tail -40 "$OUT/build.log" >&2; echo "sanitize-run: build failed" >&2; exit 2; }
fi
HDRSCAN="$BUILD/scanner/hdrscan"
[ -x "$HDRSCAN" ] || { echo "sanitize-run: $HDRSCAN not built" >&2; exit 2; }

# Reports go to files (one per process) as well as stderr; halt on the first UB.
export ASAN_OPTIONS="log_path=$LOGS/report:detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$LOGS/report:print_stacktrace=1:halt_on_error=1"
# tools/lsan.supp: leaks inside third-party libraries, each with its reason.
export LSAN_OPTIONS="log_path=$LOGS/report:suppressions=$ROOT/tools/lsan.supp"  # one prefix: the runtimes share log_path

if [ "$DO_CTEST" = 1 ]; then
  echo "sanitize-run: ctest under ASan+UBSan"
  t1=$(date +%s)
  # Tests labelled release-only (tests/CMakeLists.txt: data, documents, accuracy, weight
  # fit) run in the Release ctest only; named here so nobody takes them for skips.
  echo "sanitize-run: left to the Release ctest (label release-only):" \
    $(cd "$BUILD" && ctest -N -L release-only | sed -nE 's/^ *Test +#[0-9]+: //p')
  (cd "$BUILD" && ctest --output-on-failure -j2 -LE release-only "${CTEST_ARGS[@]}") >"$OUT/ctest.log" 2>&1
  rc=$?
  grep -E '^[0-9]+% tests passed|tests failed|\(Failed\)|\(SEGFAULT\)|\(Timeout\)|\(Subprocess aborted\)|Not Run|Skipped' "$OUT/ctest.log" | tail -40
  echo "sanitize-run: ctest exit $rc, $(( $(date +%s) - t1 ))s (log $OUT/ctest.log)"
  [ "$rc" = 0 ] || fail=1
fi

if [ "$DO_CORPUS" = 1 ]; then
  if ! shared_part "sanitize-run corpus scan" "$SHARED/ham-spam" "$SHARED/malformed" "$SHARED/dev_relays" \
       "$SHARED/dev_m365_legit"; then
    :  # ../shared absent: the SKIP line above says so
  else
    echo "sanitize-run: scan --format jsonl over $SHARED"
    t1=$(date +%s)
    "$HDRSCAN" scan --format jsonl -j2 --summary-json "$OUT/corpus-summary.json" "$SHARED" \
      >"$OUT/corpus.jsonl" 2>"$OUT/corpus.stderr"
    rc=$?
    # The project's own corpus (generated campaign mail, look-alikes, samples) as well: the
    # release-only tests that scan it do not run here.
    "$HDRSCAN" scan --format jsonl -j2 "$ROOT/corpus" >"$OUT/project-corpus.jsonl" 2>"$OUT/project-corpus.stderr"
    prc=$?
    pfiles=$(find "$ROOT/corpus" -type f | wc -l)
    precs=$(wc -l <"$OUT/project-corpus.jsonl")
    echo "sanitize-run: scan of the project corpus: exit $prc, $precs records from $pfiles files"
    case "$prc" in 0|1|2) ;; *) echo "sanitize-run: FAIL: project corpus scan exit $prc" >&2; fail=1 ;; esac
    [ "$precs" -ge "$pfiles" ] || { echo "sanitize-run: FAIL: fewer records than files in corpus/" >&2; fail=1; }
    secs=$(( $(date +%s) - t1 ))
    files=$(find "$SHARED" -type f | wc -l)
    echo "sanitize-run: scan exit $rc in ${secs}s over $files files"
    # 2 is the status for unreadable records (malformed/ holds an empty file): accepted only
    # when the output has them; anything else (a crash, a signal) fails.
    unreadable=$(grep -c '"verdict":"unreadable"' "$OUT/corpus.jsonl")
    case "$rc:$([ "$unreadable" -gt 0 ] && echo u)" in
      0:|1:|2:u) ;;
      *) echo "sanitize-run: FAIL: scan exit status $rc ($unreadable unreadable records)" >&2
         tail -5 "$OUT/corpus.stderr" >&2; fail=1 ;;
    esac
    python3 - "$OUT/corpus.jsonl" "$files" "$SHARED" <<'PY' || fail=1
import collections, json, os, sys
path, files, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = 0; bad = 0
verdicts = collections.Counter(); codes = collections.Counter(); msgs_with_err = 0
by_set = collections.Counter(); err_by_set = collections.Counter(); paths = set()
with open(path, 'rb') as fh:
    for line in fh:
        try:
            r = json.loads(line)
        except ValueError:
            bad += 1
            continue
        n += 1
        verdicts[r.get('verdict')] += 1
        p = r.get('source', {}).get('path', '')
        paths.add(p)
        rel = os.path.relpath(p, shared).split(os.sep)
        s = rel[0] if rel[0] != 'malformed' or len(rel) < 2 else 'malformed/' + rel[1]
        by_set[s.split('/')[0]] += 1
        errs = r.get('errors') or []
        if errs:
            msgs_with_err += 1
            err_by_set[s.split('/')[0]] += 1
        for e in errs:
            codes[e.get('code', '?')] += 1
print('messages read: %d (records), from %d of %d files; unparsable JSON lines: %d' % (n, len(paths), files, bad))
print('verdicts: ' + ', '.join('%s %d' % kv for kv in sorted(verdicts.items(), key=lambda kv: str(kv[0]))))
print('by set: ' + ', '.join('%s %d (with errors %d)' % (k, v, err_by_set[k]) for k, v in sorted(by_set.items())))
print('messages with errors: %d' % msgs_with_err)
print('errors by reason:')
for c, k in codes.most_common():
    print('  %-28s %d' % (c, k))
ok = bad == 0 and len(paths) == files and n >= files
if not ok:
    print('FAIL: every file must give at least one JSON record', file=sys.stderr)
sys.exit(0 if ok else 1)
PY
    if [ "$DO_TIMES" = 1 ]; then
      # Per-message time: each malformed/ file scanned on its own (process start included).
      python3 - "$HDRSCAN" "$SHARED/malformed" <<'PY'
import os, subprocess, sys, time
hd, root = sys.argv[1], sys.argv[2]
times = []
for d, dirs, fs in os.walk(root):
    dirs.sort()
    for f in sorted(fs):
        p = os.path.join(d, f)
        t = time.monotonic()
        subprocess.run([hd, 'scan', '--format', 'jsonl', '-j1', p], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append((time.monotonic() - t, p))
times.sort(reverse=True)
over = [t for t in times if t[0] > 1.0]
print('per-file time under ASan+UBSan (malformed/, %d files, process start included): '
      'max %.2fs, %d over 1 s' % (len(times), times[0][0] if times else 0, len(over)))
for t, p in times[:5]:
    print('  %.2fs %s (%d bytes)' % (t, os.path.relpath(p, root), os.path.getsize(p)))
PY
    fi
  fi
fi

reports=$(find "$LOGS" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
  echo "sanitize-run: FAIL: $reports sanitizer report file(s) in $LOGS:" >&2
  for f in $(find "$LOGS" -type f | head -5); do
    echo "== $f" >&2; grep -m3 -E 'ERROR|runtime error|SUMMARY' "$f" >&2
  done
  fail=1
else
  echo "sanitize-run: sanitizer reports: 0"
fi
echo "sanitize-run: $( [ $fail = 0 ] && echo PASS || echo FAIL ) in $(( $(date +%s) - t0 ))s"
exit $fail
