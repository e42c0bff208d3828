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


SHARD_DIGITS = 3
"""How many leading hex digits of a record id pick its posting list: 4,096 lists per
token. With one digit (16 lists, the first layout) a common surname's list grew with the
store (12,500 ids per list at 200,000 students named alike) and every capture rewrote
it: the live projection's cost per event grew 6.9 times from 2,000 to 200,000 students.
With three digits a list holds about 50 ids at 200,000 and 270 at 1.1 million."""

HEX = "0123456789abcdef"


def shard_of(record_id: str) -> str:
    """The posting list a record's entry goes to: the record id's first
    :data:`SHARD_DIGITS` hex digits."""
    return record_id[:SHARD_DIGITS]


SHARDS: tuple[str, ...] = tuple(
    a + b + c for a in HEX for b in HEX for c in HEX) + tuple(HEX)
"""Every posting list of a token a search reads: the 4,096 of this layout, and the 16
of the first layout (one digit), which stores projected before it still hold until their
views are rebuilt (``custody projections rebuild``)."""
