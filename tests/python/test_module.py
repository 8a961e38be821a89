"""test_module.py: the Python module against the CLI on real inputs (issue 21).

Analyzer.scan over every input kind (eml, mbox, mbox.gz, password zip, tar.gz of a Maildir,
Outlook .msg and PST, nested messages, an empty file, a missing path) yields exactly the
records of `hdrscan scan --format jsonl` (seq included); Analyzer.analyze gives each single
file's record field for field; explain equals `explain --format json`; options (indicators,
thresholds, passwords) act as the CLI's; analysis from a thread pool gives the same records;
hostile input (the malformed sets, cut and binary-damaged copies, the fuzz regressions) never
crashes the interpreter. No timing here (tools/bench_python.py measures).
"""
import glob
import json
import os
import random
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
import hdrscan  # noqa: E402

VERDICTS = {"campaign", "suspicious", "clean", "unreadable", "not_mail"}


def without_seq(r):
    return {k: v for k, v in r.items() if k != "seq"}


class ModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.relays, cls.msg, cls.pst, cls.malformed = support.require_shared(
            "dev_relays", "outlook/msg", "outlook/pst", "malformed")
        cls.inputs = support.containers()
        cls.an = hdrscan.Analyzer()

    def test_scan_equals_cli_for_every_input_kind(self):
        c = self.inputs
        paths = [os.path.join(support.GEN, "consumer-onlist-full"),
                 os.path.join(support.GEN, "lookalike-wrapped-clean"),  # nested messages
                 os.path.join(support.GEN, "lookalike-zip-clean"),
                 support.real_mbox("scan.mbox", 15), c["mbox_gz"], c["zip_pw"], c["tar_gz"],
                 self.msg, self.pst, c["empty"], c["missing"]]
        cli = support.cli_records([], *paths)
        mine = list(self.an.scan(paths))
        self.assertEqual(len(mine), len(cli))
        self.assertEqual(mine, cli)
        verdicts = {r["verdict"] for r in mine}
        self.assertTrue({"campaign", "clean", "unreadable"} <= verdicts, verdicts)
        self.assertTrue(any(r["nested_from"] for r in mine), "no nested message scanned")
        self.assertTrue(any(r["source"]["index"] == 14 for r in mine), "mbox not split")
        codes = {e["code"] for r in mine for e in r["errors"]}
        self.assertTrue({"not_found", "empty_input", "encrypted_no_password"} <= codes, codes)
        # One path as a str, and a PathLike, give the same.
        import pathlib
        self.assertEqual(list(self.an.scan(pathlib.Path(c["mbox_gz"]))),
                         support.cli_records([], c["mbox_gz"]))

    def test_passwords_thresholds_indicators_as_the_cli(self):
        c = self.inputs
        an = hdrscan.Analyzer(passwords=support.PASSWORD, thresholds={"suspicious": 20,
                                                                      "campaign": 50})
        cli = support.cli_records(["--password", support.PASSWORD, "--suspicious-at", "20",
                                   "--campaign-at", "50"], c["zip_pw"], self.relays)
        mine = list(an.scan([c["zip_pw"], self.relays]))
        self.assertEqual(mine, cli)
        self.assertEqual(mine[0]["verdict"], "campaign")  # decrypted, then analysed
        self.assertEqual([e for r in mine[:2] for e in r["errors"]], [])
        # An indicator file: added (--indicators) and instead of the pack (--replace-indicators).
        ind = os.path.join(support.SCRATCH, "extra.ind")
        with open(ind, "w") as f:
            f.write("@format hdrscan-indicators 1\n@source test\nconnector-ip 172.105.33.240\n")
        for kw, opt in (("indicators", "--indicators"), ("replace_indicators",
                                                         "--replace-indicators")):
            an = hdrscan.Analyzer(**{kw: [ind]})
            self.assertEqual(list(an.scan(self.relays)),
                             support.cli_records([opt, ind], self.relays), kw)

    def test_bad_options_raise_value_error(self):
        bad = os.path.join(support.SCRATCH, "bad.ind")
        with open(bad, "w") as f:
            f.write("@format hdrscan-indicators 1\n@source test\nno-such-kind value\n")
        with self.assertRaises(ValueError) as e:
            hdrscan.Analyzer(indicators=bad)
        self.assertTrue(str(e.exception).startswith(bad + ":3: "), str(e.exception))
        with self.assertRaises(ValueError) as e:
            hdrscan.Analyzer(replace_indicators=bad + ".missing")
        self.assertIn(".missing:0:", str(e.exception))
        for t in ({"campaing": 60}, {"suspicious": 70, "campaign": 60}, {"campaign": "60"}):
            with self.assertRaises(ValueError):
                hdrscan.Analyzer(thresholds=t)
        with self.assertRaises(ValueError):
            self.an.analyze(b"From: a@b\n\nx", location="box.mbox#notanumber")

    def test_analyze_equals_cli_per_file(self):
        files = [os.path.join(self.relays, f) for f in sorted(os.listdir(self.relays))[:30]]
        files += [os.path.join(support.SAMPLES, f) for f in sorted(os.listdir(support.SAMPLES))]
        files += [self.inputs["empty"]]
        cli = support.cli_records([], *files)
        self.assertEqual(len(cli), len(files))
        for f, want in zip(files, cli):
            got = self.an.analyze(support.read(f), location=f)
            self.assertEqual(without_seq(got), without_seq(want), f)
        # An mbox message, given with its location, is analysed as scan framed it.
        mbox = support.real_mbox("one.mbox", 3)
        rec = support.cli_records([], mbox)[2]
        raw = support.read(mbox)[rec["source"]["offset"]:][:rec["size"]]
        loc = f'{mbox}#{rec["source"]["index"]}@{rec["source"]["offset"]}'
        self.assertEqual(without_seq(self.an.analyze(raw, location=loc)), without_seq(rec))
        # Without a location the source is "-", as for standard input.
        self.assertEqual(self.an.analyze(raw)["source"]["path"], "-")

    def test_explain_equals_cli(self):
        wrapped = os.path.join(support.SAMPLES, "campaign-wrapped-report.eml")
        for f in (os.path.join(support.GEN, "consumer-onlist-full", "0001.eml"),
                  os.path.join(self.relays, sorted(os.listdir(self.relays))[0]), wrapped):
            self.assertEqual(self.an.explain(support.read(f), location=f),
                             support.cli_explain(f))
        # A wrapper: the attached message that gave the verdict, in full (issue 18).
        self.assertEqual(self.an.explain(support.read(wrapped))["nested"]["path"], "nested[0]")
        with self.assertRaisesRegex(ValueError, "empty_input"):
            self.an.explain(b"")
        with self.assertRaisesRegex(ValueError, "not_mail"):
            self.an.explain(b"\x7fELF\x02\x01\x01\x00" + bytes(200))

    def test_thread_pool_gives_the_same_records(self):
        files = [os.path.join(self.relays, f) for f in sorted(os.listdir(self.relays))]
        data = [support.read(f) for f in files]
        one = [self.an.analyze(d, location=f) for f, d in zip(files, data)]
        with ThreadPoolExecutor(4) as pool:
            four = list(pool.map(lambda fd: self.an.analyze(fd[1], location=fd[0]),
                                 zip(files, data)))
        self.assertEqual(four, one)

    def test_hostile_input_never_crashes(self):
        # The malformed sets (the fuzz seeds' source), each also cut at a random point and with
        # random bytes flipped, and the fuzz regressions kept in tests/regress.
        rnd = random.Random(21)
        paths = []
        for root in (self.malformed, os.path.join(support.SOURCE, "tests", "regress"),
                     os.path.join(support.SOURCE, "tests", "data", "scan")):
            for d, _, fs in os.walk(root):
                paths += [os.path.join(d, f) for f in fs]
        paths = sorted(p for p in paths if os.path.getsize(p) <= 256 * 1024)
        self.assertGreater(len(paths), 1000)
        seen = set()
        for p in rnd.sample(paths, 400):
            data = support.read(p)
            cut = data[:rnd.randrange(len(data) + 1)]
            flipped = bytearray(data)
            for _ in range(min(16, len(flipped))):
                flipped[rnd.randrange(len(flipped))] = rnd.randrange(256)
            for d in (data, cut, bytes(flipped)):
                try:
                    r = self.an.analyze(d, location=p)
                except ValueError as e:  # documented: several messages are scan's to read
                    self.assertIn("several concatenated messages", str(e))
                    seen.add("concatenated")
                    continue
                self.assertIn(r["verdict"], VERDICTS, p)
                self.assertNotIn("internal_error", [e["code"] for e in r["errors"]], p)
                seen.add(r["verdict"])
                if r["verdict"] not in ("unreadable", "not_mail"):
                    self.assertEqual(self.an.explain(d, location=p)["verdict"], r["verdict"])
        self.assertTrue({"clean", "unreadable"} <= seen, seen)
        # What libFuzzer found for the pipeline harness (raw message bytes), where a fuzzing run
        # left its working corpus and crash inputs (tools/fuzz-run.sh: build-fuzz/ in the
        # checkout, as CI runs it); a fresh checkout has none yet, and the sets above stand.
        fuzz = os.path.join(support.SOURCE, "build-fuzz")
        found = sorted(glob.glob(os.path.join(fuzz, "corpus", "fuzz_pipeline", "*")) +
                       glob.glob(os.path.join(fuzz, "crashes", "fuzz_pipeline", "*")))
        print(f"fuzz_pipeline corpus replayed: {min(len(found), 1000)} of {len(found)} inputs "
              f"from {fuzz}")
        for p in rnd.sample(found, min(len(found), 1000)):
            r = self.an.analyze(support.read(p)[:1 << 20], location="-#0")
            self.assertIn(r["verdict"], VERDICTS, p)
            self.assertNotIn("internal_error", [e["code"] for e in r["errors"]], p)

    def test_records_to_dataframe(self):
        recs = list(self.an.scan(self.relays))
        import pandas
        hdrscan_na = pandas.NA
        recs.append(self.an.analyze(b""))  # unreadable: score null
        df = hdrscan.records_to_dataframe(recs)
        self.assertEqual(len(df), len(recs))
        self.assertEqual(list(df["source.path"]), [r["source"]["path"] for r in recs])
        self.assertEqual([None if v is hdrscan_na else int(v) for v in df["score"]],
                         [r["score"] for r in recs])
        self.assertEqual(str(df["score"].dtype), "Int64")
        self.assertEqual(len(df[df["score"] >= 30]),
                         sum(r["score"] is not None and r["score"] >= 30 for r in recs))
        self.assertEqual(df["verdict"].value_counts().to_dict(),
                         {v: sum(r["verdict"] == v for r in recs)
                          for v in {r["verdict"] for r in recs}})


if __name__ == "__main__":
    unittest.main()
