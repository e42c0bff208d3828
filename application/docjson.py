"""JSON of view documents, by orjson: encoding, decoding and plain copies.

The text is canonical (keys sorted, no spaces) and a value JSON has no type for is
written as ``str(value)``, as ``json.dumps(..., sort_keys=True, default=str)`` did —
datetimes included (``2026-12-01 09:00:00+00:00``, not orjson's own ISO form), so a
document reads back the same whichever of the two wrote it. One difference: non-ASCII
characters are written as UTF-8, not ``\\uXXXX`` escapes (nothing hashes the stored
text; digests of views are taken of the decoded documents). What orjson refuses (an
integer beyond 64 bits, a lone surrogate) falls back to the standard library. Decoding
reads integers beyond 64 bits as floats: view documents hold none (large numbers are
kept as strings).

Imports: the standard library and orjson.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_CANONICAL = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
              | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
_PLAIN = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
          | orjson.OPT_PASSTHROUGH_DATACLASS)


def dumps(doc: Any) -> str:
    """Canonical text of ``doc`` (sorted keys, compact, ``str`` for other types)."""
    try:
        return orjson.dumps(doc, default=str, option=_CANONICAL).decode()
    except orjson.JSONEncodeError:
        return json.dumps(doc, separators=(",", ":"), sort_keys=True, default=str,
                          ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def plain_copy(doc: Any) -> Any:
    """A deep copy of ``doc`` in plain JSON values (what a store would read back)."""
    try:
        return orjson.loads(orjson.dumps(doc, default=str, option=_PLAIN))
    except orjson.JSONEncodeError:
        return json.loads(json.dumps(doc, default=str))
