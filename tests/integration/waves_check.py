#!/usr/bin/env python3
"""waves_check.py: checks hdrscan waves' sharing exports against the standards' own files.

  waves_check.py stix STANDARDS BUNDLE.json   every object of the bundle validates against the
      OASIS STIX 2.1 JSON schemas (schemas/common/bundle.json, then each object against the
      schema of its type; $refs resolved in STANDARDS/stix2.1-json-schemas/schemas), and every
      indicator pattern parses with the STIX pattern grammar (pattern_grammar/STIXPattern.g4:
      a recursive-descent checker of its observation/comparison expressions, with the lexer
      rules read from the .g4 file); references point at objects in the bundle or at the
      predefined TLP markings; ids are unique.
  waves_check.py misp STANDARDS EVENT.json    the event without its objects validates against
      MISP's strict event schema (misp/event-schema.json, which has no `Object`), the whole
      event against the lax one; every object against its template
      (misp/objects/NAME/definition.json): template uuid and version, each attribute's
      object_relation is the template's, its type the template's misp-attribute, a relation
      not marked multiple occurs once, required/requiredOneOf hold; to_ids is a boolean.
  waves_check.py selftest STANDARDS           the checkers reject broken exports.
Exit status 0 when valid; 1 with the problems listed. Needs python3-jsonschema.
"""
import copy, json, os, re, sys, urllib.parse

import jsonschema


# ---- STIX patterns --------------------------------------------------------------------

def grammar_tokens(g4):
    """Lexer rules the checker uses, read from the grammar (so a grammar change shows)."""
    text = open(g4, encoding="utf-8").read()
    want = {
        "IdentifierWithoutHyphen": "[a-zA-Z_] [a-zA-Z0-9_]*",
        "IdentifierWithHyphen": "[a-zA-Z_] [a-zA-Z0-9_-]*",
        "StringLiteral": "QUOTE ( ~['\\\\] | '\\\\\\'' | '\\\\\\\\' )* QUOTE",
    }
    for rule, body in want.items():
        m = re.search(r"^%s\s*:\s*(.*?)\s*;" % rule, text, re.M | re.S)
        if not m or " ".join(m.group(1).split()) != body:
            raise SystemExit("STIXPattern.g4: rule %s is not %r (grammar changed?)" % (rule, body))
    return {
        "ident": re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*"),
        "ident_h": re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*"),
        "string": re.compile(r"'(?:[^'\\]|\\'|\\\\)*'"),
    }


class PatternError(Exception):
    pass


class PatternParser:
    """pattern: observationExpressions (AND/OR/FOLLOWEDBY of [comparisonExpression] and
    parenthesised groups); comparisonExpression: propTests joined by AND/OR; propTest:
    objectPath [NOT] (=|==|!=|<>|LIKE|MATCHES) literal."""

    def __init__(self, toks, s):
        self.t, self.s, self.i = toks, s, 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def lit(self, w):
        self.ws()
        if self.s.startswith(w, self.i):
            self.i += len(w)
            return True
        return False

    def word(self, w):
        self.ws()
        if self.s.startswith(w, self.i) and not re.match(r"[A-Za-z0-9_]", self.s[self.i + len(w):self.i + len(w) + 1] or " "):
            self.i += len(w)
            return True
        return False

    def need(self, rx, what):
        self.ws()
        m = rx.match(self.s, self.i)
        if not m:
            raise PatternError("expected %s at %d in %r" % (what, self.i, self.s))
        self.i = m.end()
        return m.group(0)

    def parse(self):
        self.observations()
        self.ws()
        if self.i != len(self.s):
            raise PatternError("trailing text at %d in %r" % (self.i, self.s))

    def observations(self):
        self.observation()
        while self.word("AND") or self.word("OR") or self.word("FOLLOWEDBY"):
            self.observation()

    def observation(self):
        if self.lit("("):
            self.observations()
            if not self.lit(")"):
                raise PatternError("missing ) in %r" % self.s)
        elif self.lit("["):
            self.comparison()
            if not self.lit("]"):
                raise PatternError("missing ] in %r" % self.s)
        else:
            raise PatternError("expected [ or ( at %d in %r" % (self.i, self.s))

    def comparison(self):
        self.prop_test()
        while self.word("AND") or self.word("OR"):
            self.prop_test()

    def prop_test(self):
        self.need(self.t["ident_h"], "object type")
        if not self.lit(":"):
            raise PatternError("expected : in %r" % self.s)
        self.ws()
        if self.s.startswith("'", self.i):
            self.need(self.t["string"], "path")
        else:
            self.need(self.t["ident"], "property")
        while True:
            if self.lit("."):
                self.ws()
                if self.s.startswith("'", self.i):
                    self.need(self.t["string"], "path step")
                else:
                    self.need(self.t["ident"], "path step")
            elif self.s.startswith("[", self.i) and re.match(r"\[\s*(\*|-?\d+)\s*\]", self.s[self.i:]):
                self.i += re.match(r"\[\s*(\*|-?\d+)\s*\]", self.s[self.i:]).end()
            else:
                break
        self.word("NOT")
        if self.word("LIKE") or self.word("MATCHES"):
            self.need(self.t["string"], "string literal")
            return
        if not (self.lit("==") or self.lit("=") or self.lit("!=") or self.lit("<>")):
            raise PatternError("expected a comparison operator at %d in %r" % (self.i, self.s))
        self.ws()
        if self.s.startswith("'", self.i):
            self.need(self.t["string"], "string literal")
        else:
            self.need(re.compile(r"-?\d+(\.\d+)?|true|false"), "literal")


