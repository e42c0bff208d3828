"""The same views in memory, for replaying up to a moment (as-of queries, offline checks)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from application.ports import (
    Doc,
    ViewWriter,
)


class MemoryViewStore:
    """The same views in memory: for replaying up to a moment (as-of queries)."""

    def __init__(self) -> None:
        self._docs: dict[tuple[str, str], Doc] = {}
        self._position = 0

    def position(self) -> int:
        return self._position

    def apply(self, expected_position: int, new_position: int,
              change: Callable[[ViewWriter], None], hints: Sequence[str] = ()) -> None:
        if expected_position != self._position:
            raise RuntimeError("position moved")
        staged = _Staged(self)
        change(staged)
        self._docs.update(staged.changes)
        self._position = new_position

    def get(self, view: str, key: str) -> Doc | None:
        doc = self._docs.get((view, key))
        return json.loads(json.dumps(doc)) if doc is not None else None

    def get_many(self, view: str, keys: Sequence[str]) -> list[Doc]:
        return [doc for doc in (self.get(view, key) for key in keys) if doc is not None]

    def find(self, view: str, **where: str | None) -> list[Doc]:
        return [json.loads(json.dumps(d)) for (v, _), d in self._docs.items()
                if v == view and all(d.get(k) == val for k, val in where.items())]

    def all(self, view: str) -> list[Doc]:
        return self.find(view)

    def page(self, view: str, after: str, limit: int, **where: str | None) -> list[Doc]:
        keys = sorted(k for (v, k), d in self._docs.items() if v == view and k > after and all(
            val is None or d.get(c) == val for c, val in where.items()))
        return self.get_many(view, keys[:limit])

    def reset(self) -> None:
        self._docs.clear()
        self._position = 0


class _Staged:
    def __init__(self, store: MemoryViewStore) -> None:
        self.store = store
        self.changes: dict[tuple[str, str], Doc] = {}

    def get(self, view: str, key: str) -> Doc | None:
        if (view, key) in self.changes:
            doc: Doc = json.loads(json.dumps(self.changes[(view, key)]))
            return doc
        return self.store.get(view, key)

    def put(self, view: str, key: str, doc: Doc, *, owned: bool = False) -> None:
        self.changes[(view, key)] = doc if owned else json.loads(json.dumps(doc, default=str))
