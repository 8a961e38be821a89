#!/usr/bin/env python3
"""expected_verdict.py SRC FILE...: the verdict each FILE must get, from the labels, never from
the scanner (issue 14, "Test honesty"). Prints campaign, suspicious or clean, one line per FILE.

  - a file under SRC/corpus/ takes its row of corpus/labels.tsv: campaign -> campaign,
    related -> suspicious, clean -> clean; a file under corpus/samples/ must also be named
    for it (campaign-*, related-*, clean-*), so a relabelled or renamed sample is caught;
  - SRC/tests/milter/clean.eml is clean by construction (an internal note: no Microsoft
    header, no URL, no lure);
  - a .eml of ../shared/docs/examples is campaign (its README: illustrations of the campaign).
Anything else has no label: exit status 1 with the reason on stderr.

expected_verdict.py --wrapper SRC FILE...: "wrapper" when FILE is labelled as a message holding
the labelled mail as an attached message/rfc822 (a family of corpus/labels.tsv named *wrapped*:
a user's report, an ARF report, a quarantine notice; not wrapped-zip, an archive whose members
are scanned one by one), else "direct". The milter tests take a wrapper's action from it
(wrapper-action, docs/milter.md).
"""
import os
import sys

WORD = {"campaign": "campaign", "related": "suspicious", "clean": "clean"}


def expected(src, path, want_wrapper=False):
    path = os.path.realpath(path)
    if path == os.path.realpath(os.path.join(src, "tests/milter/clean.eml")):
        return "direct" if want_wrapper else "clean"
    parent = os.path.dirname(path)
    if os.path.basename(parent) == "examples" and os.path.basename(os.path.dirname(parent)) == "docs" \
            and path.endswith(".eml"):
        return "direct" if want_wrapper else "campaign"
    corpus = os.path.realpath(os.path.join(src, "corpus"))
    rel = os.path.relpath(path, corpus)
    if rel.startswith(".."):
        raise LookupError("%s: not under %s" % (path, corpus))
    labels = {}
    with open(os.path.join(corpus, "labels.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            labels[cols[0]] = cols[1:]
    row = labels.get(rel, [])  # label, view, family, split, notes
    label = row[0] if row else None
    family = row[2] if len(row) > 2 else ""
    if label not in WORD:
        raise LookupError("%s: not labelled in corpus/labels.tsv" % rel)
    if rel.startswith("samples/"):
        by_name = os.path.basename(rel).split("-", 1)[0]
        if by_name != label:
            raise LookupError("%s: labelled %s but named %s-*" % (rel, label, by_name))
    if want_wrapper:
        return "wrapper" if "wrapped" in family and not family.endswith("-zip") else "direct"
    return WORD[label]


if __name__ == "__main__":
    args = sys.argv[1:]
    wrapper = bool(args) and args[0] == "--wrapper"
    if wrapper:
        args = args[1:]
    try:
        for f in args[1:]:
            print(expected(args[0], f, wrapper))
    except (LookupError, OSError) as e:
        sys.exit("expected_verdict: %s" % e)
