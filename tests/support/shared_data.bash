# shared_data.bash: the ../shared rule for the integration scripts and tools/*-run.sh (issue 14,
# "Test honesty"; the unit tests' side is tests/support/test_support.hpp). Sourced, not run.
# Expects SHARED: the shared corpus folder (ctest's third argument, HDRSCAN_SHARED_CORPUS).
#  - ../shared is present when $SHARED or its sibling docs/ exists (CI, every engineer's
#    machine), absent only when neither does (a checkout on its own).
#  - shared_part DESC PATH...: present -> every PATH must exist, otherwise
#    "FAIL: DESC: missing PATH" and exit $SHARED_FAIL_STATUS (default 1): missing data is a
#    failure, never a skip. Absent -> prints "SKIP: DESC: ../shared is absent", counts it and
#    returns 1: the caller leaves that part out.
#  - shared_exit: at the end of a test that called shared_part: when a part was left out, exit 77
#    (ctest: SKIP_RETURN_CODE, shown "Skipped"), so a test that did not run all of itself is never
#    counted as passed. tools/test lists every SKIP line.
SHARED_SKIPPED=0
: "${SHARED_FAIL_STATUS:=1}"

shared_absent() { [ ! -e "$SHARED" ] && [ ! -e "$(dirname "$SHARED")/docs" ]; }

shared_part() {
  local desc=$1 p
  shift
  if shared_absent; then
    echo "SKIP: $desc: ../shared is absent ($SHARED)"
    SHARED_SKIPPED=$((SHARED_SKIPPED + 1))
    return 1
  fi
  for p in "$@"; do
    [ -e "$p" ] || { echo "FAIL: $desc: missing $p (../shared exists, so missing data is a failure)"; exit "$SHARED_FAIL_STATUS"; }
  done
  return 0
}

shared_exit() {
  [ "$SHARED_SKIPPED" = 0 ] && return 0
  echo "SKIP: $SHARED_SKIPPED part(s) of this test not run (../shared absent): reported as skipped, not passed"
  exit 77
}
