"""Checking and decoding pages of the log in worker processes (rebuilds, large catch-ups).

A worker gets raw rows and the public keys, and gives back for each row what the
in-process path learns: the signature/inclusion check (key id, previous hash, event
hash, or the problem found) and the decoded payload, its personal data still sealed.
Workers never write anything and never see a data key: the parent fetches a page's
data keys in one query and opens the sealed parts itself (a few µs per event), then
applies the results in log order, so exactly-once and the chain checks are unchanged.

A worker that dies breaks the pool: :class:`FeedWorkerError` is raised, and the runner
stops loudly (it never skips the page). The pool is replaced on the next use.

``CUSTODY_REBUILD_WORKERS``: how many (default: the CPU count; 0 or 1: in the process).
``CUSTODY_REBUILD_POOL``: ``thread`` (default: signatures checked on threads, decoding
in the process) or ``process`` (this module). See ``docs/performance.md`` for figures.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from eventsourcing.persistence import JSONTranscoder

from application.projections.errors import FeedWorkerError
from infrastructure.signed_events import Envelope, check_stored_event

Row = tuple[str, int, str, bytes]
"""(originator id, version, topic, state) of one stored event."""
Opened = tuple[str | None, str, str, str, str, Any]
"""(problem, record id, key id, previous hash, event hash, decoded payload or None)."""

POOL_KINDS = ("thread", "process")
DEFAULT_POOL = "thread"


def configured_workers() -> int:
    """``CUSTODY_REBUILD_WORKERS``, or the CPU count; below 2 means in the process."""
    text = os.environ.get("CUSTODY_REBUILD_WORKERS", "").strip()
    if not text:
        return os.cpu_count() or 1
    try:
        return max(0, int(text))
    except ValueError as error:
        raise ValueError(f"CUSTODY_REBUILD_WORKERS must be a whole number, not {text!r}") \
            from error


def configured_pool() -> str:
    kind = os.environ.get("CUSTODY_REBUILD_POOL", "").strip().lower() or DEFAULT_POOL
    if kind not in POOL_KINDS:
        raise ValueError(f"CUSTODY_REBUILD_POOL must be one of {', '.join(POOL_KINDS)}, "
                         f"not {kind!r}")
    return kind


# -- in the worker --------------------------------------------------------------------

_state: dict[str, Any] = {}


def _codec() -> JSONTranscoder:
    codec = _state.get("codec")
    if codec is None:
        from infrastructure.offline import transcoder

        codec = _state["codec"] = transcoder()
    return codec


def open_rows(rows: Sequence[Row], raw_keys: dict[str, bytes]) -> list[Opened]:
    """Check and decode rows (in a worker process; pure: reads and writes nothing).
    The signatures verified are remembered for this call only (a batch-signed save
    costs one verification), so every call checks its rows afresh."""
    from infrastructure.verification import RawKeys

    keys, codec = RawKeys(raw_keys), _codec()
    out: list[Opened] = []
    for originator_id, version, topic, state in rows:
        try:
            envelope: Envelope | None = Envelope.parse(state)
        except ValueError:
            envelope = None
        checked = check_stored_event(originator_id, version, topic, state, keys,
                                     envelope=envelope)
        problem = checked.problem or (None if envelope is not None else "malformed envelope")
        payload = None if problem or envelope is None else codec.decode(envelope.payload)
        out.append((problem, checked.record_id, checked.kid, checked.prev,
                    checked.event_hash, payload))
    return out


# -- in the parent --------------------------------------------------------------------


class WorkerPool:
    """A lazily started pool of ``workers`` processes (forkserver: the service's
    threads and connections are never forked)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.pages = 0
        """Pages checked and decoded by the workers so far."""

    def open_page(self, rows: Sequence[Row], raw_keys: dict[str, bytes]) -> list[Opened]:
        """Every row checked and decoded, in order; raises :class:`FeedWorkerError` if a
        worker died (the page is never partly returned)."""
        with self._lock:
            if self._pool is None:
                method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
                    else "spawn"
                self._pool = ProcessPoolExecutor(self.workers,
                                                 mp_context=multiprocessing.get_context(method))
            pool = self._pool
        size = -(-len(rows) // self.workers)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        try:
            futures = [pool.submit(open_rows, chunk, raw_keys) for chunk in chunks]
            opened: list[Opened] = []
            for future in futures:
                opened.extend(future.result())
        except BrokenProcessPool as error:
            self._discard(pool)
            raise FeedWorkerError(
                f"a feed worker process died while checking a page of {len(rows)} events "
                f"({error}); nothing of the page was applied") from error
        self.pages += 1
        return opened

    def pids(self) -> list[int]:
        """The workers' process ids (started ones; for tests and diagnostics)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return sorted(processes)

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
