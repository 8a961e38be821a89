"""hdrscan: the email header forensic scanner's engine for Python (docs/python.md).

The same C++ engine as the `hdrscan` command: Analyzer.analyze returns, field for field, the
record `hdrscan scan --format jsonl` writes for a message; Analyzer.scan reads every input
format scan reads, with the same locations; Analyzer.explain returns `explain --format json`.
This file only normalises arguments; the work is in the native module hdrscan._hdrscan.
hdrscan.dask (imported on demand) runs scans on a Dask cluster.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

from hdrscan._hdrscan import SCHEMA, __version__, _Analyzer, input_kind

__all__ = ["Analyzer", "records_to_dataframe", "input_kind", "SCHEMA", "__version__"]

PathLike = Union[str, "os.PathLike[str]"]
_THRESHOLD_KEYS = ("suspicious", "campaign")
_DEFAULT_THRESHOLDS = {"suspicious": 30, "campaign": 60}


def _paths(value: Union[None, PathLike, Sequence[PathLike]], what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        value = [value]
    out = []
    for p in value:
        p = os.fsdecode(os.fspath(p))
        if not p:
            raise ValueError(f"{what}: empty path")
        out.append(p)
    return out


class Analyzer(_Analyzer):
    """The indicator pack and thresholds loaded once; analyses messages (thread-safe).

    indicators: a path or list of paths added to the built-in pack (``--indicators``);
    replace_indicators: used instead of the built-in pack (``--replace-indicators``);
    thresholds: ``{"suspicious": 30, "campaign": 60}`` (either key may be left out);
    passwords: a password or list of passwords for encrypted archive members.
    A bad indicator file raises ValueError("file:line: reason").
    """

    def __init__(self, indicators: Union[None, PathLike, Sequence[PathLike]] = None,
                 replace_indicators: Union[None, PathLike, Sequence[PathLike]] = None,
                 thresholds: Optional[Mapping[str, int]] = None,
                 passwords: Union[None, str, Sequence[str]] = None) -> None:
        t = dict(_DEFAULT_THRESHOLDS)
        if thresholds is not None:
            unknown = set(thresholds) - set(_THRESHOLD_KEYS)
            if unknown:
                raise ValueError(f"thresholds: unknown key(s) {sorted(unknown)}; "
                                 f"expected {list(_THRESHOLD_KEYS)}")
            for k, v in thresholds.items():
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                    raise ValueError(f"thresholds: {k} must be an integer 0-100, got {v!r}")
                t[k] = v
        if t["suspicious"] > t["campaign"]:
            raise ValueError("thresholds: suspicious must not exceed campaign")
        if isinstance(passwords, str):
            passwords = [passwords]
        super().__init__(_paths(indicators, "indicators"),
                         _paths(replace_indicators, "replace_indicators"),
                         t["suspicious"], t["campaign"], list(passwords or []))

    def scan(self, path: Union[PathLike, Sequence[PathLike]], *,
             byte_range: Optional[tuple] = None) -> Iterator[Dict[str, Any]]:
        """One record per message of PATH (or of each path of a list, in order), as
        ``hdrscan scan --format jsonl PATH...`` writes them (``seq`` included); an input that
        cannot be read is a record with verdict "unreadable". byte_range=(lo, hi): only the
        messages of a plain mbox file whose offset is in [lo, hi) (hdrscan.dask's split)."""
        return self._scan(_paths(path, "path"), byte_range)


def records_to_dataframe(records: Iterable[Mapping[str, Any]]):
    """A pandas DataFrame of scan records: one row per record, columns in record order, the
    ``source`` object flattened into ``source.path``, ``source.index``, ``source.offset``,
    ``source.member``, ``source.folder``; every other field a column as it is (lists and
    objects kept); ``score``, ``source.index`` and ``source.offset`` nullable integers
    (``Int64``)."""
    import pandas as pd

    rows = []
    for r in records:
        row = {}
        for k, v in r.items():
            if k == "source":
                for sk, sv in (v or {}).items():
                    row["source." + sk] = sv
            else:
                row[k] = v
        rows.append(row)
    df = pd.DataFrame.from_records(rows)
    # score is null for unreadable and not_mail: a nullable integer, so comparisons work.
    for col, dtype in (("seq", "int64"), ("size", "int64"), ("score", "Int64"),
                       ("source.index", "Int64"), ("source.offset", "Int64")):
        if col in df:
            df[col] = df[col].astype(dtype)
    return df
