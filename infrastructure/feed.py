"""The application's events as a verified feed for the projections."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from application.ports import FeedItem, HistoryEntry
from infrastructure.signed_events import SignedMapper, TamperedEventError


class SignedEventFeed:
    def __init__(self, recorder: ApplicationRecorder, mapper: SignedMapper) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self._pool: ThreadPoolExecutor | None = None

    def read(self, after: int, limit: int) -> list[FeedItem]:
        notifications = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        if len(notifications) >= 64:
            # Signature checks release the GIL: a long page is checked on every core.
            if self._pool is None:
                self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="feed")
            opened = list(self._pool.map(self.mapper.open, notifications, chunksize=32))
        else:
            opened = [self.mapper.open(n) for n in notifications]  # raises on a forgery
        return [FeedItem(n.id, event, checked.prev, checked.event_hash)
                for n, (event, checked) in zip(notifications, opened, strict=True)]

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
