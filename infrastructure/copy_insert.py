"""Bulk insert of stored events on PostgreSQL by binary ``COPY``.

The library's PostgreSQL recorder inserts a save's rows with ``INSERT … SELECT … FROM
unnest(%s)`` and ``RETURNING notification_id``: measured here at 160-220 µs per event,
where ``COPY … FROM STDIN (FORMAT BINARY)`` of the same rows takes about 37 µs. The
import (large batches of new records) uses :class:`CopyWriter`; every other save stays
on the library's insert.

What the library's insert guarantees, and how this keeps it:

- **Commit order is notification-id order, without gaps filled in later.** The same
  transaction first runs the recorder's own ``_lock_table`` (``SET LOCAL lock_timeout``,
  ``LOCK TABLE … IN EXCLUSIVE MODE``) and ``_notify_channel`` (``NOTIFY`` on the
  recorder's channel, so a listening follower wakes up at commit), then its
  ``_insert_events`` hook, exactly as the library does.
- **Notification ids from the table's own sequence, in the order of the events.** Under
  the lock, the ids are drawn with ``nextval`` on the ``notification_id`` column's
  sequence (the column default the library's insert uses), one per event, ascending,
  and written with the rows: the stored rows are the same bytes the library's insert
  would store, and the ids are returned without reading the rows back.
- **A conflict is an ``IntegrityError`` and stores nothing.** The primary key on
  ``(originator_id, originator_version)`` fails the ``COPY``; the transaction rolls back
  and the datastore's connection context turns psycopg's error into eventsourcing's
  ``IntegrityError``, as for the library's insert. (The sequence values drawn are lost,
  as they are when the library's insert fails.)
- **Connection errors are retried** like the library's insert (``retry`` on
  ``InterfaceError``/``OperationalError``); a lost commit acknowledgement is settled by
  ``write_outcome.insert_and_confirm`` around it.

May import: psycopg, the eventsourcing library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

BULK: str = "bulk"
"""The keyword of ``Application.save(..., bulk=True)`` that asks for this writer."""


class CopyWriter:
    """Inserts stored events into one PostgreSQL application recorder's table by COPY."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder
        schema = recorder.datastore.schema
        table = recorder.events_table_name
        qualified = ".".join(_quoted(part) for part in (schema, table) if part)
        self._id_type = recorder.datastore.originator_id_type
        self._next_ids = SQL(
            "SELECT nextval(pg_get_serial_sequence({qualified}, 'notification_id')) "
            "FROM generate_series(1, %s)"
        ).format(qualified=Literal(qualified))
        self._copy = SQL(
            "COPY {schema}.{table} (originator_id, originator_version, topic, state, "
            "notification_id) FROM STDIN (FORMAT BINARY)"
        ).format(schema=Identifier(schema), table=Identifier(table))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> list[int]:
        """Insert the rows in one transaction; their notification ids, in event order."""
        if not stored_events:
            return []
        recorder = self.recorder
        with recorder.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                recorder._insert_events(curs, stored_events, **kwargs)  # the library's hook
                recorder._lock_table(curs)
                recorder._notify_channel(curs)
                curs.execute(self._next_ids, (len(stored_events),))
                ids = sorted(int(row["nextval"]) for row in curs.fetchall())
                with curs.copy(self._copy) as copy:
                    copy.set_types([self._id_type, "int8", "text", "bytea", "int8"])
                    for event, notification_id in zip(stored_events, ids, strict=True):
                        copy.write_row((event.originator_id, event.originator_version,
                                        event.topic, event.state, notification_id))
        return ids


def _quoted(name: str) -> str:
    """A quoted identifier, as ``pg_get_serial_sequence`` reads its table argument."""
    return '"' + name.replace('"', '""') + '"'


def copy_writer_for(recorder: AggregateRecorder) -> CopyWriter | None:
    """A COPY writer for a PostgreSQL application recorder; None for any other store."""
    if isinstance(recorder, PostgresApplicationRecorder):
        return CopyWriter(recorder)
    return None
