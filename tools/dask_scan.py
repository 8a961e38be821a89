#!/usr/bin/env python3
"""dask_scan.py: `hdrscan scan` on a Dask cluster (issue 21; docs/scale.md).

Usage: tools/dask_scan.py INPUT... --scheduler ADDRESS|local --output DIR
         [--workers N] [--partition-mb MB] [--password PW] [--password-file FILE]
         [--indicators FILE] [--replace-indicators FILE] [--suspicious-at N] [--campaign-at N]
Writes DIR/part-NNNNN.jsonl, one JSON Lines file per partition (hdrscan.dask.scan: one per
input, a big plain mbox split by byte ranges), each line a record as `hdrscan scan --format
jsonl` writes it (seq: the message's number within its input); also DIR/parquet/ when pyarrow
is installed (Debian 12 has none). --scheduler local starts a distributed.LocalCluster of
--workers processes (one thread each) on 127.0.0.1; ADDRESS is a running scheduler
(tcp://host:8786) whose workers can import hdrscan and read the inputs at the same paths.
Exit status as scan's: 2 if a record is unreadable, else 1 if one is at or above
--min-verdict (campaign), else 0. Counts by verdict go to standard error.
"""
import argparse
import json
import os
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", metavar="INPUT")
    ap.add_argument("--scheduler", required=True, help="ADDRESS of a scheduler, or local")
    ap.add_argument("--output", required=True, metavar="DIR")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="worker processes of --scheduler local")
    ap.add_argument("--partition-mb", type=float, default=256,
                    help="split plain mbox files into ranges of this many MiB")
    ap.add_argument("--password", action="append", default=[])
    ap.add_argument("--password-file")
    ap.add_argument("--indicators", action="append", default=[])
    ap.add_argument("--replace-indicators", action="append", default=[])
    ap.add_argument("--suspicious-at", type=int)
    ap.add_argument("--campaign-at", type=int)
    ap.add_argument("--min-verdict", choices=["suspicious", "campaign"], default="campaign")
    o = ap.parse_args(argv)

    import dask
    import dask.bag as db  # noqa: F401 (to_textfiles)
    from distributed import Client, LocalCluster

    import hdrscan.dask

    passwords = list(o.password)
    if o.password_file:
        with open(o.password_file, encoding="utf-8") as f:
            passwords += [line.rstrip("\r\n") for line in f if line.rstrip("\r\n")]
    if os.environ.get("HDRSCAN_PASSWORD"):
        passwords.append(os.environ["HDRSCAN_PASSWORD"])
    thresholds = {}
    if o.suspicious_at is not None:
        thresholds["suspicious"] = o.suspicious_at
    if o.campaign_at is not None:
        thresholds["campaign"] = o.campaign_at
    try:
        bag = hdrscan.dask.scan(o.inputs, indicators=o.indicators or None,
                                replace_indicators=o.replace_indicators or None,
                                thresholds=thresholds or None, passwords=passwords or None,
                                partition_bytes=max(1, int(o.partition_mb * (1 << 20))),
                                dataframe=False)
    except ValueError as e:
        print(f"dask_scan: {e}", file=sys.stderr)
        return 2

    cluster = None
    if o.scheduler == "local":
        cluster = LocalCluster(n_workers=o.workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(o.scheduler)
    try:
        os.makedirs(o.output, exist_ok=True)
        lines = bag.map(lambda r: json.dumps(r, ensure_ascii=False, separators=(",", ":")))
        counts = bag.pluck("verdict").frequencies()
        written, freq = dask.compute(
            lines.to_textfiles(os.path.join(o.output, "part-*.jsonl"),
                               name_function=lambda i: f"{i:05d}", compute=False),
            counts)
        try:
            import pyarrow  # noqa: F401

            hdrscan.dask.scan(o.inputs, indicators=o.indicators or None,
                              replace_indicators=o.replace_indicators or None,
                              thresholds=thresholds or None, passwords=passwords or None,
                              partition_bytes=max(1, int(o.partition_mb * (1 << 20)))
                              ).to_parquet(os.path.join(o.output, "parquet"))
        except ImportError:
            pass
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    freq = dict(freq)
    print("dask_scan: " + ", ".join(f"{k} {v}" for k, v in sorted(freq.items())),
          file=sys.stderr)
    if freq.get("unreadable"):
        return 2
    flagged = freq.get("campaign", 0) + (freq.get("suspicious", 0)
                                         if o.min_verdict == "suspicious" else 0)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
