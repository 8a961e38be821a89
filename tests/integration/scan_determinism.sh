#!/usr/bin/env bash
# scan_determinism.sh: the same input gives byte-identical output with 1 and many threads
# (jsonl, csv and text without the timing lines), and --shard K/N slices partition the output:
# every record of shard K has seq mod N = K-1, and shards 1..N together hold exactly the
# records of the unsharded run (as sets of lines, and in order once sorted by seq).
source "$(dirname "$0")/scan_lib.bash"

python3 "$HELP" mbox mixed.mbox "$GEN"/consumer-onlist-partial/*.eml "$FIX"/*.eml || fail "mbox build"
inputs=("$GEN" mixed.mbox "$FIX")
shared_part "determinism over real ham" "$SHARED/ham-spam/spamassassin/hard_ham" && inputs+=("$SHARED/ham-spam/spamassassin/hard_ham")

run j1.jsonl e1 scan --format jsonl --threads 1 "${inputs[@]}"; rc1=$RC
run j2.jsonl e2 scan --format jsonl --threads 2 "${inputs[@]}"; rc2=$RC
run j7.jsonl e7 scan --format jsonl --threads 7 "${inputs[@]}"; rc7=$RC
N=$(wc -l <j1.jsonl)
[ "$N" -ge 1000 ] || fail "only $N records"
cmp -s j1.jsonl j2.jsonl || fail "jsonl differs between 1 and 2 threads"
cmp -s j1.jsonl j7.jsonl || fail "jsonl differs between 1 and 7 threads"
expect_eq "$rc1 $rc2" "$rc7 $rc7" "exit status independent of threads"
run c1.csv ce1 scan --format csv --threads 1 "${inputs[@]}"
run c3.csv ce3 scan --format csv --threads 3 "${inputs[@]}"
cmp -s c1.csv c3.csv || fail "csv differs between 1 and 3 threads"
run t1.txt te1 scan --color never --threads 1 "${inputs[@]}"
run t4.txt te4 scan --color never --threads 4 "${inputs[@]}"
cmp -s <(grep -v '^elapsed:' t1.txt) <(grep -v '^elapsed:' t4.txt) || fail "text differs between 1 and 4 threads"
pass "$N records identical with 1, 2, 3, 4, 7 threads"

for n in 1 3 5; do
  : >union.jsonl
  for k in $(seq 1 $n); do
    run "s$k.jsonl" "se$k" scan --format jsonl --threads 2 --shard "$k/$n" "${inputs[@]}"
    expect_eq "$(py "all(r['seq'] % $n == $k - 1 for r in recs)" "s$k.jsonl")" True "shard $k/$n: seq mod N"
    [ "$(wc -l <"s$k.jsonl")" -gt 0 ] || fail "shard $k/$n empty"
    cat "s$k.jsonl" >>union.jsonl
  done
  cmp -s <(sort j1.jsonl) <(sort union.jsonl) || fail "shards 1..$n together differ from the whole"
  python3 - union.jsonl j1.jsonl <<'PYEOF' || fail "shards 1..$n sorted by seq differ from the whole"
import json, sys
u = sorted(open(sys.argv[1]).readlines(), key=lambda l: json.loads(l)["seq"])
assert u == open(sys.argv[2]).readlines()
PYEOF
  pass "shards 1..$n == whole"
done

# Shards are computed on the global numbering, including stdin.
cat mixed.mbox | "$BIN" scan --format jsonl --shard 2/2 - >st2.jsonl
cat mixed.mbox | "$BIN" scan --format jsonl - >stall.jsonl
expect_eq "$(py '[r["sha256"] for r in recs]' st2.jsonl)" "$(py '[r["sha256"] for r in recs][1::2]' stall.jsonl)" "stdin shard 2/2"
pass "stdin shard"
shared_exit
