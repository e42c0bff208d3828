"""The application's events as a verified feed for the projections."""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder

from application.ports import FeedItem
from infrastructure.signed_events import SignedMapper


class SignedEventFeed:
    def __init__(self, recorder: ApplicationRecorder, mapper: SignedMapper) -> None:
        self.recorder = recorder
        self.mapper = mapper

    def read(self, after: int, limit: int) -> list[FeedItem]:
        notifications = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        items = []
        for n in notifications:
            event, checked = self.mapper.open(n)  # raises TamperedEventError on a forgery
            items.append(FeedItem(n.id, event, checked.prev, checked.event_hash))
        return items

    def last_seq(self) -> int:
        return self.recorder.max_notification_id() or 0
