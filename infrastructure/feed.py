"""The application's events as a verified feed for the projections."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from application.ports import FeedItem, HistoryEntry, IntegrityViolationError
from infrastructure.feed_workers import (
    WorkerPool,
    configured_pool,
    configured_workers,
)
from infrastructure.signed_events import (
    CheckedEvent,
    Envelope,
    SignedMapper,
    TamperedEventError,
    canonical_id,
    check_signatures,
)

T = TypeVar("T")
_PARALLEL_FROM = 32
"""Uncached signatures in a page from which checking them on threads pays."""
_PROCESSES_FROM = 64
"""Events in a page from which worker processes are used (``pool="process"``): a
rebuild's or a large catch-up's pages, never a live event or a short poll."""


def _parsed(state: bytes) -> Envelope | None:
    try:
        return Envelope.parse(bytes(state))
    except ValueError:
        return None  # the check names what is wrong with it


class SignedEventFeed:
    def __init__(self, recorder: ApplicationRecorder, mapper: SignedMapper, *,
                 workers: int | None = None, pool: str | None = None) -> None:
        """``workers`` (default ``CUSTODY_REBUILD_WORKERS``, else the CPU count; 0 or 1:
        everything in this process) check signatures on threads or, with ``pool=
        "process"`` (default ``CUSTODY_REBUILD_POOL``), check and decode whole pages in
        worker processes (``feed_workers.py``)."""
        self.recorder = recorder
        self.mapper = mapper
        self.workers = configured_workers() if workers is None else max(0, workers)
        self.pool_kind = configured_pool() if pool is None else pool
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.processes: WorkerPool | None = (
            WorkerPool(self.workers) if self.pool_kind == "process" and self.workers > 1
            else None)

    def read(self, after: int, limit: int) -> list[FeedItem]:
        notifications = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        raw_keys = getattr(self.mapper.signer, "raw", None)
        if (self.processes is not None and raw_keys is not None
                and len(notifications) >= _PROCESSES_FROM):
            return self._read_in_processes(notifications, self.processes, raw_keys)
        envelopes = [_parsed(n.state) for n in notifications]
        # Signature checks release the GIL: many uncached ones are spread over every
        # core first; a page of batch-signed saves needs only one per save, and then
        # threads would cost more than they save.
        check_signatures(self.mapper.signer, notifications, envelopes, self._run)
        opened = self.mapper.open_many(notifications, envelopes)  # raises on a forgery
        return [FeedItem(n.id, event, checked.prev, checked.event_hash)
                for n, (event, checked) in zip(notifications, opened, strict=True)]

    def _read_in_processes(self, notifications: Sequence[Notification],
                           processes: WorkerPool,
                           raw_keys: Callable[[], dict[str, bytes]]) -> list[FeedItem]:
        """The page checked and decoded by the worker processes; the first event that
        fails its check is raised as in this process; the page's data keys are fetched
        in one query and the sealed parts opened here."""
        keys = self.mapper.signer
        for kid in {n.state[5:13].decode("ascii", "replace") for n in notifications}:
            _ = kid in keys  # a key added by a rotation elsewhere is looked up first
        rows = [(canonical_id(n.originator_id), n.originator_version, n.topic, bytes(n.state))
                for n in notifications]
        opened = processes.open_page(rows, raw_keys())
        states: list[tuple[dict[str, Any], CheckedEvent]] = []
        for n, (problem, rid, kid, prev, event_hash, payload) in zip(
                notifications, opened, strict=True):
            if problem is not None or payload is None:
                raise TamperedEventError(rid, n.originator_version,
                                         problem or "malformed envelope", n.id)
            states.append((payload, CheckedEvent(rid, n.originator_version, n.topic, kid, prev,
                                                 event_hash, None)))
        prefetch = getattr(self.mapper.sealer, "prefetch", None)
        if prefetch is not None:
            prefetch({state["subject"] for state, _ in states
                      if isinstance(state.get("personal"), dict)
                      and "sealed" in state["personal"]})
        return [FeedItem(n.id, self.mapper._event(n, state, checked), checked.prev,
                         checked.event_hash)
                for n, (state, checked) in zip(notifications, states, strict=True)]

    def close(self) -> None:
        """Stop the worker processes and threads (the runtime's close)."""
        if self.processes is not None:
            self.processes.close()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _run(self, verify: Callable[[T], bool], jobs: list[T]) -> None:
        if self.workers <= 1 or len(jobs) < _PARALLEL_FROM:
            for job in jobs:
                verify(job)
            return
        with self._pool_lock:  # queries read the feed from several threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="feed")
            pool = self._pool
        list(pool.map(verify, jobs))

    def last_seq(self) -> int:
        return self.recorder.max_notification_id() or 0


class SignedHistory:
    """A record's stored events, each checked; a bad one is reported, not raised."""

    def __init__(self, recorder: ApplicationRecorder, mapper: SignedMapper) -> None:
        self.recorder = recorder
        self.mapper = mapper

    def history(self, record_id: UUID) -> list[HistoryEntry]:
        entries = []
        for stored in self.recorder.select_events(record_id):
            try:
                event, checked = self.mapper.open(stored)
            except TamperedEventError as error:
                entries.append(HistoryEntry(stored.originator_version, stored.topic, "", False,
                                            error.problem, None))
                continue
            entries.append(HistoryEntry(stored.originator_version, stored.topic, checked.kid,
                                        True, None, event))
        return entries

    def own_events(self, record_id: UUID, seqs: Sequence[int]) -> list[FeedItem]:
        items = []
        for stored in self.recorder.select_events(record_id):
            try:
                event, checked = self.mapper.open(stored)
            except TamperedEventError as error:
                raise IntegrityViolationError(str(error)) from error
            index = stored.originator_version - 1
            seq = seqs[index] if 0 <= index < len(seqs) else 0
            items.append(FeedItem(seq, event, checked.prev, checked.event_hash))
        return items
