#!/usr/bin/env python3
"""scan_helpers.py: helpers for the scan_*, explain_* and report_* integration tests
(python3 standard library only, no pip).

  validate SCHEMA.json FILE.jsonl   check every line against the JSON Schema subset we use
                                    ($ref to #/$defs, type, const, enum, properties, required,
                                    additionalProperties false, items, minimum, maximum,
                                    minLength, pattern); exit 1 listing the first problems
  selftest SCHEMA.json FILE.jsonl   mutate valid records and check the validator rejects them
  mbox OUT FILE...                  write an mboxrd file: a "From " line before each message
                                    (a message's own leading "From " line is replaced),
                                    body lines matching >*From quoted with one more '>'
  report DOM.html FILE.jsonl [--min-verdict V] [--no-js]  compare the numbers a rendered HTML report shows in its
                                    DOM with the same numbers computed from the JSONL
"""
import json
import re
import sys
from html.parser import HTMLParser


def _type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise ValueError("unsupported type " + t)


SUPPORTED = {"$schema", "$id", "title", "description", "type", "const", "enum", "properties",
             "required", "additionalProperties", "items", "minimum", "maximum", "minLength",
             "maxLength", "maxItems", "pattern", "$ref", "$defs"}


def validate(value, schema, root, path="$"):
    """Returns a list of error strings (empty when valid)."""
    errs = []
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise ValueError("schema uses unsupported keywords %s at %s" % (sorted(unknown), path))
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local $ref supported: " + ref)
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        errs += validate(value, target, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, t) for t in types):
            return errs + ["%s: %r is not of type %s" % (path, value, types)]
    if "const" in schema and value != schema["const"]:
        errs.append("%s: %r != const %r" % (path, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (path, value, schema["maximum"]))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append("%s: shorter than %d" % (path, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (path, schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                errs.append("%s: missing required %r" % (path, k))
        for k, v in value.items():
            if k in props:
                errs += validate(v, props[k], root, path + "." + k)
            elif schema.get("additionalProperties", True) is False:
                errs.append("%s: unexpected property %r" % (path, k))
    if isinstance(value, list) and "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append("%s: more than %d items" % (path, schema["maxItems"]))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errs += validate(v, schema["items"], root, "%s[%d]" % (path, i))
    return errs


def load_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:  # strict: invalid UTF-8 raises
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                raise ValueError("%s:%d: line not terminated" % (path, n))
            out.append(json.loads(line))
    return out


def cmd_validate(schema_path, jsonl_path):
    schema = json.load(open(schema_path, encoding="utf-8"))
    records = load_jsonl(jsonl_path)
    bad = 0
    for n, rec in enumerate(records, 1):
        errs = validate(rec, schema, schema)
        if errs:
            bad += 1
            if bad <= 5:
                print("%s:%d: %s" % (jsonl_path, n, "; ".join(errs[:5])))
    print("validate: %d records, %d invalid" % (len(records), bad))
    return 1 if bad or not records else 0


def cmd_selftest(schema_path, jsonl_path):
    schema = json.load(open(schema_path, encoding="utf-8"))
    rec = load_jsonl(jsonl_path)[0]
    assert not validate(rec, schema, schema), "first record must be valid"
    mutations = [
        ("score 101", lambda r: r.__setitem__("score", 101)),
        ("verdict word", lambda r: r.__setitem__("verdict", "spam")),
        ("missing source", lambda r: r.pop("source")),
        ("path null", lambda r: r["source"].__setitem__("path", None)),
        ("extra field", lambda r: r.__setitem__("extra", 1)),
        ("schema version", lambda r: r.__setitem__("schema", "hdrscan.scan/1")),
        ("score string", lambda r: r.__setitem__("score", "7")),
        ("folder number", lambda r: r["source"].__setitem__("folder", 3)),
        ("bad sha256", lambda r: r.__setitem__("sha256", "XYZ")),
        ("evidence weight string", lambda r: r.__setitem__("evidence", [{"signal": "a", "weight": "1", "where": "", "excerpt": "", "message": ""}])),
        ("error without code", lambda r: r.__setitem__("errors", [{"detail": "x"}])),
    ]
    failed = 0
    for name, mutate in mutations:
        r = json.loads(json.dumps(rec))
        mutate(r)
        if not validate(r, schema, schema):
            print("selftest: mutation %r was not rejected" % name)
            failed += 1
    print("selftest: %d mutations, %d not rejected" % (len(mutations), failed))
    return 1 if failed else 0


def cmd_mbox(out_path, files):
    with open(out_path, "wb") as out:
        for f in files:
            data = open(f, "rb").read()
            if data.startswith(b"From "):
                data = data.split(b"\n", 1)[1] if b"\n" in data else b""
            out.write(b"From hdrscan-test@example.invalid Thu Jan  1 00:00:00 2026\n")
            for line in data.splitlines(keepends=True):
                if re.match(rb">*From ", line):
                    line = b">" + line
                out.write(line)
            if not data.endswith(b"\n"):
                out.write(b"\n")
            out.write(b"\n")
    return 0


class _DomNumbers(HTMLParser):
    """Collects the data-* attributes the report's script wrote."""

    def __init__(self):
        super().__init__()
        self.by_id = {}
        self.bins = {}
        self.signals = {}
        self.flagged_rows = 0
        self.root = {}
        self.body = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "body":
            self.body = a
        if "id" in a:
            self.by_id[a["id"]] = a
        if a.get("class") == "bin":
            self.bins[int(a["data-bin"])] = int(a["data-count"])
        if a.get("class") == "signal":
            self.signals[a["data-signal"]] = int(a["data-count"])
        if a.get("class") == "flagged":
            self.flagged_rows += 1


def cmd_report(dom_path, jsonl_path, *opts):
    """The page's numbers against the JSONL. opts: --min-verdict V (what "flagged" means,
    default campaign, as scan's), --no-js (the page was loaded with scripts blocked: it must be
    complete without them, and show that no script ran)."""
    min_verdict = opts[opts.index("--min-verdict") + 1] if "--min-verdict" in opts else "campaign"
    no_js = "--no-js" in opts
    p = _DomNumbers()
    p.feed(open(dom_path, encoding="utf-8").read())
    recs = load_jsonl(jsonl_path)
    problems = []

    def check(name, got, want):
        if got != want:
            problems.append("%s: page shows %r, JSONL gives %r" % (name, got, want))

    if p.root.get("data-js-error"):
        problems.append("script error: " + p.root["data-js-error"])
    check("rendered", p.root.get("data-rendered"), None if no_js else "ok")
    total = len(recs)
    check("total", int(p.by_id.get("card-total", {}).get("data-count", -1)), total)
    for v in ("unreadable", "not_mail", "clean", "suspicious", "campaign"):
        check(v, int(p.by_id.get("card-" + v, {}).get("data-count", -1)),
              sum(1 for r in recs if r["verdict"] == v))
    hist = [0] * 10
    scored = [r for r in recs if r["score"] is not None]
    for r in scored:
        hist[min(r["score"] // 10, 9)] += 1
    check("histogram", [p.bins.get(i) for i in range(10)], hist)
    check("histogram sum", int(p.by_id.get("histogram-svg", {}).get("data-sum", -1)), len(scored))
    sig = {}
    for r in recs:
        for s in {e["signal"] for e in r["evidence"]}:
            sig[s] = sig.get(s, 0) + 1
    if not p.signals:
        problems.append("no signal rows rendered")
    for s, n in p.signals.items():
        check("signal " + s, n, sig.get(s))
    top = sorted(sig.values(), reverse=True)[: len(p.signals)]
    check("top signal counts", sorted(p.signals.values(), reverse=True), top)
    worse = ("campaign",) if min_verdict == "campaign" else ("suspicious", "campaign")
    flagged = sum(1 for r in recs if r["verdict"] in worse)
    d = p.by_id.get("flagged-definition", {})
    check("flagged definition", (d.get("data-min-verdict"), int(d.get("data-flagged", -1))), (min_verdict, flagged))
    check("flagged total", int(p.by_id.get("flagged", {}).get("data-total", -1)), flagged)
    check("flagged rows", p.flagged_rows, min(flagged, 2000))
    check("timeline total", int(p.by_id.get("timeline", {}).get("data-total", -1)), total)
    check("messages with errors", int(p.body.get("data-errors", -1)), sum(1 for r in recs if r["errors"]))
    for msg in problems:
        print("report:", msg)
    print("report: %d records, %d problems" % (total, len(problems)))
    return 1 if problems else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "validate":
        return cmd_validate(*args)
    if cmd == "selftest":
        return cmd_selftest(*args)
    if cmd == "mbox":
        return cmd_mbox(args[0], args[1:])
    if cmd == "report":
        return cmd_report(*args)
    print("unknown command", cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
