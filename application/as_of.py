"""The views as they stood at a moment, read from indexed history instead of a replay.

- Copies: the projector keeps every state of every copy in ``copy_states`` with the time
  and ``seq`` it began and ended, indexed by place (a school unit, or ``archive``). A
  school's holdings as of a moment read that school's states (one indexed query) and keep
  those valid then; the shelf list reads the archive's.
- A record: replayed from its own events only (one query for the record's events,
  through the same projector), never the whole log.

What is not history: the personal data shown beside a copy and the record's own school
unit are today's (a record is found by its id; names do not change; a culled record's
personal data is gone for every moment).

May import: ``application`` and ``domain``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from application.ports import Doc, FeedItem, ViewStore, ViewWriter
from application.progress import count_progress
from application.projections import MemoryViewStore, Projector
from application.readiness import count_readiness

ARCHIVE_PLACE = "archive"


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def valid_at(state: Doc, instant: dt.datetime) -> bool:
    """Whether a copy state held at ``instant``: began at or before it, ended after it."""
    began = _instant(state.get("valid_from"))
    ended = _instant(state.get("valid_to"))
    return began is not None and began <= instant and (ended is None or ended > instant)


def _as_copy(state: Doc) -> Doc:
    copy = {k: v for k, v in state.items()
            if k not in ("copy_id", "valid_from", "valid_to", "valid_from_seq", "valid_to_seq")}
    copy["id"] = state["copy_id"]
    copy["school_id"] = None if state["school_id"] == ARCHIVE_PLACE else state["school_id"]
    return copy


class ViewsAsOf:
    """The read side of a :class:`ViewStore` as of ``instant``, for the queries that list
    copies by place (holdings, shelf list). Copies come from ``copy_states``; other views
    are today's, except that what did not exist yet (a school unit registered later) is
    not there."""

    def __init__(self, views: ViewStore, instant: dt.datetime) -> None:
        self.views = views
        self.instant = instant
        self._records: dict[str, Doc] = {}

    def position(self) -> int:
        return self.views.position()

    def apply(self, expected_position: int, new_position: int,
              change: Callable[[ViewWriter], None], hints: Sequence[str] = ()) -> None:
        raise TypeError("the views as of a moment are read-only")

    def reset(self) -> None:
        raise TypeError("the views as of a moment are read-only")

    def _copies_at(self, place: str) -> list[Doc]:
        states = self.views.find("copy_states", school_id=place)
        copies = [_as_copy(s) for s in states if valid_at(s, self.instant)]
        self._prefetch_records(copies)
        return copies

    def _prefetch_records(self, copies: list[Doc]) -> None:
        """The records beside the copies listed, in one query (each is read next)."""
        wanted = sorted({str(c["record_id"]) for c in copies} - set(self._records))
        for doc in self.views.get_many("records", wanted):
            self._records[str(doc["id"])] = doc

    def find(self, view: str, **where: str | None) -> list[Doc]:
        if view == "copies" and set(where) == {"school_id"}:
            return self._copies_at(where["school_id"] or ARCHIVE_PLACE)
        if view == "copies":
            raise ValueError("copies as of a moment are found by place (school_id) only")
        return [d for d in self.views.find(view, **where) if self._existed(view, d)]

    def all(self, view: str) -> list[Doc]:
        if view == "copies":
            copies = [_as_copy(s) for s in self.views.all("copy_states")
                      if valid_at(s, self.instant)]
            self._prefetch_records(copies)
            return copies
        return [d for d in self.views.all(view) if self._existed(view, d)]

    def get(self, view: str, key: str) -> Doc | None:
        if view == "copies":
            raise ValueError("copies as of a moment are found by place (school_id)")
        doc = self._records.get(key) if view == "records" else None
        doc = doc if doc is not None else self.views.get(view, key)
        return doc if doc is not None and self._existed(view, doc) else None

    def get_many(self, view: str, keys: Sequence[str]) -> list[Doc]:
        return [d for d in self.views.get_many(view, keys) if self._existed(view, d)]

    def page(self, view: str, after: str, limit: int, **where: str | None) -> list[Doc]:
        """Keyset paging as the live store does it, of what existed at the moment
        (copies are found by place only, as in :meth:`find`)."""
        if view == "copies":
            raise ValueError("copies as of a moment are found by place (school_id)")
        found: list[Doc] = []
        while len(found) < limit:
            batch = self.views.page(view, after, limit, **where)
            if not batch:
                break
            found.extend(d for d in batch if self._existed(view, d))
            after = str(batch[-1].get("id", after))
            if len(batch) < limit:
                break
        return found[:limit]

    def find_joined(self, view: str, joined: str, on: str,
                    keep: Callable[[Doc], bool] | None = None,
                    **where: str | None) -> list[tuple[Doc, Doc | None]]:
        """Like the live store's; copies with their records read the records in one
        query per 500 (:meth:`find` fetches them beside the copies)."""
        found = sorted(self.find(view, **where), key=lambda d: str(d.get("id", "")))
        return [(d, self.get(joined, str(d[on])) if d.get(on) is not None else None)
                for d in found if keep is None or keep(d)]

    def progress_counts(self) -> dict[str, dict[str, int]]:
        return count_progress(self.all("records"), self.all("copies"))

    def readiness_counts(self) -> Doc:
        return count_readiness(self.all("records"), self.all("copies"))

    def _existed(self, view: str, doc: Doc) -> bool:
        since = doc.get("registered_at") or doc.get("captured_at")
        began = _instant(since) if isinstance(since, str) else None
        return began is None or began <= self.instant


def record_as_of(items: Sequence[FeedItem], instant: dt.datetime,
                 projector: Projector | None = None) -> MemoryViewStore:
    """A record's own events (in version order) up to ``instant``, projected."""
    store = MemoryViewStore()
    kept = [item for item in items if item.event.timestamp <= instant]
    if not kept:
        return store
    projector = projector or Projector()

    def change(w: ViewWriter) -> None:
        for item in kept:
            projector.apply(w, item)

    store.apply(0, kept[-1].seq, change)
    return store
