"""The application's events as a verified feed for the projections."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from application.ports import FeedItem, HistoryEntry, IntegrityViolationError
from infrastructure.signed_events import (
    Envelope,
    SignedMapper,
    TamperedEventError,
    check_signatures,
)

T = TypeVar("T")
_PARALLEL_FROM = 32
"""Uncached signatures in a page from which checking them on threads pays."""


def _parsed(state: bytes) -> Envelope | None:
    try:
        return Envelope.parse(bytes(state))
    except ValueError:
        return None  # the check names what is wrong with it


class SignedEventFeed:
    def __init__(self, recorder: ApplicationRecorder, mapper: SignedMapper) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def read(self, after: int, limit: int) -> list[FeedItem]:
        notifications = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        envelopes = [_parsed(n.state) for n in notifications]
        # Signature checks release the GIL: many uncached ones are spread over every
        # core first; a page of batch-signed saves needs only one per save, and then
        # threads would cost more than they save.
        check_signatures(self.mapper.signer, notifications, envelopes, self._run)
        opened = self.mapper.open_many(notifications, envelopes)  # raises on a forgery
        return [FeedItem(n.id, event, checked.prev, checked.event_hash)
                for n, (event, checked) in zip(notifications, opened, strict=True)]

    def _run(self, verify: Callable[[T], bool], jobs: list[T]) -> None:
        if len(jobs) < _PARALLEL_FROM:
            for job in jobs:
                verify(job)
            return
        with self._pool_lock:  # queries read the feed from several threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="feed")
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
