"""Reading the raw stored events in ``seq`` order, without decoding them."""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.signed_events import canonical_id
from infrastructure.verification import Row


def iter_rows(recorder: ApplicationRecorder, *, batch: int = 5000, after: int = 0,
              upto: int | None = None) -> Iterator[Row]:
    """Every stored event with its seq, oldest first (``after`` < seq ≤ ``upto``)."""
    start = after
    while True:
        notifications = recorder.select_notifications(
            start, batch, stop=upto, inclusive_of_start=False
        )
        if not notifications:
            return
        for n in notifications:
            yield n.id, canonical_id(n.originator_id), n.originator_version, n.topic, bytes(n.state)
        start = notifications[-1].id
        if upto is not None and start >= upto:
            return


def count_events(recorder: ApplicationRecorder) -> int:
    return recorder.max_notification_id() or 0
