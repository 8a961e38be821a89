#!/usr/bin/env bash
# regress.sh: every input under tests/regress/ (each once crashed or broke hdrscan; see
# tests/regress/README.md) is scanned with default limits and with tight limits
# (--max-headers 8 --max-header-line 64 --max-mime-depth 3 --max-parts 6, where the fuzzers
# found them): exit status 0 or 1 (no crash), exactly one JSON record per file, verdict and
# score present, every error entry has a code, and no "internal_error" (an exception that
# escaped a parser). Args: HDRSCAN SOURCE_DIR SHARED_CORPUS SCRATCH.
set -uo pipefail
HDRSCAN=$1 SRC=$2 SCRATCH=$4
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
FAIL=0 N=0
for f in "$SRC"/tests/regress/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in README.md) continue ;; esac
  for mode in default tight; do
    if [ $mode = tight ]; then
      opts=(--max-headers 8 --max-header-line 64 --max-mime-depth 3 --max-parts 6)
    else
      opts=()
    fi
    out="$SCRATCH/$(basename "$f").$mode.jsonl"
    timeout -k 5 120 "$HDRSCAN" scan --format jsonl -j1 "${opts[@]}" "$f" >"$out" 2>"$out.err"
    rc=$?
    case "$rc" in 0|1) ;; *) echo "FAIL: $(basename "$f") ($mode): exit status $rc"; tail -3 "$out.err"; FAIL=1; continue ;; esac
    python3 - "$out" "$(basename "$f") ($mode)" <<'PY' || FAIL=1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], 'rb')]
ok = len(recs) == 1
if not ok:
    print('FAIL: %s: %d records, expected 1' % (sys.argv[2], len(recs)))
for r in recs:
    if r.get('verdict') not in ('clean', 'suspicious', 'campaign') or not isinstance(r.get('score'), int):
        print('FAIL: %s: no verdict/score' % sys.argv[2]); ok = False
    codes = [e.get('code') for e in r.get('errors') or []]
    if not all(codes) or 'internal_error' in codes:
        print('FAIL: %s: errors %s' % (sys.argv[2], codes)); ok = False
sys.exit(0 if ok else 1)
PY
    N=$((N + 1))
  done
done
[ "$N" -gt 0 ] || { echo "FAIL: no regression inputs found in $SRC/tests/regress"; exit 1; }
[ "$FAIL" = 0 ] && echo "PASS: $N scans of tests/regress inputs"
exit $FAIL
