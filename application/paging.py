"""Cursor paging for every list: ``limit`` items after an opaque ``cursor``.

A cursor is the sort key of the last item handed out (base64url of its JSON), never an
offset: items written meanwhile before the cursor do not shift the next page, so
following ``next_cursor`` yields every item that was there from the start exactly once,
while writes go on. Each list sorts by a key that is unique and does not change over an
item's life (an id, a ``seq``, a personnummer's sort key followed by an id).

Imports: the standard library and the domain only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInputError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

SortKey = tuple[Any, ...]
Doc = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    next_cursor: str | None

    def as_dict(self) -> Doc:
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(key: SortKey) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> SortKey | None:
    """The sort key a cursor stands for; 422 for anything this service did not make."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidInputError("cursor is not a cursor this list handed out",
                                field="cursor") from None
    if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        raise InvalidInputError("cursor is not a cursor this list handed out", field="cursor")
    return tuple(value)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def page_of(rows: Iterable[Doc], key: Callable[[Doc], SortKey], limit: int,
            cursor: str | None) -> Page:
    """One page of ``rows`` (any order) sorted by ``key``, after ``cursor``."""
    check_limit(limit)
    after = decode_cursor(cursor)
    keyed = [(key(r), r) for r in rows]
    if after is not None:
        try:
            keyed = [(k, r) for k, r in keyed if k > after]
        except TypeError:
            raise InvalidInputError("cursor is not a cursor this list handed out",
                                    field="cursor") from None
    keyed.sort(key=lambda kr: kr[0])
    chosen = keyed[:limit]
    more = len(keyed) > limit
    return Page([r for _, r in chosen], encode_cursor(chosen[-1][0]) if more else None)


def page_in_order(rows: Sequence[Doc], id_field: str, limit: int, cursor: str | None) -> Page:
    """One page of ``rows``, kept in the order given, after the row whose ``id_field`` the
    cursor names. For a list whose order rests on something the reader may not see (the
    shelf list is in personnummer order for every reader, the auditor included): the
    cursor holds only the last row's id, never the sort key. Rows added meanwhile before
    the cursor do not shift the next page; a cursor whose row left the list is refused
    (422), and the reader starts again."""
    check_limit(limit)
    after = decode_cursor(cursor)
    start = 0
    if after is not None:
        if len(after) != 1 or not isinstance(after[0], str):
            raise InvalidInputError("cursor is not a cursor this list handed out",
                                    field="cursor")
        ids = [str(r[id_field]) for r in rows]
        try:
            start = ids.index(after[0]) + 1
        except ValueError:
            raise InvalidInputError("the item this cursor continues after is no longer on "
                                    "the list; start again without a cursor",
                                    field="cursor") from None
    chosen = list(rows[start:start + limit])
    more = len(rows) > start + limit
    return Page(chosen, encode_cursor((str(chosen[-1][id_field]),)) if more else None)
