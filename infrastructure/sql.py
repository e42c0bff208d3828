"""A thin shared layer over sqlite3 and psycopg for the tables we own (keys, the
transparency log, views). Statements are written with ``%s`` placeholders; the SQLite
side rewrites them to ``?``. Each ``transaction()`` commits on success and rolls back
on error.
"""

from __future__ import annotations

import select
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Database(Protocol):
    dialect: str

    def transaction(self) -> Any: ...
    def reading(self) -> Any: ...
    def close(self) -> None: ...


class _SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql.replace("%s", "?"), tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql.replace("%s", "?"), [tuple(p) for p in params])

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class SQLiteDatabase:
    """One connection per thread; WAL so readers never wait for the writer."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # Deleted content (a destroyed data key) is overwritten, not left in free pages.
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteCursor]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(cursor)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cursor.close()

    @contextmanager
    def reading(self) -> Iterator[_SQLiteCursor]:
        conn = self._connection()
        cursor = conn.cursor()
        try:
            yield _SQLiteCursor(cursor)
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # closed from its own thread already
                    pass
            self._all.clear()
        self._local = threading.local()


class PostgresDatabase:
    """A small psycopg pool with the schema on the search path."""

    dialect = "postgres"

    def __init__(self, url: str, schema: str = "public", *, max_size: int = 12) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        self.schema = schema
        options = f"-c search_path={schema}" if schema != "public" else ""
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            # Autocommit: a read is one round trip (no COMMIT after it); every write
            # runs in an explicit ``transaction()`` block all the same.
            kwargs={"autocommit": True, **({"options": options} if options else {})},
            timeout=10,
            open=True,
        )

    @contextmanager
    def _checked_connection(self) -> Iterator[Any]:
        """A pooled connection that is alive. A backend that was terminated (or a server
        that went away) has sent its goodbye: the idle socket is readable, which one
        ``select`` with no wait sees without a round trip; only then is the connection
        really checked. A dead one is dropped and every idle connection of the pool is
        checked and replaced at once, so the requests after a lost connection do not
        fail one by one on stale ones. (The pool's own ``check=`` costs a round trip per
        use and sleeps with an exponential backoff after each dead connection — 1 s,
        2 s, 4 s… — a 10 s stall after all connections were lost.)"""
        import psycopg
        from psycopg_pool import ConnectionPool

        for attempt in range(self.pool.max_size + 2):
            conn = self.pool.getconn()
            if not _may_be_dead(conn):
                break
            try:
                ConnectionPool.check_connection(conn)
            except psycopg.Error:
                self.pool.putconn(conn)  # broken: the pool discards it
                if attempt == 0:
                    self.pool.check()
                continue
            break
        else:
            raise psycopg.OperationalError("no working database connection in the pool")
        try:
            yield conn
        finally:
            self.pool.putconn(conn)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._checked_connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self._checked_connection() as conn, conn.cursor() as cursor:
            yield cursor

    def heal(self) -> None:
        """Check every idle pooled connection now; replace the dead ones."""
        self.pool.check()

    def close(self) -> None:
        self.pool.close()


def _may_be_dead(conn: Any) -> bool:
    """Whether an idle connection may be dead: closed, broken, or its socket readable
    (an idle connection is sent nothing unless the server is closing it)."""
    if conn.closed or conn.broken:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def blob(dialect: str) -> str:
    return "BYTEA" if dialect == "postgres" else "BLOB"
