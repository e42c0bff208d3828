"""Invalidating in-process caches through the database (PostgreSQL ``LISTEN/NOTIFY``).

Several service instances may share one PostgreSQL database. The only in-process cache
that could outlive a change made by another instance is the subject-key vault's cache of
unwrapped data keys (:class:`infrastructure.subject_keys.SubjectKeyVault`): a cull
(crypto-shredding) in one instance must blank that subject's data in every instance at
once, not when the cached key expires. So:

- the write that destroys a key sends ``NOTIFY custody_invalidate`` **in the same
  transaction** (:func:`notify`): the notification is delivered if and only if the
  destruction commits;
- every instance runs one :class:`InvalidationListener` (a thread with a connection of
  its own, ``LISTEN custody_invalidate``) that hands each notification of its store
  (schema) to the handler of its kind — the vault forgets that subject's key for good;
- on (re)connecting, *after* ``LISTEN`` took effect, the listener calls ``on_reset``:
  everything cached is dropped, since notifications sent while it was away are lost.

Staff, tokens and web sessions are not cached between requests (``Custody.authenticate``
reads the staff member's newer events on every call; tokens and sessions are rows read
each time), so a revocation needs no message. On SQLite there is one process by design:
the vaults of that process on the same key file are told directly (:func:`local_peers`).

May import: psycopg, the standard library.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger("custody.invalidation")

CHANNEL = "custody_invalidate"
"""One channel for the database; the payload names the store (schema) it is about."""

RECONNECT_DELAY = 1.0


def payload(schema: str, kind: str, key: str) -> str:
    return f"{schema}|{kind}|{key}"


def notify(cur: Any, schema: str, kind: str, key: str) -> None:
    """Send the invalidation inside the caller's transaction (delivered on commit)."""
    cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(schema, kind, key)))


class InvalidationListener:
    """Listens on :data:`CHANNEL` for one store (schema) and dispatches by kind."""

    def __init__(self, url: str, schema: str, *, handlers: dict[str, Callable[[str], None]],
                 on_reset: Callable[[], None], poll: float = 0.2) -> None:
        self.url = url
        self.schema = schema
        self.handlers = handlers
        self.on_reset = on_reset
        self.poll = poll
        self.received = 0
        """Notifications of this store handled so far."""
        self.resets = 0
        """How many times everything cached was dropped (each (re)connection)."""
        self.backend_pid: int | None = None
        """The server process of the listening connection (for tests and logs)."""
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None

    def start(self, wait: float = 5.0) -> None:
        """Start listening; returns once listening (or after ``wait`` seconds)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="cache-invalidation",
                                            daemon=True)
            self._thread.start()
        self.connected.wait(wait)

    def _loop(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                self._listen_once()
            except psycopg.Error as error:
                if not self._stop.is_set():
                    log.warning("cache invalidation listener lost its connection: %s", error)
            finally:
                self.connected.clear()
                self._close()
            self._stop.wait(RECONNECT_DELAY)

    def _listen_once(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        self._conn.execute(f"LISTEN {CHANNEL}")
        self.backend_pid = self._conn.info.backend_pid
        # Anything cached before LISTEN took effect may have missed its notification.
        self.on_reset()
        self.resets += 1
        self.connected.set()
        prefix = f"{self.schema}|"
        while not self._stop.is_set():
            for note in self._conn.notifies(timeout=self.poll):
                if note.payload.startswith(prefix):
                    self._dispatch(note.payload[len(prefix):])
                if self._stop.is_set():
                    return

    def _dispatch(self, rest: str) -> None:
        kind, _, key = rest.partition("|")
        handler = self.handlers.get(kind)
        if handler is None:
            return
        try:
            handler(key)
        except Exception:  # a bad payload must not stop the listener
            log.exception("cache invalidation %s %r failed; dropping everything", kind, key)
            self.on_reset()
        self.received += 1

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: S110 - closing a broken connection; nothing to do
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


_PEERS: dict[str, weakref.WeakSet[Any]] = {}
_PEERS_LOCK = threading.Lock()


def local_peers(key: str, member: Any | None = None) -> list[Any]:
    """The live objects of this process registered under ``key`` (e.g. the vaults on one
    SQLite key file); ``member`` joins them first."""
    with _PEERS_LOCK:
        peers = _PEERS.setdefault(key, weakref.WeakSet())
        if member is not None:
            peers.add(member)
        return list(peers)
