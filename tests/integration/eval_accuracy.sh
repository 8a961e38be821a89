#!/usr/bin/env bash
# eval_accuracy: the accuracy contract of issue 3, measured with tools/eval.
#  - project corpus, held-out families: recall >= 0.99 and zero false positives;
#  - project corpus, tune families: the same;
#  - ../shared/corpus (when present): zero `campaign` verdicts on ham, generic spam and
#    legitimate Microsoft 365 mail; the two examples score campaign, their templates do not.
set -euo pipefail
HDRSCAN=$1; SRC=$2; SHARED=$3; SCRATCH=$4
mkdir -p "$SCRATCH"
cd "$SRC"
export HDRSCAN
echo "== holdout families"
tools/eval --split holdout --min-recall 0.99 --max-fp 0 --max-list 20
echo "== tune families"
tools/eval --split tune --min-recall 0.99 --max-fp 0 --max-list 20
if [ -d "$SHARED/dev_m365_legit" ]; then
  echo "== shared corpus + examples"
  tools/eval --no-project --shared-corpus "$SHARED" --examples --max-fp 0 --max-list 20
else
  echo "SKIP: $SHARED not present; shared-corpus accuracy not measured"
fi
