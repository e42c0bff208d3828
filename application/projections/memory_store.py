"""The same views in memory, for replaying up to a moment (as-of queries, offline checks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from application import docjson
from application.ports import (
    Doc,
    ViewWriter,
)
from application.progress import count_progress
from application.readiness import count_readiness


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
        self._docs.update((key, staged.changes[key]) for key in staged.dirty)
        self._position = new_position

    def get(self, view: str, key: str) -> Doc | None:
        doc = self._docs.get((view, key))
        return docjson.plain_copy(doc) if doc is not None else None

    def get_many(self, view: str, keys: Sequence[str]) -> list[Doc]:
        return [doc for doc in (self.get(view, key) for key in keys) if doc is not None]

    def find(self, view: str, **where: str | None) -> list[Doc]:
        return [docjson.plain_copy(d) for (v, _), d in self._docs.items()
                if v == view and all(d.get(k) == val for k, val in where.items())]

    def all(self, view: str) -> list[Doc]:
        return self.find(view)

    def page(self, view: str, after: str, limit: int, **where: str | None) -> list[Doc]:
        keys = sorted(k for (v, k), d in self._docs.items() if v == view and k > after and all(
            val is None or d.get(c) == val for c, val in where.items()))
        return self.get_many(view, keys[:limit])

    def find_joined(self, view: str, joined: str, on: str,
                    keep: Callable[[Doc], bool] | None = None,
                    **where: str | None) -> list[tuple[Doc, Doc | None]]:
        found = sorted(((k, d) for (v, k), d in self._docs.items() if v == view
                        and all(d.get(c) == val for c, val in where.items())),
                       key=lambda kd: kd[0])
        docs = [docjson.plain_copy(d) for _, d in found]
        return [(d, self.get(joined, str(d[on])) if d.get(on) is not None else None)
                for d in docs if keep is None or keep(d)]

    def progress_counts(self) -> dict[str, dict[str, int]]:
        return count_progress(
            (d for (v, _), d in self._docs.items() if v == "records"),
            (d for (v, _), d in self._docs.items() if v == "copies"))

    def readiness_counts(self) -> Doc:
        return count_readiness(self.all("records"),
                               (d for (v, _), d in self._docs.items() if v == "copies"))

    def reset(self) -> None:
        self._docs.clear()
        self._position = 0


class _Staged:
    """A batch's documents. What it hands out is staged and handed out again, not copied:
    the projector changes a document and puts it back; only what was put is kept."""

    def __init__(self, store: MemoryViewStore) -> None:
        self.store = store
        self.changes: dict[tuple[str, str], Doc] = {}
        self.dirty: set[tuple[str, str]] = set()

    def get(self, view: str, key: str) -> Doc | None:
        staged = self.changes.get((view, key))
        if staged is not None:
            return staged
        doc = self.store.get(view, key)  # a copy: the stored one is never changed in place
        if doc is not None:
            self.changes[(view, key)] = doc
        return doc

    def put(self, view: str, key: str, doc: Doc, *, owned: bool = False) -> None:
        self.dirty.add((view, key))
        if owned or self.changes.get((view, key)) is doc:
            self.changes[(view, key)] = doc
        else:
            self.changes[(view, key)] = docjson.plain_copy(doc)
