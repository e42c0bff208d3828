"""The gate between captures and the archive agreement's termination, across processes.

Captures hold the gate shared, a termination holds it alone (see
``application.ports.AgreementGate``). PostgreSQL: a session-level advisory lock (shared
/ exclusive), keyed by the schema, so every service instance and the command line on one
store wait for each other. SQLite: ``flock`` on a file beside the store.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from infrastructure.sql import PostgresDatabase


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"records-custody:agreement:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresAgreementGate:
    def __init__(self, url: str, schema: str) -> None:
        # Its own connections: a capture holds one while its save uses the store's.
        self.db = PostgresDatabase(url, schema, max_size=20)
        self.key = _lock_key(schema)

    @contextmanager
    def _held(self, mode: str) -> Iterator[None]:
        lock, unlock = (("pg_advisory_lock_shared", "pg_advisory_unlock_shared")
                        if mode == "shared" else ("pg_advisory_lock", "pg_advisory_unlock"))
        # A checked connection: one the server closed meanwhile (a restart, terminated
        # backends) is replaced, not used to refuse the capture.
        with self.db._checked_connection() as conn:
            conn.execute(f"SELECT {lock}(%s)", (self.key,))
            try:
                yield
            finally:
                try:
                    conn.execute(f"SELECT {unlock}(%s)", (self.key,))
                except psycopg.Error:
                    pass  # the session is gone, and its advisory lock with it

    @contextmanager
    def capturing(self) -> Iterator[None]:
        with self._held("shared"):
            yield

    @contextmanager
    def terminating(self) -> Iterator[None]:
        with self._held("exclusive"):
            yield

    def close(self) -> None:
        self.db.close()


class FileAgreementGate:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)

    @contextmanager
    def _held(self, operation: int) -> Iterator[None]:
        with open(self.path, "rb") as handle:
            fcntl.flock(handle.fileno(), operation)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def capturing(self) -> Iterator[None]:
        with self._held(fcntl.LOCK_SH):
            yield

    @contextmanager
    def terminating(self) -> Iterator[None]:
        with self._held(fcntl.LOCK_EX):
            yield
