"""hdrscan.dask: scan records of many inputs on a Dask cluster (docs/scale.md).

One entry point, scan(inputs, ...): a list of inputs (files, directories, mbox, Maildir, zip,
tar, 7z, compressed files, .msg, PST: any path `hdrscan scan` reads, on storage every worker
can read) in, a Dask DataFrame (or bag) of scan records out, one record per message exactly as
`hdrscan scan --format jsonl` writes it (seq aside: it is the message's number within its own
input, not over all inputs).

Partitions: one per input, except a plain mbox file larger than partition_bytes, which is split
into byte ranges: a partition takes the messages whose offset (the first byte after the "From "
line) falls in its range, so every message belongs to exactly one range and the cuts are at
message boundaries whatever the byte numbers. Its worker reads the mbox from the start with the
real mbox reader (Content-Length, mboxrd and the strict "From " rules are the reader's, not
guessed from a byte position), drops the messages before its range without analysing them
(reading is about 50 times cheaper than analysis) and stops after its range; so source.index
and source.offset are those of the CLI without a counting pass. A compressed mbox (.mbox.gz)
cannot be entered in the middle: it is one partition (give big corpora uncompressed, or as many
files). A directory is one partition: pass its subdirectories or files to spread it.
The Analyzer (indicator pack, thresholds, passwords) is built once per worker process, on first
use, and kept for every later task with the same settings (not per task; not pickled).
Errors: an input that cannot be read is a record with verdict "unreadable" (as in the CLI); a
bad indicator file fails the computation with ValueError("file:line: reason"), raised on the
client as well when the graph is built.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import hdrscan

__all__ = ["scan", "partitions"]

DEFAULT_PARTITION_BYTES = 256 << 20
_LAST = (1 << 63)  # the last range of an mbox ends past any file size

_lock = threading.Lock()
_analyzers: Dict[tuple, "hdrscan.Analyzer"] = {}
_built = 0  # Analyzers built in this process (tests check: once per worker)


def _settings(indicators, replace_indicators, thresholds, passwords) -> tuple:
    def paths(v):
        if v is None:
            return ()
        if isinstance(v, (str, bytes, os.PathLike)):
            v = [v]
        return tuple(os.fsdecode(os.fspath(p)) for p in v)

    if isinstance(passwords, str):
        passwords = [passwords]
    return (paths(indicators), paths(replace_indicators),
            tuple(sorted((thresholds or {}).items())), tuple(passwords or ()))


def _analyzer(settings: tuple) -> "hdrscan.Analyzer":
    """This process's Analyzer for these settings, built on first use."""
    global _built
    with _lock:
        a = _analyzers.get(settings)
        if a is None:
            ind, rep, thr, pw = settings
            a = hdrscan.Analyzer(indicators=list(ind), replace_indicators=list(rep),
                                 thresholds=dict(thr), passwords=list(pw))
            _analyzers[settings] = a
            _built += 1
        return a


def built_count() -> int:
    """How many Analyzers this process built (one per worker process and settings)."""
    return _built


def partitions(inputs: Sequence[Union[str, os.PathLike]],
               partition_bytes: int = DEFAULT_PARTITION_BYTES
               ) -> List[Tuple[str, Optional[Tuple[int, int]]]]:
    """The partitions scan() makes: (path, None) for a whole input, (path, (lo, hi)) for the
    messages of a plain mbox file whose offset is in [lo, hi)."""
    if partition_bytes < 1:
        raise ValueError("partition_bytes must be positive")
    out = []
    for p in inputs:
        p = os.fsdecode(os.fspath(p))
        try:
            size = os.stat(p).st_size if os.path.isfile(p) else 0
        except OSError:
            size = 0
        if size > partition_bytes and hdrscan.input_kind(p) == "mbox":
            cuts = list(range(0, size, partition_bytes))
            for i, lo in enumerate(cuts):
                hi = cuts[i + 1] if i + 1 < len(cuts) else _LAST
                out.append((p, (lo, hi)))
        else:
            out.append((p, None))
    return out


def _scan_partition(settings: tuple, path: str,
                    byte_range: Optional[Tuple[int, int]]) -> List[Dict[str, Any]]:
    return list(_analyzer(settings).scan(path, byte_range=byte_range))


def _frame(records: List[Dict[str, Any]], columns):
    return hdrscan.records_to_dataframe(records).reindex(columns=columns)


def scan(inputs: Sequence[Union[str, os.PathLike]], *, indicators=None,
         replace_indicators=None, thresholds=None, passwords=None,
         partition_bytes: int = DEFAULT_PARTITION_BYTES, dataframe: bool = True):
    """Scan records of `inputs` as a dask.dataframe.DataFrame (dataframe=True: columns as
    hdrscan.records_to_dataframe makes them) or a dask.bag.Bag of record dicts; lazy: compute
    it on the client or scheduler of your choice. The Analyzer options are those of
    hdrscan.Analyzer."""
    import dask
    import dask.bag as db

    settings = _settings(indicators, replace_indicators, thresholds, passwords)
    # Fail here, not on the workers, for a bad indicator file or option.
    probe = hdrscan.Analyzer(indicators=list(settings[0]), replace_indicators=list(settings[1]),
                             thresholds=dict(settings[2]), passwords=list(settings[3]))
    parts = [dask.delayed(_scan_partition, pure=True)(settings, p, r)
             for p, r in partitions(inputs, partition_bytes)]
    if not dataframe:
        return db.from_delayed(parts)
    import dask.dataframe as dd

    meta = hdrscan.records_to_dataframe([probe.analyze(b"")]).iloc[:0]
    frames = [dask.delayed(_frame, pure=True)(p, list(meta.columns)) for p in parts]
    return dd.from_delayed(frames, meta=meta, verify_meta=False)
