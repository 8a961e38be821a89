#!/usr/bin/env bash
# bench-inputs.sh: memory of the input readers on big inputs (issue 16), peak RSS measured by
# /usr/bin/time, never asserted (numbers go into the issue's note and docs/benchmarks.md).
#   1. an mbox.gz of SIZE_MB uncompressed megabytes (default 2048: the issue's 2 GB), made
#      from corpus/generated messages repeated with a changing Message-ID, streamed through
#      `hdrscan scan`; and one of SIZE_MB/8, to show RSS does not follow the input size;
#   2. PST: one process walking 1 copy, then COPIES copies (default 400) of the largest PST in
#      ../shared/corpus/outlook/pst (no PST writer exists in Debian, and the public PSTs are
#      small: this shows that walking more messages does not grow RSS, not a huge PST).
# Usage: tools/bench-inputs.sh [BUILD_DIR] (SIZE_MB=.. COPIES=.. in the environment)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/scanner/hdrscan
SHARED=${HDRSCAN_SHARED_CORPUS:-$ROOT/../shared/corpus}
SIZE_MB=${SIZE_MB:-2048}
COPIES=${COPIES:-400}
WORK=$(mktemp -d /tmp/hdrscan-bench-inputs-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
[ -x "$BIN" ] || { echo "bench-inputs: no $BIN (build first)"; exit 2; }

make_mbox_gz() {  # make_mbox_gz MB OUT
  python3 - "$ROOT/corpus/generated" "$1" <<'PY' | gzip -1 >"$2"
import os, sys
root, mb = sys.argv[1], int(sys.argv[2])
msgs = []
for d in sorted(os.listdir(root)):
    p = os.path.join(root, d)
    if os.path.isdir(p):
        for f in sorted(os.listdir(p))[:20]:
            if f.endswith(".eml"):
                msgs.append(open(os.path.join(p, f), "rb").read())
out, total, n = sys.stdout.buffer, 0, 0
while total < mb << 20:
    m = msgs[n % len(msgs)].replace(b"Message-ID: <", b"Message-ID: <%d." % n, 1)
    rec = b"From bench@example.invalid Thu Jan  1 00:00:00 2026\n" + m + b"\n"
    out.write(rec)
    total += len(rec)
    n += 1
PY
}

rss() {  # rss ARGS...: "peak_kb seconds records"
  /usr/bin/time -f "%M %e" -o "$WORK/time" "$BIN" "$@" >"$WORK/out" 2>/dev/null || true
  echo "$(tail -n 1 "$WORK/time") $(wc -l <"$WORK/out")"  # time notes a non-zero exit first
}

echo "== mbox.gz streamed (threads 2, jsonl)"
for mb in $((SIZE_MB / 8)) "$SIZE_MB"; do
  make_mbox_gz "$mb" "$WORK/box.mbox.gz"
  read -r kb secs n < <(rss scan --threads 2 --format jsonl "$WORK/box.mbox.gz")
  printf "  %6d MB uncompressed (%d MB gz): %d messages, peak RSS %d MB, %s s\n" "$mb" \
    $(( $(stat -c %s "$WORK/box.mbox.gz") >> 20 )) "$n" $((kb >> 10)) "$secs"
  rm -f "$WORK/box.mbox.gz"
done

PST=$(ls -S "$SHARED"/outlook/pst/*.pst 2>/dev/null | head -1 || true)
if [ -n "$PST" ]; then
  echo "== PST walks in one process ($(basename "$PST"))"
  mkdir -p "$WORK/pst"
  for n in 1 "$COPIES"; do
    rm -f "$WORK"/pst/*
    for i in $(seq 1 "$n"); do cp "$PST" "$WORK/pst/$i.pst"; done
    read -r kb secs recs < <(rss scan --threads 1 --format jsonl "$WORK/pst")
    printf "  %5d PST files: %d records, peak RSS %d MB, %s s\n" "$n" "$recs" $((kb >> 10)) "$secs"
  done
fi
