"""Which aggregate ids are in the event store, reading ids only (issue 18).

The inventory import asks this of every student and item in the file before it saves
anything. Each backend answers from its primary key ``(originator_id,
originator_version)`` in chunks of ids: an index lookup per id that never reads an
event's ``state``, so a re-run of a big file does not read the store's events back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

_CHUNK: Final = 500  # ids per query (SQLite allows 32766 parameters; plans stay small)


def stored_ids(recorder: AggregateRecorder, ids: Sequence[UUID]) -> set[UUID]:
    """The ids in ``ids`` that have at least one event in ``recorder``'s table."""
    found: set[UUID] = set()
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        if isinstance(recorder, PostgresAggregateRecorder):
            found |= _postgres(recorder, chunk)
        elif isinstance(recorder, SQLiteAggregateRecorder):
            found |= _sqlite(recorder, chunk)
        else:  # any other recorder (the library's in-memory one): its own lookup
            found |= {i for i in chunk if recorder.select_events(i, limit=1)}
    return found


def _postgres(recorder: PostgresAggregateRecorder, ids: list[UUID]) -> set[UUID]:
    text = recorder.datastore.originator_id_type == "text"
    statement = SQL(
        "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
    ).format(schema=Identifier(recorder.datastore.schema),
             table=Identifier(recorder.events_table_name))
    params = [str(i) for i in ids] if text else ids
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, (params,))
        return {UUID(str(row["originator_id"])) for row in curs.fetchall()}


def _sqlite(recorder: SQLiteAggregateRecorder, ids: list[UUID]) -> set[UUID]:
    marks = ",".join("?" * len(ids))
    statement = (f"SELECT DISTINCT originator_id FROM {recorder.events_table_name} "
                 f"WHERE originator_id IN ({marks})")
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, [i.hex for i in ids])
        return {UUID(str(row["originator_id"])) for row in c.fetchall()}
