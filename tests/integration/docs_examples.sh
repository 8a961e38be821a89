#!/usr/bin/env bash
# docs_examples.sh: the command examples of README.md and docs/*.md run (issue 18, item 8).
# Convention: a fenced code block whose info string is `sh runnable` holds commands that work
# on a checkout as they are written: each line is `hdrscan ARGS` or `build/scanner/hdrscan
# ARGS` (a leading `$ ` prompt allowed; `# ...` comments and blank lines skipped; anything
# else in such a block is an error, so the convention stays strict). This test runs every such
# line with bash from a scratch folder where corpus/ and docs/ are the checkout's (so relative
# paths resolve and outputs stay out of the tree), hdrscan being the built binary, and requires
# exit status 0 or 1 (1 = something flagged; `# exit N` at the end of a line expects N) and
# nothing on standard error that says error. Also, for every code block (marked or not): a
# corpus/... path it names must exist (the README once sent users to a sample that was gone),
# and README.md and docs/ must hold at least 10 runnable lines (marks cannot vanish unseen).
source "$(dirname "$0")/scan_lib.bash"
ln -s "$SRC/corpus" corpus && ln -s "$SRC/docs" docs && mkdir -p build/scanner && ln -s "$BIN" build/scanner/hdrscan

python3 - "$SRC" >examples.tsv <<'PYEOF' || fail "reading the examples"
import glob, os, re, sys
src = sys.argv[1]
files = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
bad, runnable = [], 0
for f in files:
    rel = os.path.relpath(f, src)
    text = open(f, encoding="utf-8").read()
    for m in re.finditer(r"^```([^\n]*)\n(.*?)^```", text, re.S | re.M):
        info, body = m.group(1).split(), m.group(2)
        start = text.count("\n", 0, m.start()) + 2
        for k, line in enumerate(body.splitlines()):
            for p in re.findall(r"(?<![\w/.])corpus/[\w./-]+", line):
                p = p.rstrip(".,;:)")
                if not os.path.exists(os.path.join(src, p)):
                    bad.append("%s:%d: %s does not exist" % (rel, start + k, p))
        if info[:2] != ["sh", "runnable"]:
            continue
        for k, line in enumerate(body.splitlines()):
            cmd = re.sub(r"^\$ ", "", line.strip())
            if not cmd or cmd.startswith("#"):
                continue
            if not re.match(r"(build/scanner/)?hdrscan\s", cmd):
                bad.append("%s:%d: not a hdrscan line in a runnable block: %s" % (rel, start + k, cmd))
                continue
            want = re.search(r"#\s*exit\s+(\d+)\s*$", cmd)
            runnable += 1
            print("%s:%d\t%s\t%s" % (rel, start + k, want.group(1) if want else "0|1", cmd))
if runnable < 10:
    bad.append("only %d runnable lines in README.md and docs/" % runnable)
for b in bad:
    print("FAIL: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF

n=0
while IFS=$'\t' read -r where want cmd; do
  n=$((n + 1))
  # `hdrscan` is the built binary, by a function, so the line runs exactly as written.
  HDRSCAN_BIN=$BIN bash -c 'hdrscan() { "$HDRSCAN_BIN" "$@"; }; '"$cmd" >"ex$n.out" 2>"ex$n.err" </dev/null
  rc=$?
  case "|$want|" in *"|$rc|"*) ;; *) fail "$where: exit status $rc (want $want): $cmd: $(head -3 "ex$n.err")" ;; esac
  if [ "$want" = "0|1" ] && grep -qi 'error' "ex$n.err"; then fail "$where: $cmd: $(head -3 "ex$n.err")"; fi
  [ "$want" != "0|1" ] || [ -s "ex$n.out" ] || grep -q ">" <<<"$cmd" || fail "$where: no output: $cmd"
done <examples.tsv
[ "$n" -ge 10 ] || fail "only $n examples ran"
pass "$n runnable examples of README.md and docs/ run; every corpus/ path in their code blocks exists"
