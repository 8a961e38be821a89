#!/usr/bin/env bash
# corpus_labels.sh: the project corpus and its labels agree, and the generator is deterministic.
#
# Checks (no hdrscan run needed; the binary argument is accepted and ignored):
#  1. corpus/labels.tsv is well formed: header row, 6 columns, label in campaign|related|clean,
#     view in consumer|thirdparty|none, split in tune|holdout|sample, no duplicate paths, and a
#     family belongs to one split only (whole families go to tune or holdout).
#  2. every labelled file exists, and every file under corpus/generated, corpus/lookalikes
#     (except index.tsv) and corpus/samples is labelled.
#  3. tools/gen_corpus.py regenerated into a scratch dir (same seed) gives byte-identical
#     generated/, samples/ and labels.tsv.
# Usage (ctest passes these): corpus_labels.sh HDRSCAN SOURCE_DIR SHARED_CORPUS SCRATCH_DIR
# Exit: 0 pass, 1 fail, 77 skip (python3 missing).
set -u
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
scratch=${4:-$(mktemp -d)}
corpus="$src/corpus"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
[ -f "$corpus/labels.tsv" ] || { echo "FAIL: $corpus/labels.tsv missing"; exit 1; }

python3 - "$corpus" <<'EOF' || exit 1
import os, sys
corpus = sys.argv[1]
bad = []
rows, fam_split, seen = [], {}, set()
with open(os.path.join(corpus, "labels.tsv"), encoding="utf-8") as f:
    lines = [l.rstrip("\n") for l in f if not l.startswith("#") and l.strip()]
if lines[0].split("\t") != ["path", "label", "view", "family", "split", "notes"]:
    bad.append("header row is %r" % lines[0])
for n, l in enumerate(lines[1:], 2):
    c = l.split("\t")
    if len(c) != 6:
        bad.append("row %d: %d columns" % (n, len(c))); continue
    path, label, view, fam, split, _ = c
    if label not in ("campaign", "related", "clean"): bad.append("row %d: label %r" % (n, label))
    if view not in ("consumer", "thirdparty", "none"): bad.append("row %d: view %r" % (n, view))
    if split not in ("tune", "holdout", "sample"): bad.append("row %d: split %r" % (n, split))
    if path in seen: bad.append("row %d: duplicate %s" % (n, path))
    seen.add(path)
    if not os.path.isfile(os.path.join(corpus, path)): bad.append("labelled but missing: " + path)
    if split != "sample":
        fam_split.setdefault(fam, set()).add(split)
for fam, s in sorted(fam_split.items()):
    if len(s) > 1: bad.append("family %s is in several splits: %s" % (fam, sorted(s)))
for top in ("generated", "lookalikes", "samples"):
    for dp, dn, fn in os.walk(os.path.join(corpus, top)):
        for x in fn:
            rel = os.path.relpath(os.path.join(dp, x), corpus).replace(os.sep, "/")
            if rel == "lookalikes/index.tsv":
                continue
            if rel not in seen: bad.append("file not labelled: " + rel)
labels = {}
for l in lines[1:]:
    c = l.split("\t")
    if len(c) == 6 and c[4] != "sample":
        labels[c[1]] = labels.get(c[1], 0) + 1
print("labels: %d rows; %s; %d families" % (len(seen), ", ".join("%s=%d" % kv for kv in sorted(labels.items())), len(fam_split)))
for b in bad[:50]:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
EOF

seed=$(sed -n 's/^# .*--seed \([0-9]*\).*/\1/p' "$corpus/labels.tsv" | head -1)
[ -n "$seed" ] || { echo "FAIL: labels.tsv does not name the generator seed"; exit 1; }
rm -rf "$scratch/regen"; mkdir -p "$scratch/regen"
python3 "$src/tools/gen_corpus.py" --seed "$seed" --root "$scratch/regen" --lookalikes "$corpus/lookalikes" 2>/dev/null \
  || { echo "FAIL: gen_corpus.py failed"; exit 1; }
rc=0
for d in generated samples; do
  if ! diff -rq "$corpus/$d" "$scratch/regen/$d" >"$scratch/diff.txt" 2>&1; then
    echo "FAIL: regenerated $d/ differs from the committed one:"; head -20 "$scratch/diff.txt"; rc=1
  fi
done
cmp -s "$corpus/labels.tsv" "$scratch/regen/labels.tsv" || { echo "FAIL: regenerated labels.tsv differs"; rc=1; }
[ $rc -eq 0 ] && echo "PASS: labels agree with files; generator (seed $seed) reproduces the corpus byte for byte"
rm -rf "$scratch/regen"
exit $rc
