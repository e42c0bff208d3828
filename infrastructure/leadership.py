"""Which process runs the background work: the projection follower and the log sealer.

Several service instances (or uvicorn workers) may share one PostgreSQL database. Each
serves HTTP and keeps its reads fresh by catching the views up itself (read-your-writes),
but only one should follow the log and seal checkpoints: two would do the same work twice
and fight over the same rows. The leader is the process holding a session-level advisory
lock on a connection of its own. When that process dies, PostgreSQL ends its session and
releases the lock; another instance takes it within ``interval`` seconds and starts the
followers. Correctness never rests on the lease — the views are applied with a
compare-and-set and the log never signs an inconsistent checkpoint — it only keeps the
work from being done twice.

On SQLite there is one process by design (documented): it always leads.

May import: psycopg, the standard library.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("custody.leadership")


def lease_key(schema: str) -> int:
    """One advisory-lock key per store (schema), as a signed 64-bit integer."""
    digest = hashlib.sha256(f"records-custody:followers:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """Holds (or waits for) the followers' lease on PostgreSQL."""

    def __init__(self, url: str, schema: str, *, on_gain: Callable[[], None],
                 on_loss: Callable[[], None], interval: float = 1.0) -> None:
        self.url = url
        self.schema = schema
        self.key = lease_key(schema)
        self.on_gain = on_gain
        self.on_loss = on_loss
        self.interval = interval
        self.leader = False
        self.gained = 0
        """How many times this process became the leader."""
        self._conn: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="leadership", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.interval)

    def step(self) -> None:
        """Try to take the lease, or check that the connection holding it is alive."""
        import psycopg

        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
            if not self.leader:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                         (self.key,)).fetchone()
                if row and row[0]:
                    self.leader = True
                    self.gained += 1
                    log.info("this process leads: it runs the follower and the sealer")
                    self.on_gain()
            else:
                self._conn.execute("SELECT 1")
        except psycopg.Error as error:
            log.warning("leadership connection lost: %s", error)
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: S110 - closing a broken connection; nothing to do
                pass
        if self.leader:
            self.leader = False
            log.warning("this process no longer leads: follower and sealer stopped")
            self.on_loss()

    def stop(self) -> None:
        """Stop trying; a leader stops its followers and releases the lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._drop()
