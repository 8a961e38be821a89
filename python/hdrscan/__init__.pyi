# Type stub of the hdrscan package (docs/python.md). Records are plain dicts shaped as the
# JSON Lines record of `hdrscan scan --format jsonl` (docs/output-schema.json).
import os
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import pandas

__version__: str
SCHEMA: str  # "hdrscan.scan/2"

PathLike = Union[str, os.PathLike[str]]
Record = Dict[str, Any]

class Analyzer:
    def __init__(self, indicators: Union[None, PathLike, Sequence[PathLike]] = ...,
                 replace_indicators: Union[None, PathLike, Sequence[PathLike]] = ...,
                 thresholds: Optional[Mapping[str, int]] = ...,
                 passwords: Union[None, str, Sequence[str]] = ...) -> None: ...
    def analyze(self, data: bytes, *, location: Optional[str] = ...) -> Record: ...
    def scan(self, path: Union[PathLike, Sequence[PathLike]], *,
             byte_range: Optional[Tuple[int, int]] = ...) -> Iterator[Record]: ...
    def explain(self, data: bytes, *, location: Optional[str] = ...) -> Dict[str, Any]: ...

def records_to_dataframe(records: Iterable[Mapping[str, Any]]) -> pandas.DataFrame: ...
def input_kind(path: str) -> str: ...
