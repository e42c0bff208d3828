"""The outcome of a write, found out before anyone is told about it.

A database error while inserting events does not mean nothing was stored: the
connection can be lost while ``COMMIT`` is on its way (the server committed, the client
never heard), and the library's PostgreSQL recorder retries an insert after a connection
error — its second attempt then meets the rows of its own committed first attempt and
raises ``IntegrityError``, which looks exactly like someone else's concurrent change.

So after any database error the store looks for the rows it tried to write (the same
bytes at the same record and version: a signed envelope is unique) and:

- all there → the write was committed: it is a success, whatever the error said;
- none there → nothing was stored: the original error stands (503 or 409 upstream);
- the look itself fails → :class:`CommitOutcomeUnknownError` (503 that says so).

May import: the standard library, eventsourcing's persistence types, ``application``.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import AggregateRecorder, PersistenceError, StoredEvent

from application.ports import CommitOutcomeUnknownError

log = logging.getLogger("custody.store")

LOOK_ATTEMPTS = 4
"""How often the store tries to find out whether a failed write was stored (a pool
replaces dead connections between attempts)."""


def is_database_error(error: BaseException) -> bool:
    if isinstance(error, (PersistenceError, sqlite3.Error)):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.Error)


def insert_and_confirm(recorder: AggregateRecorder, stored_events: Sequence[StoredEvent],
                       insert: Callable[..., Sequence[int] | None] | None = None,
                       **kwargs: Any) -> Sequence[int] | None:
    """``recorder.insert_events`` (or ``insert``, another writer into the same
    recorder's table), but a failure is only reported when nothing was stored; a write
    that was committed returns notification ids like a success."""
    try:
        return (insert or recorder.insert_events)(list(stored_events), **kwargs)
    except Exception as error:
        if not is_database_error(error) or not stored_events:
            raise
        failure = error
    heal_pool(recorder)
    for attempt in range(LOOK_ATTEMPTS):
        try:
            stored = _all_stored(recorder, stored_events)
            last = _max_notification_id(recorder) if stored else None
        except Exception as error:
            if not is_database_error(error):
                raise
            time.sleep(0.05 * (attempt + 1))
            continue
        if not stored:
            raise failure
        log.warning("a write reported %s was committed all the same (%d events); "
                    "answered as stored", type(failure).__name__, len(stored_events))
        return [last] * len(stored_events) if last is not None else None
    raise CommitOutcomeUnknownError(
        "the database connection was lost while the change was being committed, and "
        "whether it was stored could not be found out: look (GET) before trying again"
    ) from failure


def heal_pool(recorder: object) -> None:
    """Check every idle connection of the recorder's pool (PostgreSQL) and replace the
    dead ones: after one connection was lost, the others usually were too."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    check = getattr(pool, "check", None)
    if check is None:
        return
    try:
        check()
    except Exception as error:  # the look below finds out what matters
        log.warning("checking the event store's connections failed: %s", error)


def _all_stored(recorder: AggregateRecorder, stored_events: Sequence[StoredEvent]) -> bool:
    """Whether every one of these exact events is in the store (one query per record)."""
    by_record: dict[Any, list[StoredEvent]] = {}
    for event in stored_events:
        by_record.setdefault(event.originator_id, []).append(event)
    for originator_id, events in by_record.items():
        low = min(e.originator_version for e in events)
        high = max(e.originator_version for e in events)
        found = {s.originator_version: bytes(s.state) for s in recorder.select_events(
            originator_id, gt=low - 1, lte=high)}
        for event in events:
            if found.get(event.originator_version) != bytes(event.state):
                return False
    return True


def _max_notification_id(recorder: AggregateRecorder) -> int | None:
    latest = getattr(recorder, "max_notification_id", None)
    if latest is None:
        return None
    value = latest()
    return int(value) if value is not None else None
