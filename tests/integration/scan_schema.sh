#!/usr/bin/env bash
# scan_schema.sh: every JSONL record of `hdrscan scan --format jsonl` validates against the
# documented schema docs/output-schema.json (checked by a small stdlib validator, which is
# itself checked to reject broken records), is valid UTF-8 on one line, and carries the
# versioned "schema" field, on the generated corpus, hostile and broken fixtures, the real
# malformed-mail corpus and the real relays (../shared; skipped only when ../shared is absent).
source "$(dirname "$0")/scan_lib.bash"

inputs=("$GEN" "$FIX")
shared_part "schema over the real malformed mail and relays" "$SHARED/malformed" "$SHARED/dev_relays" \
  && inputs+=("$SHARED/malformed" "$SHARED/dev_relays")

run out.jsonl err.txt scan --format jsonl --threads 2 "${inputs[@]}"
# Exit status 2 exactly when a record is unreadable (the malformed corpus holds an empty file).
WANT_RC=$(py '2 if any(r["verdict"] == "unreadable" for r in recs) else "0-1"' out.jsonl)
case "$WANT_RC:$RC" in 2:2|0-1:0|0-1:1) ;; *) fail "scan exit status $RC, expected $WANT_RC: $(head -5 err.txt)" ;; esac
N=$(wc -l <out.jsonl)
[ "$N" -ge 900 ] || fail "only $N records"
python3 "$HELP" validate "$SCHEMA" out.jsonl || fail "records do not validate against $SCHEMA"
python3 "$HELP" selftest "$SCHEMA" out.jsonl || fail "validator accepts broken records"
expect_eq "$(py 'all(r["schema"] == "hdrscan.scan/2" for r in recs)' out.jsonl)" True "schema version"
# A score exactly when analysed; failed exactly when unreadable.
expect_eq "$(py 'all((r["score"] is None) == (r["verdict"] in ("unreadable", "not_mail")) and r["failed"] == (r["verdict"] == "unreadable") for r in recs)' out.jsonl)" True "score and failed follow the verdict"
expect_eq "$(py '"broken-binary.eml" in [r["source"]["path"].split("/")[-1] for r in recs if r["verdict"] == "not_mail"]' out.jsonl)" True "binary fixture is not_mail"
expect_eq "$(py '[r["seq"] for r in recs] == list(range(len(recs)))' out.jsonl)" True "seq numbers"
# Invalid UTF-8 in a header became U+FFFD, the rest of the subject is kept.
expect_eq "$(py '[r["subject"] for r in recs if r["message_id"] == "<hostile-1@prize.example>"][0].startswith("You have WON \ufffd")' out.jsonl)" True "invalid UTF-8 sanitized"
# Messages with errors are present and validate too.
expect_eq "$(py 'sum(1 for r in recs if r["errors"]) > 0' out.jsonl)" True "records with errors present"
pass "$N records valid"
shared_exit
