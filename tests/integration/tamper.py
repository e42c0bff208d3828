"""Direct changes to the database behind the service's back, for tamper tests."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

import psycopg

from infrastructure.bootstrap import Runtime


class Tamperer:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pg = rt.settings.uses_postgres

    def _run(self, sql_sqlite: str, sql_pg: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.pg:
            schema = self.rt.settings.database_schema
            with psycopg.connect(self.rt.settings.database_url or "", autocommit=True) as conn:
                cur = conn.execute(sql_pg.replace("EVENTS", f'"{schema}".custody_events'), params)
                return cur.fetchall() if cur.description else []
        conn = sqlite3.connect(self.rt.settings.data_dir / "events.sqlite", isolation_level=None)
        try:
            cur = conn.execute(sql_sqlite.replace("EVENTS", "stored_events").replace("%s", "?"),
                               params)
            return cur.fetchall()
        finally:
            conn.close()

    def _id(self, record_id: UUID) -> Any:
        return record_id if self.pg else record_id.hex

    def row(self, record_id: UUID, version: int) -> tuple[str, bytes]:
        rows = self._run(
            "SELECT topic, state FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            "SELECT topic, state FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            (self._id(record_id), version),
        )
        return rows[0][0], bytes(rows[0][1])

    def seq(self, record_id: UUID, version: int) -> int:
        rows = self._run(
            "SELECT rowid FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            "SELECT notification_id FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            (self._id(record_id), version),
        )
        return int(rows[0][0])

    def set_row(self, record_id: UUID, version: int, topic: str, state: bytes) -> None:
        self._run(
            "UPDATE EVENTS SET topic=%s, state=%s WHERE originator_id=%s AND originator_version=%s",
            "UPDATE EVENTS SET topic=%s, state=%s WHERE originator_id=%s AND originator_version=%s",
            (topic, state, self._id(record_id), version),
        )

    def flip_byte(self, record_id: UUID, version: int, offset: int = -5) -> None:
        topic, state = self.row(record_id, version)
        data = bytearray(state)
        data[offset] ^= 0x01
        self.set_row(record_id, version, topic, bytes(data))

    def delete(self, record_id: UUID, version: int) -> None:
        self._run(
            "DELETE FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            "DELETE FROM EVENTS WHERE originator_id=%s AND originator_version=%s",
            (self._id(record_id), version),
        )

    def insert(self, record_id: UUID, version: int, topic: str, state: bytes) -> None:
        self._run(
            "INSERT INTO EVENTS (originator_id, originator_version, topic, state) "
            "VALUES (%s,%s,%s,%s)",
            "INSERT INTO EVENTS (originator_id, originator_version, topic, state) "
            "VALUES (%s,%s,%s,%s)",
            (self._id(record_id), version, topic, state),
        )

    def dump_everything(self) -> bytes:
        """Every byte the service stored: all SQLite files, or every PostgreSQL table."""
        if not self.pg:
            chunks = []
            for path in sorted(self.rt.settings.data_dir.rglob("*")):
                if path.is_file():
                    chunks.append(path.read_bytes())
            return b"\n".join(chunks)
        schema = self.rt.settings.database_schema
        out = []
        with psycopg.connect(self.rt.settings.database_url or "", autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema=%s",
                (schema,),
            ).fetchall()
            for (table,) in tables:
                for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                    for value in row:
                        out.append(bytes(value) if isinstance(value, bytes | memoryview)
                                   else str(value).encode())
        return b"\n".join(out)