# ---- STIX bundle ----------------------------------------------------------------------

_STORE = {}


def stix_store(base):
    """Every schema of the folder under its $id (their $refs name raw GitHub addresses;
    nothing is fetched: a $ref outside the folder is an error)."""
    if not _STORE:
        for root, _dirs, files in os.walk(base):
            for f in files:
                if f.endswith(".json"):
                    s = json.load(open(os.path.join(root, f), encoding="utf-8"))
                    _STORE[s.get("$id", "file://" + os.path.join(root, f))] = s
    return _STORE


def deref(node, doc_id, store, depth=0):
    """The schema with every $ref replaced by its target (resolved against the document it
    is written in), so any jsonschema version validates it without a resolver (Debian 12's
    python3-jsonschema 4.10 and later ones alike)."""
    if depth > 60:
        raise SystemExit("waves_check: $ref nesting too deep")
    if isinstance(node, list):
        return [deref(x, doc_id, store, depth + 1) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "$ref":
            uri = urllib.parse.urljoin(doc_id, v)
            base, _, frag = uri.partition("#")
            if base not in store:
                raise SystemExit("waves_check: $ref %s is not in ../shared/standards" % uri)
            target = store[base]
            for part in [p for p in frag.split("/") if p]:
                target = target[part]
            out.setdefault("allOf", []).append(deref(target, base, store, depth + 1))
        elif k in ("$id", "$schema"):
            continue
        else:
            out[k] = deref(v, doc_id, store, depth + 1)
    return out


_VALIDATORS = {}


def stix_validator(std, name, envelope_only=False):
    if name not in _VALIDATORS:
        _VALIDATORS[name] = make_stix_validator(std, name, envelope_only)
    return _VALIDATORS[name]


def make_stix_validator(std, name, envelope_only):
    base = os.path.join(std, "stix2.1-json-schemas", "schemas")
    store = stix_store(base)
    schema = json.load(open(os.path.join(base, name), encoding="utf-8"))
    if envelope_only:
        schema = copy.deepcopy(schema)
        schema["properties"]["objects"]["items"] = {"type": "object"}
    flat = deref(schema, schema["$id"], store)
    return jsonschema.Draft202012Validator(flat, format_checker=jsonschema.FormatChecker())


SCHEMA_OF = {"identity": "sdos/identity.json", "campaign": "sdos/campaign.json",
             "indicator": "sdos/indicator.json", "relationship": "sros/relationship.json",
             "sighting": "sros/sighting.json", "marking-definition": "common/marking-definition.json",
             # with --include-recipients
             "observed-data": "sdos/observed-data.json", "email-addr": "observables/email-addr.json",
             "email-message": "observables/email-message.json"}
TLP_IDS = {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
           "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
           "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
           "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}


def check_stix(std, bundle):
    errs = []
    toks = grammar_tokens(os.path.join(std, "stix2.1-json-schemas", "pattern_grammar", "STIXPattern.g4"))
    # The bundle's envelope against bundle.json; its items' anyOf over every STIX type is
    # checked below, each object against the schema of its own type (the same check, without
    # trying all ~40 schemas on each object).
    envelope = dict(bundle, objects=[{} for _ in bundle.get("objects", [])])
    for e in stix_validator(std, "common/bundle.json", envelope_only=True).iter_errors(envelope):
        errs.append("bundle: %s" % e.message)
    objs = bundle.get("objects", [])
    ids = [o.get("id") for o in objs]
    if len(ids) != len(set(ids)):
        errs.append("duplicate ids")
    known = set(ids) | TLP_IDS
    for o in objs:
        t = o.get("type")
        if t not in SCHEMA_OF:
            errs.append("%s: type %s not expected" % (o.get("id"), t))
            continue
        for e in stix_validator(std, SCHEMA_OF[t]).iter_errors(o):
            errs.append("%s: %s" % (o.get("id"), e.message))
        for k, v in o.items():
            refs = v if k.endswith("_refs") else [v] if k.endswith("_ref") else []
            for r in refs:
                if r not in known:
                    errs.append("%s: %s points at %s, not in the bundle" % (o.get("id"), k, r))
        if t == "indicator":
            try:
                PatternParser(toks, o["pattern"]).parse()
            except PatternError as ex:
                errs.append("%s: pattern: %s" % (o["id"], ex))
    return errs


# ---- MISP event -----------------------------------------------------------------------

def check_misp(std, doc):
    errs = []
    misp = os.path.join(std, "misp")
    strict = json.load(open(os.path.join(misp, "event-schema.json"), encoding="utf-8"))
    lax = json.load(open(os.path.join(misp, "event-schema-lax.json"), encoding="utf-8"))
    no_objects = copy.deepcopy(doc)
    no_objects.get("Event", {}).pop("Object", None)
    for e in jsonschema.Draft4Validator(strict).iter_errors(no_objects):
        errs.append("strict event schema: %s" % e.message)
    for e in jsonschema.Draft4Validator(lax).iter_errors(doc):
        errs.append("lax event schema: %s" % e.message)
    for o in doc.get("Event", {}).get("Object", []):
        name = o.get("name", "")
        dpath = os.path.join(misp, "objects", name, "definition.json")
        if not re.fullmatch(r"[a-z0-9-]+", name) or not os.path.isfile(dpath):
            errs.append("object %r: no template" % name)
            continue
        d = json.load(open(dpath, encoding="utf-8"))
        if o.get("template_uuid") != d["uuid"] or o.get("template_version") != str(d["version"]):
            errs.append("object %s: template uuid/version %s/%s, template has %s/%s" % (
                name, o.get("template_uuid"), o.get("template_version"), d["uuid"], d["version"]))
        if o.get("meta-category") != d["meta-category"]:
            errs.append("object %s: meta-category %s" % (name, o.get("meta-category")))
        rels = {}
        for a in o.get("Attribute", []):
            rel = a.get("object_relation")
            spec = d["attributes"].get(rel)
            if spec is None:
                errs.append("object %s: relation %r not in the template" % (name, rel))
                continue
            if a.get("type") != spec["misp-attribute"]:
                errs.append("object %s: %s has type %s, template says %s" % (name, rel, a.get("type"), spec["misp-attribute"]))
            if "categories" in spec and a.get("category") not in spec["categories"]:
                errs.append("object %s: %s category %s not in %s" % (name, rel, a.get("category"), spec["categories"]))
            if not isinstance(a.get("to_ids"), bool):
                errs.append("object %s: %s to_ids not a boolean" % (name, rel))
            if not isinstance(a.get("value"), str) or not a["value"]:
                errs.append("object %s: %s without a value" % (name, rel))
            rels[rel] = rels.get(rel, 0) + 1
            attr_schema = {"$ref": "#/defs/attribute", "defs": strict["defs"]}
            bare = {k: v for k, v in a.items() if k != "object_relation"}
            for e in jsonschema.Draft4Validator(attr_schema).iter_errors(bare):
                errs.append("object %s: %s: %s" % (name, rel, e.message))
        for rel, n in rels.items():
            if n > 1 and not d["attributes"][rel].get("multiple"):
                errs.append("object %s: %s occurs %d times, not multiple" % (name, rel, n))
        for rel in d.get("required", []):
            if rel not in rels:
                errs.append("object %s: required %s missing" % (name, rel))
        if d.get("requiredOneOf") and not any(r in rels for r in d["requiredOneOf"]):
            errs.append("object %s: none of %s" % (name, d["requiredOneOf"]))
    return errs


def selftest(std, stix, misp, require_all=False):
    """Broken copies of good exports must be refused. Cases that need a URL indicator, an
    email-message or a MISP url object run only when the exports hold one; with require_all
    (`selftest ... --all`) a case that cannot run is a failure, not a silent pass."""
    bad = []
    missing = []
    b = copy.deepcopy(stix)
    ind = next(o for o in b["objects"] if o["type"] == "indicator")
    ind["pattern"] = "[ipv4-addr:value = '1.2.3.4'"
    bad.append(("stix: unclosed pattern", check_stix(std, b)))
    b = copy.deepcopy(stix)
    next(o for o in b["objects"] if o["type"] == "campaign")["created"] = "yesterday"
    bad.append(("stix: bad timestamp", check_stix(std, b)))
    b = copy.deepcopy(stix)
    next(o for o in b["objects"] if o["type"] == "relationship")["target_ref"] = "campaign--00000000-0000-5000-8000-000000000000"
    bad.append(("stix: dangling reference", check_stix(std, b)))
    m = copy.deepcopy(misp)
    m["Event"]["Object"][0]["Attribute"][0]["type"] = "url"
    bad.append(("misp: attribute type", check_misp(std, m)))
    b = copy.deepcopy(stix)
    urls = [o for o in b["objects"] if o["type"] == "indicator" and o["pattern"].startswith("[url:")]
    if urls:
        urls[0]["pattern"] = "[url:value = 'http://x/it's']"
        bad.append(("stix: unescaped quote in a url pattern", check_stix(std, b)))
    else:
        missing.append("STIX url indicator")
    b = copy.deepcopy(stix)
    msgs = [o for o in b["objects"] if o["type"] == "email-message"]
    if msgs:
        msgs[0]["to_refs"] = []
        bad.append(("stix: email-message with empty to_refs", check_stix(std, b)))
    else:
        missing.append("STIX email-message")
    m = copy.deepcopy(misp)
    objs = [o for o in m["Event"]["Object"] if o["name"] == "url"]
    if objs:
        objs[0]["Attribute"] = [a for a in objs[0]["Attribute"] if a["object_relation"] != "url"]
        bad.append(("misp: url object without url", check_misp(std, m)))
    else:
        missing.append("MISP url object")
    m = copy.deepcopy(misp)
    m["Event"]["date"] = 20220601
    bad.append(("misp: date not a string", check_misp(std, m)))
    m = copy.deepcopy(misp)
    m["Event"]["Object"][0]["Attribute"].append(dict(m["Event"]["Object"][0]["Attribute"][0]))
    m["Event"]["Object"][0]["Attribute"][-1]["object_relation"] = "no-such-relation"
    bad.append(("misp: unknown relation", check_misp(std, m)))
    ok = True
    for what in missing:
        print("selftest: %s: the exports given hold no %s" % ("FAIL" if require_all else "not run", what))
        ok = ok and not require_all
    for what, errs in bad:
        if not errs:
            print("selftest: %s was accepted" % what)
            ok = False
    return ok


def main(argv):
    cmd, std = argv[1], argv[2]
    if cmd == "selftest":
        ok = selftest(std, json.load(open(argv[3])), json.load(open(argv[4])), "--all" in argv[5:])
        sys.exit(0 if ok else 1)
    doc = json.load(open(argv[3], encoding="utf-8"))
    errs = check_stix(std, doc) if cmd == "stix" else check_misp(std, doc)
    for e in errs[:30]:
        print(e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main(sys.argv)
