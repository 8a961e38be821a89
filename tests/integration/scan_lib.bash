# scan_lib.bash: shared set-up for the scan_*, explain_* and report_* integration tests
# (sourced, not a test itself: the test glob is *.sh). Arguments of every test:
# $1 hdrscan binary, $2 source dir, $3 shared corpus dir, $4 scratch dir.
set -u
BIN=$1
SRC=$2
SHARED=$3
WORK=$4
. "$SRC/tests/support/shared_data.bash"  # shared_part / shared_exit: the ../shared rule
HELP="$SRC/tests/integration/scan_helpers.py"
SCHEMA="$SRC/docs/output-schema.json"
GEN="$SRC/corpus/generated"
FIX="$SRC/tests/data/scan"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*" >&2; exit 77; }
[ -x "$BIN" ] || fail "no hdrscan binary at $BIN"
command -v python3 >/dev/null || skip "python3 not installed"
[ -d "$GEN" ] || fail "corpus/generated missing (repository data)"

# run OUT ERR ARGS...: runs hdrscan, sets RC.
run() {
  local out=$1 err=$2
  shift 2
  "$BIN" "$@" >"$out" 2>"$err"
  RC=$?
}
# py 'expr using recs' FILE.jsonl: evaluates a python expression over the records.
py() {
  python3 - "$2" "$1" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
print(eval(sys.argv[2]))
PYEOF
}
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
