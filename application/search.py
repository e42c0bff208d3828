"""Name tokens for the records search's blind index.

A name is cut into tokens that a search can match whatever the case, accents or
punctuation: ``"Åsa-Lena  Öberg"`` → ``["asa", "lena", "oberg"]`` (NFKD, combining marks
dropped, case-folded, split on anything that is not a letter or digit). The projector
stores one keyed HMAC per token (``SearchIndex.name_token_key``), never the token; a
search looks up the HMAC of each token of the query and keeps the records that have all.

Imports: the standard library only.
"""

from __future__ import annotations

import re
import unicodedata

_SPLIT = re.compile(r"[^\w]+|_", re.UNICODE)
MAX_TOKENS = 8


def name_tokens(text: str) -> list[str]:
    """The distinct normalised tokens of ``text``, in order of appearance."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    seen: list[str] = []
    for token in _SPLIT.split(plain):
        if token and token not in seen:
            seen.append(token)
    return seen[:MAX_TOKENS]


def shard_of(record_id: str) -> str:
    """The posting list a record's entry goes to: the record id's first hex digit (16
    lists per token, so a common surname's list stays small to rewrite)."""
    return record_id[:1]


SHARDS = "0123456789abcdef"
