#!/usr/bin/env bash
# scan_output_errors.sh: when the output cannot be written, `hdrscan scan` stops reading, says
# why on standard error (the writer's own errno, also with worker threads) and exits 2; with
# 1 and 2 threads. Cases: a reader that closes the pipe early (SIGPIPE ignored, so the write
# fails with EPIPE instead of killing the process) and --output /dev/full (ENOSPC).
source "$(dirname "$0")/scan_lib.bash"

for t in 1 2; do
  ( trap '' PIPE
    "$BIN" scan --format jsonl --threads "$t" "$GEN" 2>"pipe$t.err" | head -c 100 >/dev/null
    echo "${PIPESTATUS[0]}" >"pipe$t.rc" )
  expect_eq "$(cat "pipe$t.rc")" 2 "exit status after a closed pipe, $t thread(s)"
  grep -q "^hdrscan: error writing output: Broken pipe$" "pipe$t.err" \
    || fail "closed pipe, $t thread(s): stderr was '$(head -c 300 "pipe$t.err")'"
  if [ -w /dev/full ]; then
    run full$t.out full$t.err scan --format jsonl --threads "$t" --output /dev/full "$GEN"
    expect_eq "$RC" 2 "exit status writing to /dev/full, $t thread(s)"
    grep -q "error writing output /dev/full: No space left on device" "full$t.err" \
      || fail "/dev/full, $t thread(s): stderr was '$(head -c 300 "full$t.err")'"
  fi
done
pass "output errors reported with their cause and status 2, 1 and 2 threads"
