"""test_dask.py: hdrscan.dask and tools/dask_scan.py on a real distributed.LocalCluster with 2
worker processes on 127.0.0.1 (issue 21).

Inputs: a real-mail mbox (SpamAssassin ham) split into several byte ranges, a directory of
campaign mail, nested messages, a password zip without its password, an empty file and a
missing path. The output equals `hdrscan scan --format jsonl` on the same inputs record for
record (order-insensitive; seq may differ, source.index and source.offset may not), as a bag,
as a DataFrame and as the JSON Lines files of tools/dask_scan.py; each worker process built
its Analyzer at most once. Kept small (about 60 messages) for the CI budget.
"""
import contextlib
import glob
import importlib.util
import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402
import hdrscan  # noqa: E402
import hdrscan.dask  # noqa: E402
import pandas  # noqa: E402


def count_from(records, path):
    """[messages of `path` in this partition] (runs on a worker)."""
    return [sum(r["source"]["path"] == path for r in records)]


def key(r):
    return json.dumps({k: v for k, v in r.items() if k != "seq"}, sort_keys=True)


class DaskTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        support.require_shared("ham-spam/spamassassin/easy_ham")
        from distributed import Client, LocalCluster

        c = support.containers()
        cls.mbox = support.real_mbox("split.mbox", 40, start=200)
        cls.inputs = [cls.mbox, os.path.join(support.GEN, "consumer-onlist-full"),
                      os.path.join(support.GEN, "lookalike-wrapped-clean"), c["zip_pw"],
                      c["empty"], c["missing"]]
        cls.cli = support.cli_records([], *cls.inputs)
        cls.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
        cls.client = Client(cls.cluster)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.cluster.close()

    def test_bag_and_dataframe_equal_cli(self):
        size = os.path.getsize(self.mbox)
        parts = hdrscan.dask.partitions(self.inputs, partition_bytes=size // 4)
        ranges = [r for p, r in parts if p == self.mbox]
        self.assertGreaterEqual(len(ranges), 4)
        bag = hdrscan.dask.scan(self.inputs, partition_bytes=size // 4, dataframe=False)
        self.assertEqual(bag.npartitions, len(parts))
        recs = self.client.compute(bag).result()
        self.assertEqual(sorted(map(key, recs)), sorted(map(key, self.cli)))
        # The mbox really was split: several partitions hold its messages.
        per_part = self.client.compute(bag.map_partitions(count_from, self.mbox)).result()
        self.assertGreaterEqual(sum(1 for n in per_part if n > 0), 3)
        self.assertEqual(sum(per_part), 40)
        verdicts = {r["verdict"] for r in recs}
        self.assertTrue({"campaign", "clean", "unreadable"} <= verdicts, verdicts)
        self.assertTrue(any(r["nested_from"] for r in recs))
        # The DataFrame: the same rows.
        df = self.client.compute(hdrscan.dask.scan(self.inputs,
                                                   partition_bytes=size // 4)).result()
        self.assertEqual(len(df), len(self.cli))
        want = sorted((r["source"]["path"], -1 if r["source"]["index"] is None
                       else r["source"]["index"], r["sha256"], r["verdict"]) for r in self.cli)
        got = sorted((p, -1 if i is pandas.NA else int(i), s, v) for p, i, s, v in
                     zip(df["source.path"], df["source.index"], df["sha256"], df["verdict"]))
        self.assertEqual(got, want)
        # One Analyzer per worker process, not per task.
        built = self.client.run(hdrscan.dask.built_count)
        self.assertEqual(len(built), 2)
        self.assertTrue(all(n <= 1 for n in built.values()), built)

    def test_dask_scan_tool_writes_the_cli_records(self):
        out = os.path.join(support.SCRATCH, "dask-out")
        tool = os.path.join(support.SOURCE, "tools", "dask_scan.py")
        size = os.path.getsize(self.mbox)
        # Run in this process (the tool's main()), to spare the CI a second import of dask.
        spec = importlib.util.spec_from_file_location("dask_scan", tool)
        dask_scan = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(dask_scan)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = dask_scan.main([*self.inputs, "--scheduler", self.cluster.scheduler_address,
                                 "--output", out, "--partition-mb", str(size / 3 / (1 << 20))])
        self.assertEqual(rc, 2, err.getvalue())  # unreadable inputs: 2, as the CLI
        files = sorted(glob.glob(os.path.join(out, "part-*.jsonl")))
        self.assertGreaterEqual(len(files), len(self.inputs) + 2)
        recs = [json.loads(line) for f in files
                for line in support.read(f).decode("utf-8").splitlines()]
        self.assertEqual(sorted(map(key, recs)), sorted(map(key, self.cli)))
        unreadable = sum(r["verdict"] == "unreadable" for r in self.cli)
        self.assertGreaterEqual(unreadable, 3)
        self.assertIn(f"unreadable {unreadable}", err.getvalue())


if __name__ == "__main__":
    unittest.main()
